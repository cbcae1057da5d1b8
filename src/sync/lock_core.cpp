#include "sync/lock_core.hpp"

#include <cerrno>
#include <climits>

#include "sys/futex.hpp"
#include "sys/membarrier.hpp"
#include "sys/spin.hpp"
#include "sys/thread_identity.hpp"

namespace multiproc::detail {
namespace {

// One attempt that never waits: 0, EBUSY (held by another thread),
// EDEADLK, EAGAIN or ENOTRECOVERABLE. `w` is the word last seen.
int attempt(LockState& s, LockKind kind, std::uint64_t me, std::uint64_t w) noexcept {
  while (w == 0) {
    if (s.word.compare_exchange_weak(w, me, std::memory_order_acquire, std::memory_order_relaxed)) {
      s.depth = 1;
      return 0;
    }
  }
  if (w == kNotRecoverable) return ENOTRECOVERABLE;
  if (w != me) return EBUSY;
  if (kind == LockKind::plain) return EDEADLK;
  if (s.depth == UINT32_MAX) return EAGAIN;
  ++s.depth;
  return 0;
}

// Takes the lock over if its owner `w` has ended: EOWNERDEAD, EBUSY if the
// owner lives, EAGAIN if the word changed meanwhile (look again).
int take_over_if_dead(LockState& s, std::uint64_t me, std::uint64_t w) noexcept {
  if (!sys::thread_has_ended(w)) return EBUSY;
  if (!s.word.compare_exchange_strong(w, me, std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
    return EAGAIN;
  }
  s.depth = 1;
  s.inconsistent.store(1, std::memory_order_relaxed);
  return EOWNERDEAD;
}

// Sleeps while the word is still `w`, for at most kCheckInterval.
void sleep_while_held(LockState& s, std::uint64_t w, const sys::Deadline& deadline) noexcept {
  s.sleepers.fetch_add(1, std::memory_order_seq_cst);
  // Pairs with the light barrier of release(): either the releaser sees
  // this sleeper, or the futex sees the released word. Without membarrier
  // the releaser uses a full fence, and the fetch_add is one here.
  sys::heavy_barrier();
  // The futex word is the low half, the owner's TID.
  sys::futex_wait_low(s.word, static_cast<std::uint32_t>(w), deadline.capped(kCheckInterval));
  s.sleepers.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace

std::atomic<bool> g_light_release{false};

void wake_one_sleeper(LockState& s) noexcept {
  sys::futex_wake_low(s.word, 1);
}

void lock_process_init() noexcept {
  if (!g_light_release.load(std::memory_order_relaxed) && sys::membarrier_register()) {
    g_light_release.store(true, std::memory_order_relaxed);
  }
}

int lock_try_acquire(LockState& s, LockKind kind) noexcept {
  std::uint64_t me = sys::this_thread_identity().word();
  for (;;) {
    std::uint64_t w = s.word.load(std::memory_order_relaxed);
    int r = attempt(s, kind, me, w);
    if (r != EBUSY) return r;
    r = take_over_if_dead(s, me, w);
    if (r != EAGAIN) return r;
  }
}

int lock_acquire(LockState& s, LockKind kind, const sys::Deadline& deadline) noexcept {
  std::uint64_t me = sys::this_thread_identity().word();
  if (lock_acquire_fast(s, me)) return 0;
  int r = attempt(s, kind, me, s.word.load(std::memory_order_relaxed));
  if (r != EBUSY) return r;
  // A holder usually lets go soon: spin a little before the system calls of
  // the slow path.
  auto freed_and_taken = [&] {
    return s.word.load(std::memory_order_relaxed) == 0 && (r = attempt(s, kind, me, 0)) != EBUSY;
  };
  if (sys::spin_until(freed_and_taken)) return r;
  // The owner is checked for death once it has held the lock over a whole
  // sleep (or when the deadline has passed): a lock handed over in the
  // meantime costs no /proc read.
  std::uint64_t suspect = 0;
  for (;;) {
    std::uint64_t w = s.word.load(std::memory_order_relaxed);
    r = attempt(s, kind, me, w);
    if (r != EBUSY) return r;
    bool give_up = deadline.expired();
    if (w == suspect || give_up) {
      r = take_over_if_dead(s, me, w);
      if (r == EOWNERDEAD) return r;
      if (r == EAGAIN) continue;
    }
    if (give_up) return ETIMEDOUT;
    sleep_while_held(s, w, deadline);
    suspect = w;
  }
}

int lock_release(LockState& s, LockKind kind) noexcept {
  std::uint64_t me = sys::this_thread_identity().word();
  if (lock_release_fast(s, me)) return 0;
  if (s.word.load(std::memory_order_relaxed) != me) return EPERM;
  if (kind == LockKind::recursive && s.depth > 1) {
    --s.depth;
    return 0;
  }
  // The last level of a lock taken over from a dead owner and never repaired.
  lock_abandon(s);  // as pthread_mutex_unlock makes it not recoverable
  return 0;
}

int lock_make_consistent(LockState& s) noexcept {
  if (s.word.load(std::memory_order_relaxed) != sys::this_thread_identity().word() ||
      s.inconsistent.load(std::memory_order_relaxed) == 0) {
    return EINVAL;
  }
  s.inconsistent.store(0, std::memory_order_relaxed);
  return 0;
}

void lock_abandon(LockState& s) noexcept {
  s.word.store(kNotRecoverable, std::memory_order_release);
  sys::futex_wake_low(s.word, INT_MAX);
}

int lock_release_all(LockState& s) noexcept {
  if (s.word.load(std::memory_order_relaxed) != sys::this_thread_identity().word()) return -EPERM;
  auto levels = static_cast<int>(s.depth);
  s.depth = 1;
  lock_release(s, LockKind::recursive);
  return levels;
}

int lock_restore(LockState& s, int levels) noexcept {
  int r = lock_acquire(s, LockKind::recursive, sys::Deadline::never());
  if (r == 0 || r == EOWNERDEAD) s.depth = static_cast<std::uint32_t>(levels);
  return r;
}

}  // namespace multiproc::detail
