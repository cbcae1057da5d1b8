// A job and its tasks, as the engine tracks them. A job is one call
// (apply_async, map, imap...): its chunks become tasks, and each task's
// outcome goes to the job's sink. Guarded by the engine's lock, except
// Job::unfinished, which waiters read without it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "multiproc/detail/pool_core.hpp"

namespace multiproc::detail {

struct PoolCore::Job {
  std::shared_ptr<ChunkSink> sink;
  std::uint32_t function = 0;
  std::atomic<std::size_t> unfinished{0};  // tasks added and not ended
  std::size_t next_chunk = 0;
  std::set<std::size_t> dropped;  // cancelled while dispatched: the late outcome is ignored
};

namespace pool {

using Job = PoolCore::Job;

// One chunk of a job on its way to a worker and back.
struct Task {
  std::shared_ptr<Job> job;
  std::size_t chunk = 0;  // index in the job
  std::uint64_t id = 0;   // unique in the pool; the protocol names tasks by it
  std::string payload;    // the encoded items
  std::uint32_t count = 0;
  std::size_t first_item = PoolCore::kNoItem;  // index in the job's input

  // The index in the input of its item `i`, if the job has an input range.
  std::optional<std::size_t> item(std::uint32_t i) const {
    if (first_item == PoolCore::kNoItem) return std::nullopt;
    return first_item + i;
  }
};

}  // namespace pool
}  // namespace multiproc::detail
