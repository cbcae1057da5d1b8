// A pool worker: the Process target that runs in each worker process, and
// what it needs (its two channels, its control page, its limits and the
// pool's initializer). It crosses to the worker like any spawn or forkserver
// target (process_target.hpp): the channels and the control page as
// descriptors, the initializer as a nested task.
#pragma once

#include <cstdint>
#include <memory>

#include "multiproc/detail/process_target.hpp"
#include "multiproc/detail/queue_core.hpp"
#include "multiproc/shared_memory.hpp"

namespace multiproc::detail::pool {

struct WorkerLimits {
  std::uint64_t maxtasks = 0;    // 0: none
  std::uint64_t max_memory = 0;  // bytes of RSS; 0: none
  std::uint64_t idle_spin_ns = 0;
  std::uint64_t kill_leftovers = 0;  // 1: kill what each task left running
};

struct WorkerChannels {
  std::shared_ptr<QueueCore> tasks;    // parent -> worker
  std::shared_ptr<QueueCore> results;  // worker -> parent
  SharedMemory control;                // a ControlBlock
};

class WorkerTarget final : public ProcessTarget {
 public:
  WorkerTarget(WorkerChannels channels, WorkerLimits limits,
               std::shared_ptr<ProcessTarget> initializer)
      : channels_(std::move(channels)), limits_(limits), initializer_(std::move(initializer)) {}

  int run() override;
  void descriptors(std::vector<int>& out) const override;
  void encode(WireWriter& out) const override;

 private:
  WorkerChannels channels_;
  WorkerLimits limits_;
  std::shared_ptr<ProcessTarget> initializer_;
};

// A new channel queue (one direction).
std::shared_ptr<QueueCore> make_channel();

}  // namespace multiproc::detail::pool
