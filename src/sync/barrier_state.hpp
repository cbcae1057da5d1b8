// The shared state of a Barrier, and the lock and wait it is used under:
// Python's threading.Barrier, with a robust lock (lock_core) and a futex
// sequence word standing in for its Condition.
#pragma once

#include <atomic>
#include <cstdint>

#include "multiproc/detail/shared_handle.hpp"
#include "sync/lock_core.hpp"
#include "sys/deadline.hpp"

namespace multiproc::detail {

enum class BarrierPhase : std::int32_t {
  filling = 0,     // parties are arriving
  draining = 1,    // released: parties of the cycle are leaving wait()
  resetting = -1,  // reset() while parties waited: they leave with an error
  broken = -2,
};

struct BarrierState {
  LockState lock;                       // robust; guards the fields below
  std::atomic<std::uint32_t> sequence;  // futex word: bumped on every phase change
  std::uint32_t parties;
  std::uint32_t count;  // parties inside wait() in this cycle
  BarrierPhase phase;
};

inline constexpr SharedLayout kBarrierLayout{sizeof(BarrierState), 1, alignof(BarrierState)};

// Holds the barrier's lock for a scope. A previous owner that died holding
// it breaks the barrier: the state it was changing cannot be trusted.
class BarrierGuard {
 public:
  explicit BarrierGuard(BarrierState& b);
  ~BarrierGuard();
  BarrierGuard(const BarrierGuard&) = delete;
  BarrierGuard& operator=(const BarrierGuard&) = delete;

  // Releases the lock, sleeps until the phase changes (sequence moves) or
  // the deadline passes, takes the lock back. False on timeout.
  bool wait(const sys::Deadline& deadline);

 private:
  void lock();
  BarrierState& b_;
  bool held_ = false;
};

// Bumps the sequence and wakes every sleeper. Call with the lock held.
void barrier_notify_all(BarrierState& b) noexcept;
// Breaks the barrier and wakes everyone. Call with the lock held.
void barrier_break(BarrierState& b) noexcept;

}  // namespace multiproc::detail
