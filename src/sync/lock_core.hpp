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

#include "multiproc/detail/shared_handle.hpp"
#include "sys/deadline.hpp"
#include "sys/membarrier.hpp"

namespace multiproc::detail {

struct LockState {
  // 0: free; else the owner's ThreadIdentity::word() (TID in the low half,
  // which is the futex word), or kNotRecoverable.
  std::atomic<std::uint64_t> word;
  std::atomic<std::uint32_t> sleepers;      // threads in futex_wait on the word
  std::atomic<std::uint32_t> inconsistent;  // 1 after an owner death, until make_consistent
  std::uint32_t depth;                      // levels held; written by the owner only
};

inline constexpr SharedLayout kLockLayout{sizeof(LockState), 1, alignof(LockState)};

// Never an owner: TIDs stay below 2^22 (PID_MAX_LIMIT).
inline constexpr std::uint64_t kNotRecoverable = ~std::uint64_t{0};
// How often a sleeping waiter checks whether the owner is still alive.
inline constexpr std::chrono::milliseconds kCheckInterval{10};

enum class LockKind { plain, recursive };

// Prepares this process to use locks (the membarrier registration). Call on
// every handle creation; cheap after the first call.
void lock_process_init() noexcept;

// Whether this process's releases may use the light barrier (it registered).
extern std::atomic<bool> g_light_release;
void wake_one_sleeper(LockState& s) noexcept;

// The uncontended paths, inline. `me` is sys::this_thread_identity().word().
// Acquire: the lock was free and is now the caller's.
inline bool lock_acquire_fast(LockState& s, std::uint64_t me) noexcept {
  std::uint64_t expected = 0;
  if (!s.word.compare_exchange_strong(expected, me, std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
    return false;
  }
  s.depth = 1;
  return true;
}

// Release of a lock the caller holds at one level, in a consistent state:
// false (nothing done) otherwise, for lock_release to handle.
inline bool lock_release_fast(LockState& s, std::uint64_t me) noexcept {
  if (s.word.load(std::memory_order_relaxed) != me || s.depth != 1 ||
      s.inconsistent.load(std::memory_order_relaxed) != 0) {
    return false;
  }
  s.word.store(0, std::memory_order_release);
  // Pairs with the waiter's heavy barrier (or, without membarrier, its
  // seq_cst increment): either this load sees the sleeper, or the sleeper's
  // futex sees the released word.
  if (g_light_release.load(std::memory_order_relaxed)) {
    sys::light_barrier();
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  if (s.sleepers.load(std::memory_order_relaxed) != 0) wake_one_sleeper(s);
  return true;
}

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
