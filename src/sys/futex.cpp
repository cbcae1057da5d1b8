#include "sys/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bit>
#include <cerrno>

namespace multiproc::sys {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "futex words must be plain lock-free 32-bit atomics");
static_assert(sizeof(std::atomic<std::uint64_t>) == sizeof(std::uint64_t) &&
                  std::atomic<std::uint64_t>::is_always_lock_free &&
                  std::endian::native == std::endian::little,
              "a 64-bit word's low half must be its first four bytes");

namespace {

// The kernel only ever sees the address: no C++ access goes through it.
void* address(const void* word) noexcept {
  return const_cast<void*>(word);
}

int wait_at(const void* word, std::uint32_t expected, const Deadline& deadline) noexcept {
  timespec ts;
  // FUTEX_WAIT_BITSET takes an absolute timeout on CLOCK_MONOTONIC.
  long r = ::syscall(SYS_futex, address(word), FUTEX_WAIT_BITSET, expected, deadline.absolute(ts),
                     nullptr, FUTEX_BITSET_MATCH_ANY);
  if (r == 0 || errno == EAGAIN) return 0;  // woken, or the value had changed
  return -errno;
}

int wake_at(const void* word, int count) noexcept {
  long r = ::syscall(SYS_futex, address(word), FUTEX_WAKE, count, nullptr, nullptr, 0);
  return r < 0 ? -errno : static_cast<int>(r);
}

}  // namespace

int futex_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
               const Deadline& deadline) noexcept {
  return wait_at(&word, expected, deadline);
}

int futex_wake(const std::atomic<std::uint32_t>& word, int count) noexcept {
  return wake_at(&word, count);
}

int futex_wait_low(const std::atomic<std::uint64_t>& word, std::uint32_t expected,
                   const Deadline& deadline) noexcept {
  return wait_at(&word, expected, deadline);
}

int futex_wake_low(const std::atomic<std::uint64_t>& word, int count) noexcept {
  return wake_at(&word, count);
}

}  // namespace multiproc::sys
