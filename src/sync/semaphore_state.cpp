#include "sync/semaphore_state.hpp"

#include <cerrno>

#include "sys/futex.hpp"
#include "sys/spin.hpp"

namespace multiproc::detail {

bool semaphore_try_acquire(SemaphoreState& s) noexcept {
  std::uint32_t v = s.value.load(std::memory_order_relaxed);
  while (v > 0) {
    if (s.value.compare_exchange_weak(v, v - 1, std::memory_order_acquire,
                                      std::memory_order_relaxed))
      return true;
  }
  return false;
}

int semaphore_acquire(SemaphoreState& s, const sys::Deadline& deadline) noexcept {
  for (;;) {
    if (semaphore_try_acquire(s)) return 1;
    if (sys::spin_until([&s] { return s.value.load(std::memory_order_relaxed) != 0; }) &&
        semaphore_try_acquire(s)) {
      return 1;
    }
    // Announce the sleeper before the futex re-reads `value` (both seq_cst):
    // either release() sees the sleeper and wakes it, or the futex sees the
    // new unit and does not sleep.
    s.sleepers.fetch_add(1, std::memory_order_seq_cst);
    int r = sys::futex_wait(s.value, 0, deadline);
    s.sleepers.fetch_sub(1, std::memory_order_relaxed);
    if (r == -ETIMEDOUT) return semaphore_try_acquire(s) ? 1 : 0;
    if (r < 0 && r != -EINTR) return r;
  }
}

int semaphore_release(SemaphoreState& s) noexcept {
  std::uint32_t v = s.value.load(std::memory_order_relaxed);
  do {
    if (v >= s.max) return -EOVERFLOW;
  } while (!s.value.compare_exchange_weak(v, v + 1, std::memory_order_seq_cst,
                                          std::memory_order_relaxed));
  if (s.sleepers.load(std::memory_order_seq_cst) != 0) sys::futex_wake(s.value, 1);
  return 0;
}

}  // namespace multiproc::detail
