// The watchdogs: a task past its timeout, a worker past its memory cap while
// it runs (kill_task_over_memory). They read each worker's progress through
// its handle and stop the worker; the ledger then fails its task with the
// reason they gave. Also says when the manager must look again. Stateless
// beyond its limits; the engine's lock guards the slots it reads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "pool/worker_slot.hpp"

namespace multiproc::detail::pool {

class Watchdog {
 public:
  // How often a busy worker's memory is sampled when there is a limit.
  static constexpr int kMemoryPollMs = 50;
  // How often to look for dispatched tasks that started, when their
  // deadlines matter (nothing tells the engine when a task starts).
  static constexpr int kStartPollMs = 10;

  Watchdog(std::optional<std::chrono::nanoseconds> task_timeout, std::uint64_t max_memory,
           bool kill_over_memory)
      : task_timeout_(task_timeout), max_memory_(kill_over_memory ? max_memory : 0) {}

  // Stops the workers whose running task is past its deadline (at `now_ns`,
  // CLOCK_MONOTONIC) or whose memory is past the cap.
  void check(const std::vector<std::unique_ptr<WorkerSlot>>& workers, std::int64_t now_ns) const;
  // Milliseconds until check() may have work again; -1: only on events.
  int next_check_ms(const std::vector<std::unique_ptr<WorkerSlot>>& workers,
                    std::int64_t now_ns) const;

 private:
  void check_timeouts(const std::vector<std::unique_ptr<WorkerSlot>>& workers,
                      std::int64_t now_ns) const;
  void check_memory(const std::vector<std::unique_ptr<WorkerSlot>>& workers) const;

  std::optional<std::chrono::nanoseconds> task_timeout_;
  std::uint64_t max_memory_;  // 0: not watched while tasks run
};

}  // namespace multiproc::detail::pool
