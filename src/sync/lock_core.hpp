// The robust lock under Lock, RLock and Barrier: a futex word in shared
// memory (never FUTEX_PRIVATE_FLAG) that holds its owner's identity.
//
// Uncontended, acquire is one compare-and-swap and release one plain store
// and a load of the sleeper count: the release pairs with a membarrier on
// the waiter's side (sys/membarrier.hpp), so no wake-up is lost. Where the
// kernel lacks membarrier, release uses a full fence instead.
//
// Owner death: the word names the owner by TID and start time
// (sys/thread_identity.hpp). A lock found held is checked against its owner:
// if that thread has ended (killed with its process, or exited) the caller
// takes the lock over and learns that the owner died (EOWNERDEAD), as with a
// robust pthread mutex. Sleepers wake every kCheckInterval to check, so a
// waiter learns of a death within that interval. The state the dead owner
// left is "inconsistent" until make_consistent(); released without it, the
// lock is not recoverable.
//
// Results are pthread's codes: 0, EOWNERDEAD, ETIMEDOUT, EBUSY (try),
// EDEADLK (a non-recursive lock taken twice by one thread), EPERM (released
// by a thread that does not hold it), ENOTRECOVERABLE, EINVAL, EAGAIN (too
// many recursive levels). Nothing here allocates or throws.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "multiproc/detail/lock_word.hpp"
#include "multiproc/detail/shared_handle.hpp"
#include "sys/deadline.hpp"

namespace multiproc::detail {

// LockState, the identity word and the uncontended paths are in
// multiproc/detail/lock_word.hpp.
inline constexpr SharedLayout kLockLayout{sizeof(LockState), 1, alignof(LockState)};

// Never an owner: TIDs stay below 2^22 (PID_MAX_LIMIT).
inline constexpr std::uint64_t kNotRecoverable = ~std::uint64_t{0};
// How often a sleeping waiter checks whether the owner is still alive.
inline constexpr std::chrono::milliseconds kCheckInterval{10};

enum class LockKind { plain, recursive };

// Prepares this process to use locks (the membarrier registration). Call on
// every handle creation; cheap after the first call.
void lock_process_init() noexcept;

int lock_acquire(LockState& s, LockKind kind, const sys::Deadline& deadline) noexcept;
int lock_try_acquire(LockState& s, LockKind kind) noexcept;
int lock_release(LockState& s, LockKind kind) noexcept;
int lock_make_consistent(LockState& s) noexcept;
// Releases a lock taken with EOWNERDEAD without repairing it: it becomes not
// recoverable, and every waiter is woken to learn so.
void lock_abandon(LockState& s) noexcept;

// For Condition over an RLock: releases every level the caller holds and
// returns how many (-EPERM if none); lock_restore takes them all back.
int lock_release_all(LockState& s) noexcept;
int lock_restore(LockState& s, int levels) noexcept;

}  // namespace multiproc::detail
