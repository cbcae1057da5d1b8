// The robust, process-shared pthread mutex under Lock, RLock and Barrier:
// initialisation, and the operations Lock and RLock share, with pthread's
// results turned into the public AcquireResult and errors. `operation`
// ("Lock::acquire", ...) names the call in every error.
#pragma once

#include <pthread.h>

#include "multiproc/detail/shared_handle.hpp"
#include "multiproc/lock.hpp"
#include "sys/deadline.hpp"

namespace multiproc::detail {

enum class MutexType { error_checking, recursive };

// The layout of a region that holds one mutex.
inline constexpr SharedLayout kMutexLayout{sizeof(pthread_mutex_t), 1, alignof(pthread_mutex_t)};

// Initialises a PTHREAD_PROCESS_SHARED, PTHREAD_MUTEX_ROBUST mutex in zeroed
// shared memory. Returns 0 or an errno value.
int robust_mutex_init(pthread_mutex_t* mutex, MutexType type) noexcept;

// A new region holding an initialised mutex; throws SystemError.
SharedHandle create_mutex(SharedKind kind, MutexType type, const char* type_name);

// pthread_mutex_lock, or pthread_mutex_clocklock on CLOCK_MONOTONIC for a
// finite deadline. Returns 0, EOWNERDEAD, ETIMEDOUT or another errno.
int robust_mutex_lock(pthread_mutex_t* mutex, const sys::Deadline& deadline) noexcept;

// acquire(), acquire(timeout): acquired, owner_died or timed_out; throws
// LockNotRecoverable, UsageError (already held by this non-recursive lock's
// thread, or a moved-from handle) or SystemError.
AcquireResult mutex_acquire(const SharedHandle& h, const sys::Deadline& deadline,
                            const char* operation);
// try_acquire(): timed_out when the lock is held by anyone, this thread included.
AcquireResult mutex_try_acquire(const SharedHandle& h, const char* operation);
// release(): UsageError when this thread does not hold the lock.
void mutex_release(const SharedHandle& h, const char* operation);
// make_consistent(): UsageError unless held in the owner-died state.
void mutex_make_consistent(const SharedHandle& h, const char* operation);
// lock() / try_lock(): on owner death, release without marking consistent
// (the lock becomes unrecoverable) and throw OwnerDied.
void mutex_lock(const SharedHandle& h, const char* operation);
bool mutex_try_lock(const SharedHandle& h, const char* operation);

}  // namespace multiproc::detail
