// The page a pool worker shares with its parent (one per worker, so no
// worker can disturb another's). The worker writes the first cache line,
// the parent the second: one writer per field.
#pragma once

#include <time.h>

#include <atomic>
#include <cstdint>

namespace multiproc::detail::pool {

struct ControlBlock {
  // Written by the worker.
  // Tasks taken so far; each is followed by exactly one result message, so
  // started - results received = tasks that ran (or began) without a result.
  alignas(64) std::atomic<std::uint64_t> started{0};
  std::atomic<std::uint64_t> current_task{0};     // 0: none running
  std::atomic<std::int64_t> current_since_ns{0};  // CLOCK_MONOTONIC
  // The item of the current task that runs now (its index in the task).
  // Read by the parent once the worker died, to name the item it crashed on.
  std::atomic<std::uint32_t> current_item{0};

  // Written by the parent: tasks dispatched to this worker and then
  // cancelled; the worker skips them (a ring: the latest kCancelSlots).
  static constexpr std::uint32_t kCancelSlots = 64;
  alignas(64) std::atomic<std::uint32_t> cancel_count{0};
  std::atomic<std::uint64_t> cancelled[kCancelSlots]{};

  bool is_cancelled(std::uint64_t task) const noexcept {
    std::uint32_t n = cancel_count.load(std::memory_order_acquire);
    std::uint32_t from = n > kCancelSlots ? n - kCancelSlots : 0;
    for (std::uint32_t i = from; i < n; ++i) {
      if (cancelled[i % kCancelSlots].load(std::memory_order_relaxed) == task) return true;
    }
    return false;
  }
  void cancel(std::uint64_t task) noexcept {
    std::uint32_t n = cancel_count.load(std::memory_order_relaxed);
    cancelled[n % kCancelSlots].store(task, std::memory_order_relaxed);
    cancel_count.store(n + 1, std::memory_order_release);
  }
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

// CLOCK_MONOTONIC in nanoseconds: the same clock in every process.
inline std::int64_t monotonic_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace multiproc::detail::pool
