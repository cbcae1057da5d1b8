// The operations Lock and RLock share, on the LockState behind a handle,
// with lock_core's results turned into the public AcquireResult and errors.
// `operation` ("Lock::acquire", ...) names the call in every error.
#pragma once

#include "multiproc/detail/shared_handle.hpp"
#include "multiproc/lock.hpp"
#include "sync/lock_core.hpp"
#include "sys/deadline.hpp"
#include "sys/thread_identity.hpp"

namespace multiproc::detail {

// A new region holding a free lock.
SharedHandle create_lock(SharedKind kind, const char* type_name);
// A handle to the lock behind `fd`.
SharedHandle adopt_lock(int fd, SharedKind kind, const char* type_name);

inline LockState& lock_state(const SharedHandle& h, const char* operation) {
  return *static_cast<LockState*>(h.checked(operation));
}

AcquireResult lock_acquire_slow(LockState& s, LockKind kind, const sys::Deadline& deadline,
                                const char* operation);

// acquire(), acquire(timeout): acquired, owner_died or timed_out; throws
// LockNotRecoverable, UsageError (a non-recursive lock taken twice by one
// thread, a moved-from handle) or SystemError.
inline AcquireResult lock_acquire(const SharedHandle& h, LockKind kind,
                                  const sys::Deadline& deadline, const char* operation) {
  LockState& s = lock_state(h, operation);
  if (lock_acquire_fast(s, sys::this_thread_identity().word())) [[likely]] {
    return AcquireResult::acquired;
  }
  return lock_acquire_slow(s, kind, deadline, operation);
}
// try_acquire(): timed_out when the lock is held by another thread (or, for
// a non-recursive lock, by this one).
AcquireResult lock_try_acquire(const SharedHandle& h, LockKind kind, const char* operation);
// release() beyond the fast path: the levels of an RLock, a lock left
// inconsistent; UsageError when this thread does not hold the lock.
void lock_release_slow(LockState& s, LockKind kind, const char* operation);
// make_consistent(): UsageError unless held in the owner-died state.
void lock_make_consistent(const SharedHandle& h, const char* operation);
// lock() / try_lock() beyond the fast path: on owner death, release without
// marking consistent (the lock becomes unrecoverable) and throw OwnerDied.
void lock_lock_slow(LockState& s, LockKind kind, const char* operation);
bool lock_try_lock(const SharedHandle& h, LockKind kind, const char* operation);

// lock()'s outcome for a lock_core result `err` on `s`: true when held,
// false when busy; owner death abandons the lock and throws OwnerDied.
bool lock_result(LockState& s, int err, const char* operation);

}  // namespace multiproc::detail
