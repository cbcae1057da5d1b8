#include "multiproc/error.hpp"
#include "multiproc/lock.hpp"
#include "sync/robust_mutex.hpp"

namespace multiproc {

using detail::SharedKind;

RLock::RLock()
    : handle_(detail::create_mutex(SharedKind::rlock, detail::MutexType::recursive, "RLock")) {}

AcquireResult RLock::acquire() {
  return detail::mutex_acquire(handle_, sys::Deadline::never(), "RLock::acquire");
}

AcquireResult RLock::acquire(std::chrono::nanoseconds timeout) {
  return detail::mutex_acquire(handle_, sys::Deadline::after(timeout), "RLock::acquire");
}

AcquireResult RLock::try_acquire() {
  return detail::mutex_try_acquire(handle_, "RLock::try_acquire");
}
void RLock::release() {
  detail::mutex_release(handle_, "RLock::release");
}
void RLock::make_consistent() {
  detail::mutex_make_consistent(handle_, "RLock::make_consistent");
}
void RLock::lock() {
  detail::mutex_lock(handle_, "RLock::lock");
}
bool RLock::try_lock() {
  return detail::mutex_try_lock(handle_, "RLock::try_lock");
}
int RLock::fd() const {
  return handle_.fd("RLock::fd");
}

RLock RLock::from_fd(int fd) {
  return RLock(detail::SharedHandle::adopt(fd, SharedKind::rlock, detail::kMutexLayout, "RLock"));
}

int RLock::release_all() {
  auto* m = static_cast<pthread_mutex_t*>(handle_.checked("Condition::wait"));
  // The depth lives inside glibc's mutex: unlock until it says this thread no
  // longer holds it. A mutex held by another thread is left untouched (EPERM).
  int levels = 0;
  while (pthread_mutex_unlock(m) == 0) ++levels;
  if (levels == 0) throw UsageError("Condition::wait: this thread does not hold the RLock");
  return levels;
}

void RLock::reacquire(int levels) {
  for (int i = 0; i < levels; ++i) lock();
}

}  // namespace multiproc
