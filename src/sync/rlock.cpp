#include "multiproc/error.hpp"
#include "multiproc/lock.hpp"
#include "sync/lock_ops.hpp"

namespace multiproc {

using detail::LockKind;
using detail::SharedKind;

RLock::RLock() : handle_(detail::create_lock(SharedKind::rlock, "RLock")) {}

AcquireResult RLock::acquire() {
  return detail::lock_acquire(handle_, LockKind::recursive, sys::Deadline::never(),
                              "RLock::acquire");
}

AcquireResult RLock::acquire(std::chrono::nanoseconds timeout) {
  return detail::lock_acquire(handle_, LockKind::recursive, sys::Deadline::after(timeout),
                              "RLock::acquire");
}

AcquireResult RLock::try_acquire() {
  return detail::lock_try_acquire(handle_, LockKind::recursive, "RLock::try_acquire");
}
void RLock::release() {
  detail::lock_release(handle_, LockKind::recursive, "RLock::release");
}
void RLock::make_consistent() {
  detail::lock_make_consistent(handle_, "RLock::make_consistent");
}
void RLock::lock() {
  detail::lock_lock(handle_, LockKind::recursive, "RLock::lock");
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
  int levels = detail::lock_release_all(detail::lock_state(handle_, "Condition::wait"));
  if (levels < 0) throw UsageError("Condition::wait: this thread does not hold the RLock");
  return levels;
}

void RLock::reacquire(int levels) {
  detail::LockState& s = detail::lock_state(handle_, "Condition::wait");
  detail::lock_result(s, detail::lock_restore(s, levels), "Condition::wait");
}

}  // namespace multiproc
