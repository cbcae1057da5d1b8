#include "multiproc/error.hpp"
#include "multiproc/lock.hpp"
#include "sync/lock_ops.hpp"

namespace multiproc {

using detail::LockKind;
using detail::SharedKind;

RLock::RLock() : handle_(detail::create_lock(SharedKind::rlock, "RLock")) {}

AcquireResult RLock::acquire_contended() {
  return detail::lock_acquire_slow(state("RLock::acquire"), LockKind::recursive,
                                   sys::Deadline::never(), "RLock::acquire");
}

AcquireResult RLock::acquire(std::chrono::nanoseconds timeout) {
  return detail::lock_acquire(handle_, LockKind::recursive, sys::Deadline::after(timeout),
                              "RLock::acquire");
}

AcquireResult RLock::try_acquire() {
  return detail::lock_try_acquire(handle_, LockKind::recursive, "RLock::try_acquire");
}

void RLock::release_slow() {
  detail::lock_release_slow(state("RLock::release"), LockKind::recursive, "RLock::release");
}

void RLock::make_consistent() {
  detail::lock_make_consistent(handle_, "RLock::make_consistent");
}

void RLock::lock_contended() {
  detail::lock_lock_slow(state("RLock::lock"), LockKind::recursive, "RLock::lock");
}

bool RLock::try_lock() {
  return detail::lock_try_lock(handle_, LockKind::recursive, "RLock::try_lock");
}

int RLock::fd() const {
  return handle_.fd("RLock::fd");
}

RLock RLock::from_fd(int fd) {
  return RLock(detail::adopt_lock(fd, SharedKind::rlock, "RLock"));
}

int RLock::release_all() {
  int levels = detail::lock_release_all(state("Condition::wait"));
  if (levels < 0) throw UsageError("Condition::wait: this thread does not hold the RLock");
  return levels;
}

void RLock::reacquire(int levels) {
  detail::LockState& s = state("Condition::wait");
  detail::lock_result(s, detail::lock_restore(s, levels), "Condition::wait");
}

}  // namespace multiproc
