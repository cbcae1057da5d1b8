// Internal: the lock word under Lock and RLock, and their uncontended paths,
// inline so that an uncontended acquire+release costs one compare-and-swap
// and one store, without a call. Everything else is in src/sync/lock_core.
//
// The word holds its owner's identity: TID in the low half (the futex word),
// a tag from the thread's start time in the high half, so that a TID the
// kernel gave to another thread since is not mistaken for the owner.
#pragma once

#include <atomic>
#include <cstdint>

namespace multiproc::detail {

struct ThreadIdentity {
  std::uint32_t tid = 0;  // 0 until computed
  std::uint32_t tag = 0;  // from the thread's start time; never 0 when known
  std::uint64_t word() const noexcept { return std::uint64_t{tag} << 32 | tid; }
};

// The calling thread's identity, cached per thread (forgotten in a forked
// child). constinit: no initialisation wrapper on access; initial-exec: one
// %fs-relative load, also from a shared library.
extern constinit thread_local ThreadIdentity t_identity __attribute__((tls_model("initial-exec")));
// Reads /proc/thread-self/stat once per thread; not async-signal-safe.
const ThreadIdentity& compute_thread_identity() noexcept;

inline std::uint64_t this_thread_word() noexcept {
  if (t_identity.tid != 0) [[likely]]
    return t_identity.word();
  return compute_thread_identity().word();
}

struct LockState {
  // 0: free; else the owner's ThreadIdentity::word(), or kNotRecoverable.
  std::atomic<std::uint64_t> word;
  std::atomic<std::uint32_t> sleepers;      // threads in futex_wait on the word
  std::atomic<std::uint32_t> inconsistent;  // 1 after an owner death, until make_consistent
  std::uint32_t depth;                      // levels held; written by the owner only
};

// Whether this process's releases may use a compiler barrier only (it is
// registered for membarrier: see src/sync/lock_core.hpp).
extern std::atomic<bool> g_light_release;
void wake_one_sleeper(LockState& s) noexcept;

// Takes the lock if it is free.
inline bool lock_acquire_fast(LockState& s, std::uint64_t me) noexcept {
  std::uint64_t expected = 0;
  if (!s.word.compare_exchange_strong(expected, me, std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
    return false;
  }
  s.depth = 1;
  return true;
}

// Releases a lock the caller holds at one level, in a consistent state;
// false (nothing done) otherwise.
inline bool lock_release_fast(LockState& s, std::uint64_t me) noexcept {
  if (s.word.load(std::memory_order_relaxed) != me || s.depth != 1 ||
      s.inconsistent.load(std::memory_order_relaxed) != 0) {
    return false;
  }
  s.word.store(0, std::memory_order_release);
  // Pairs with the sleeper's membarrier (or, without membarrier, its seq_cst
  // increment): either this load sees the sleeper, or the sleeper's futex
  // sees the released word.
  if (g_light_release.load(std::memory_order_relaxed)) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  if (s.sleepers.load(std::memory_order_relaxed) != 0) wake_one_sleeper(s);
  return true;
}

}  // namespace multiproc::detail
