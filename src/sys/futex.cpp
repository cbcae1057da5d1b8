#include "sys/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace multiproc::sys {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "futex words must be plain lock-free 32-bit atomics");

namespace {
auto* address(const std::atomic<std::uint32_t>& word) noexcept {
  return const_cast<std::uint32_t*>(reinterpret_cast<const std::uint32_t*>(&word));
}
}  // namespace

int futex_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
               const Deadline& deadline) noexcept {
  timespec ts;
  // FUTEX_WAIT_BITSET takes an absolute timeout on CLOCK_MONOTONIC.
  long r = ::syscall(SYS_futex, address(word), FUTEX_WAIT_BITSET, expected, deadline.absolute(ts),
                     nullptr, FUTEX_BITSET_MATCH_ANY);
  if (r == 0 || errno == EAGAIN) return 0;  // woken, or the value had changed
  return -errno;
}

int futex_wake(const std::atomic<std::uint32_t>& word, int count) noexcept {
  long r = ::syscall(SYS_futex, address(word), FUTEX_WAKE, count, nullptr, nullptr, 0);
  return r < 0 ? -errno : static_cast<int>(r);
}

}  // namespace multiproc::sys
