// The dispatcher: which pending tasks go to which worker, and how many may
// wait in one worker's queue. Pure policy: it reads the worker slots and the
// ledger's queue and decides; the engine sends (engine.cpp). No processes,
// no threads: the engine's lock guards it, and tests drive it directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "pool/task.hpp"
#include "pool/worker_slot.hpp"

namespace multiproc::detail::pool {

class Dispatcher {
 public:
  // Tasks queued to one worker: enough to hide a round trip, few enough that
  // one slow task holds back little (adapted to the measured task time).
  static constexpr std::size_t kMinInflight = 2;
  static constexpr std::size_t kMaxInflight = 1024;
  static constexpr double kInflightBudgetNs = 500'000;
  // A batch stops growing past this many bytes of items.
  static constexpr std::size_t kMaxBatchBytes = std::size_t{4} << 20;

  explicit Dispatcher(std::size_t maxtasksperchild) : maxtasksperchild_(maxtasksperchild) {}

  // A task ran for `ns`: adapts how many tasks a worker may hold.
  void learn_duration(std::uint64_t ns);
  std::size_t inflight_limit() const noexcept { return inflight_limit_; }

  // How many more tasks `w` may be sent now.
  std::size_t room(const WorkerSlot& w) const noexcept;

  struct Batch {
    WorkerSlot* worker = nullptr;
    std::size_t count = 0;  // the first `count` pending tasks
  };
  // The next batch to send, or nothing when no worker has room or nothing
  // is pending. The least loaded worker first, so a light load stays on one
  // warm worker; and no worker takes more than its share of what is pending
  // while others have room.
  std::optional<Batch> next(const std::vector<std::unique_ptr<WorkerSlot>>& workers,
                            const std::deque<Task>& pending) const;

 private:
  std::size_t maxtasksperchild_;
  double average_task_ns_ = 0;
  std::size_t inflight_limit_ = kMinInflight;
};

}  // namespace multiproc::detail::pool
