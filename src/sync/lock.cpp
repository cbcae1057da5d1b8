#include "multiproc/lock.hpp"

#include "sync/robust_mutex.hpp"

namespace multiproc {

using detail::SharedKind;

Lock::Lock()
    : handle_(detail::create_mutex(SharedKind::lock, detail::MutexType::error_checking, "Lock")) {}

AcquireResult Lock::acquire() {
  return detail::mutex_acquire(handle_, sys::Deadline::never(), "Lock::acquire");
}

AcquireResult Lock::acquire(std::chrono::nanoseconds timeout) {
  return detail::mutex_acquire(handle_, sys::Deadline::after(timeout), "Lock::acquire");
}

AcquireResult Lock::try_acquire() {
  return detail::mutex_try_acquire(handle_, "Lock::try_acquire");
}
void Lock::release() {
  detail::mutex_release(handle_, "Lock::release");
}
void Lock::make_consistent() {
  detail::mutex_make_consistent(handle_, "Lock::make_consistent");
}
void Lock::lock() {
  detail::mutex_lock(handle_, "Lock::lock");
}
bool Lock::try_lock() {
  return detail::mutex_try_lock(handle_, "Lock::try_lock");
}
int Lock::fd() const {
  return handle_.fd("Lock::fd");
}

Lock Lock::from_fd(int fd) {
  return Lock(detail::SharedHandle::adopt(fd, SharedKind::lock, detail::kMutexLayout, "Lock"));
}

}  // namespace multiproc
