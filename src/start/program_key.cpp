#include "start/program_key.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cstdlib>

namespace multiproc::detail {
namespace {

ProgramKey make_key() noexcept {
  ProgramKey key{};
  std::size_t got = 0;
  while (got < key.size()) {
    ssize_t n = ::getrandom(key.data() + got, key.size() - got, 0);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      break;
    }
  }
  if (got < key.size()) {
    // No getrandom (seccomp, an old kernel): the device it reads.
    int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? ::read(fd, key.data(), key.size()) : -1;
    if (fd >= 0) ::close(fd);
    if (n != static_cast<ssize_t>(key.size())) std::abort();  // no key, no safe messages
  }
  return key;
}

// Dynamic initialisation, so that it exists before main and is inherited by
// every fork.
ProgramKey g_key = make_key();

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

const ProgramKey& program_key() noexcept {
  return g_key;
}

std::string program_key_hex() {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : g_key) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

bool adopt_program_key(std::string_view hex) noexcept {
  ProgramKey key{};
  if (hex.size() != key.size() * 2) return false;
  for (std::size_t i = 0; i < key.size(); ++i) {
    int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    key[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  g_key = key;
  return true;
}

}  // namespace multiproc::detail
