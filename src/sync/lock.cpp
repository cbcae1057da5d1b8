#include "multiproc/lock.hpp"

#include "sync/lock_ops.hpp"

namespace multiproc {

using detail::LockKind;
using detail::SharedKind;

Lock::Lock() : handle_(detail::create_lock(SharedKind::lock, "Lock")) {}

AcquireResult Lock::acquire_contended() {
  return detail::lock_acquire_slow(state("Lock::acquire"), LockKind::plain, sys::Deadline::never(),
                                   "Lock::acquire");
}

AcquireResult Lock::acquire(std::chrono::nanoseconds timeout) {
  return detail::lock_acquire(handle_, LockKind::plain, sys::Deadline::after(timeout),
                              "Lock::acquire");
}

AcquireResult Lock::try_acquire() {
  return detail::lock_try_acquire(handle_, LockKind::plain, "Lock::try_acquire");
}

void Lock::release_slow() {
  detail::lock_release_slow(state("Lock::release"), LockKind::plain, "Lock::release");
}

void Lock::make_consistent() {
  detail::lock_make_consistent(handle_, "Lock::make_consistent");
}

void Lock::lock_contended() {
  detail::lock_lock_slow(state("Lock::lock"), LockKind::plain, "Lock::lock");
}

bool Lock::try_lock() {
  return detail::lock_try_lock(handle_, LockKind::plain, "Lock::try_lock");
}

int Lock::fd() const {
  return handle_.fd("Lock::fd");
}

Lock Lock::from_fd(int fd) {
  return Lock(detail::adopt_lock(fd, SharedKind::lock, "Lock"));
}

}  // namespace multiproc
