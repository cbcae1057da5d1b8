// The shared state of Semaphore and BoundedSemaphore, and the operations on
// it. Everything here is async-signal-safe and returns codes, not exceptions.
#pragma once

#include <atomic>
#include <cstdint>

#include "multiproc/detail/shared_handle.hpp"
#include "sys/deadline.hpp"

namespace multiproc::detail {

struct SemaphoreState {
  std::atomic<std::uint32_t> value;     // the futex word: units available
  std::atomic<std::uint32_t> sleepers;  // processes in futex_wait on `value`
  std::uint32_t max;                    // upper bound of `value` (fixed at creation)
};

inline constexpr SharedLayout kSemaphoreLayout{sizeof(SemaphoreState), 1, alignof(SemaphoreState)};

// Takes one unit: 1 when taken, 0 when the deadline passed, -errno on failure.
int semaphore_acquire(SemaphoreState& s, const sys::Deadline& deadline) noexcept;
// Takes one unit if there is one: true when taken.
bool semaphore_try_acquire(SemaphoreState& s) noexcept;
// Gives back one unit: 0, or -EOVERFLOW when `value` is already at `max`.
int semaphore_release(SemaphoreState& s) noexcept;

}  // namespace multiproc::detail
