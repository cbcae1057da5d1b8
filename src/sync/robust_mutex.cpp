#include "sync/robust_mutex.hpp"

#include <cerrno>
#include <ctime>
#include <string>

#include "multiproc/error.hpp"

namespace multiproc::detail {
namespace {

pthread_mutex_t* mutex_of(const SharedHandle& h, const char* operation) {
  return static_cast<pthread_mutex_t*>(h.checked(operation));
}

AcquireResult acquire_result(int err, const char* operation) {
  switch (err) {
    case 0:
      return AcquireResult::acquired;
    case EOWNERDEAD:
      return AcquireResult::owner_died;
    case ETIMEDOUT:
    case EBUSY:
      return AcquireResult::timed_out;
    case ENOTRECOVERABLE:
      throw LockNotRecoverable(std::string(operation) +
                               ": the lock is not recoverable: an owner died holding it and it "
                               "was released without make_consistent()");
    case EDEADLK:
      throw UsageError(std::string(operation) +
                       ": this thread already holds the lock (acquiring it again would deadlock; "
                       "use RLock for a recursive lock)");
    default:
      throw SystemError(operation, err);
  }
}

// lock()'s contract on top of acquire_result.
bool lock_result(pthread_mutex_t* mutex, int err, const char* operation) {
  switch (acquire_result(err, operation)) {
    case AcquireResult::acquired:
      return true;
    case AcquireResult::timed_out:
      return false;
    case AcquireResult::owner_died:
      break;
  }
  // Released unrepaired: the lock becomes unrecoverable for everyone.
  pthread_mutex_unlock(mutex);
  throw OwnerDied(std::string(operation) +
                  ": the previous owner died holding the lock; the state it protects cannot be "
                  "trusted, so the lock is now unrecoverable (use acquire() and "
                  "make_consistent() to recover from owner death)");
}

// pthread_mutex_trylock's job, done with a deadline already past: glibc
// 2.36's trylock leaves a robust mutex that is not recoverable locked by the
// caller (it compares the old lock word with the caller's TID), so every
// later lock of that thread fails with EDEADLK. clocklock takes the same
// fast path and releases the word correctly. On a contended mutex it costs
// one futex call that returns at once.
int robust_mutex_trylock(pthread_mutex_t* mutex) noexcept {
  static constexpr timespec kPast{0, 0};
  return pthread_mutex_clocklock(mutex, CLOCK_MONOTONIC, &kPast);
}

}  // namespace

int robust_mutex_init(pthread_mutex_t* mutex, MutexType type) noexcept {
  pthread_mutexattr_t attr;
  int err = pthread_mutexattr_init(&attr);
  if (err != 0) return err;
  int kind = type == MutexType::recursive ? PTHREAD_MUTEX_RECURSIVE : PTHREAD_MUTEX_ERRORCHECK;
  err = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  if (err == 0) err = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  if (err == 0) err = pthread_mutexattr_settype(&attr, kind);
  if (err == 0) err = pthread_mutex_init(mutex, &attr);
  pthread_mutexattr_destroy(&attr);
  return err;
}

SharedHandle create_mutex(SharedKind kind, MutexType type, const char* type_name) {
  SharedHandle h = SharedHandle::create(kind, kMutexLayout, type_name);
  int err = robust_mutex_init(static_cast<pthread_mutex_t*>(h.state()), type);
  if (err != 0) throw SystemError(std::string(type_name) + ": pthread_mutex_init", err);
  return h;
}

int robust_mutex_lock(pthread_mutex_t* mutex, const sys::Deadline& deadline) noexcept {
  timespec ts;
  const timespec* at = deadline.absolute(ts);
  if (at == nullptr) return pthread_mutex_lock(mutex);
  return pthread_mutex_clocklock(mutex, CLOCK_MONOTONIC, at);
}

AcquireResult mutex_acquire(const SharedHandle& h, const sys::Deadline& deadline,
                            const char* operation) {
  return acquire_result(robust_mutex_lock(mutex_of(h, operation), deadline), operation);
}

AcquireResult mutex_try_acquire(const SharedHandle& h, const char* operation) {
  int err = robust_mutex_trylock(mutex_of(h, operation));
  return acquire_result(err == EDEADLK ? EBUSY : err, operation);
}

void mutex_release(const SharedHandle& h, const char* operation) {
  int err = pthread_mutex_unlock(mutex_of(h, operation));
  if (err == 0) return;
  if (err == EPERM)
    throw UsageError(std::string(operation) + ": this thread does not hold the lock");
  throw SystemError(operation, err);
}

void mutex_make_consistent(const SharedHandle& h, const char* operation) {
  int err = pthread_mutex_consistent(mutex_of(h, operation));
  if (err == 0) return;
  if (err == EINVAL) {
    throw UsageError(std::string(operation) +
                     ": the lock is not in the owner-died state (call it only after acquire() "
                     "returned owner_died)");
  }
  throw SystemError(operation, err);
}

void mutex_lock(const SharedHandle& h, const char* operation) {
  pthread_mutex_t* m = mutex_of(h, operation);
  lock_result(m, pthread_mutex_lock(m), operation);
}

bool mutex_try_lock(const SharedHandle& h, const char* operation) {
  pthread_mutex_t* m = mutex_of(h, operation);
  int err = robust_mutex_trylock(m);
  return lock_result(m, err == EDEADLK ? EBUSY : err, operation);
}

}  // namespace multiproc::detail
