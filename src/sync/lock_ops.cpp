#include "sync/lock_ops.hpp"

#include <cerrno>
#include <string>

#include "multiproc/error.hpp"

namespace multiproc::detail {
namespace {

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
    case EAGAIN:
      throw UsageError(std::string(operation) + ": too many recursive levels (2^32 - 1)");
    default:
      throw SystemError(operation, err);
  }
}

}  // namespace

SharedHandle create_lock(SharedKind kind, const char* type_name) {
  lock_process_init();
  SharedHandle h = SharedHandle::create(kind, kLockLayout, type_name);
  new (h.state()) LockState{};
  return h;
}

SharedHandle adopt_lock(int fd, SharedKind kind, const char* type_name) {
  lock_process_init();
  return SharedHandle::adopt(fd, kind, kLockLayout, type_name);
}

AcquireResult lock_acquire_slow(LockState& s, LockKind kind, const sys::Deadline& deadline,
                                const char* operation) {
  return acquire_result(lock_acquire(s, kind, deadline), operation);
}

void lock_release_slow(LockState& s, LockKind kind, const char* operation) {
  if (lock_release(s, kind) != 0) {
    throw UsageError(std::string(operation) + ": this thread does not hold the lock");
  }
}

AcquireResult lock_try_acquire(const SharedHandle& h, LockKind kind, const char* operation) {
  int err = lock_try_acquire(lock_state(h, operation), kind);
  return acquire_result(err == EDEADLK ? EBUSY : err, operation);
}

void lock_make_consistent(const SharedHandle& h, const char* operation) {
  if (lock_make_consistent(lock_state(h, operation)) == 0) return;
  throw UsageError(std::string(operation) +
                   ": the lock is not held in the owner-died state (call it only after acquire() "
                   "returned owner_died)");
}

bool lock_result(LockState& s, int err, const char* operation) {
  switch (acquire_result(err, operation)) {
    case AcquireResult::acquired:
      return true;
    case AcquireResult::timed_out:
      return false;
    case AcquireResult::owner_died:
      break;
  }
  // Released unrepaired: the lock becomes unrecoverable for everyone.
  lock_abandon(s);
  throw OwnerDied(std::string(operation) +
                  ": the previous owner died holding the lock; the state it protects cannot be "
                  "trusted, so the lock is now unrecoverable (use acquire() and "
                  "make_consistent() to recover from owner death)");
}

void lock_lock_slow(LockState& s, LockKind kind, const char* operation) {
  lock_result(s, lock_acquire(s, kind, sys::Deadline::never()), operation);
}

bool lock_try_lock(const SharedHandle& h, LockKind kind, const char* operation) {
  LockState& s = lock_state(h, operation);
  int err = lock_try_acquire(s, kind);
  return lock_result(s, err == EDEADLK ? EBUSY : err, operation);
}

}  // namespace multiproc::detail
