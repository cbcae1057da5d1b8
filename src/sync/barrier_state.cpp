#include "sync/barrier_state.hpp"

#include <cerrno>
#include <climits>

#include "multiproc/error.hpp"
#include "sys/futex.hpp"

namespace multiproc::detail {

BarrierGuard::BarrierGuard(BarrierState& b) : b_(b) {
  lock();
}

BarrierGuard::~BarrierGuard() {
  if (held_) lock_release(b_.lock, LockKind::plain);
}

void BarrierGuard::lock() {
  int err = lock_acquire(b_.lock, LockKind::plain, sys::Deadline::never());
  held_ = err == 0 || err == EOWNERDEAD;
  if (err == EOWNERDEAD) {
    lock_make_consistent(b_.lock);
    barrier_break(b_);
  } else if (err != 0) {
    throw SystemError("Barrier: taking its lock", err);
  }
}

bool BarrierGuard::wait(const sys::Deadline& deadline) {
  std::uint32_t seen = b_.sequence.load(std::memory_order_acquire);
  lock_release(b_.lock, LockKind::plain);
  held_ = false;
  int r = 0;
  while (b_.sequence.load(std::memory_order_acquire) == seen) {
    r = sys::futex_wait(b_.sequence, seen, deadline);
    if (r == -ETIMEDOUT || (r < 0 && r != -EINTR)) break;
  }
  lock();
  if (r < 0 && r != -ETIMEDOUT) throw SystemError("Barrier::wait: futex wait", -r);
  return r == 0;
}

void barrier_notify_all(BarrierState& b) noexcept {
  b.sequence.fetch_add(1, std::memory_order_release);
  sys::futex_wake(b.sequence, INT_MAX);
}

void barrier_break(BarrierState& b) noexcept {
  b.phase = BarrierPhase::broken;
  barrier_notify_all(b);
}

}  // namespace multiproc::detail
