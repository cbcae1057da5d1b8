// Internal: the untyped engine of Pool (pool.hpp holds the typed front).
//
// Jobs are made of chunks (a chunk is one task: encoded items); each chunk's
// outcome goes to the job's sink, under the core's lock: deliver() with the
// result bytes, or fail() with the error. Threads that wait for a job help
// collect results while they wait (see docs/pool.md). src/pool/ implements it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "multiproc/detail/pool_task.hpp"
#include "multiproc/start_method.hpp"

namespace multiproc::detail {

// Where a job's chunks end. Called with the core's lock held: keep it short
// and never call back into the pool; work for later goes to post().
class ChunkSink {
 public:
  virtual ~ChunkSink() = default;
  virtual void deliver(std::size_t chunk, WireReader& results, std::uint32_t count) = 0;
  virtual void fail(std::size_t chunk, std::exception_ptr error) = 0;
};

struct PoolConfig {
  std::size_t processes = 0;
  std::optional<StartMethod> start_method;
  std::size_t maxtasksperchild = 0;
  std::optional<std::chrono::nanoseconds> task_timeout;
  std::size_t max_memory_per_child = 0;
  bool kill_task_over_memory = false;
  bool contain = true;
  bool kill_task_leftovers = false;
  std::string name;
  std::shared_ptr<ProcessTarget> initializer;
};

class PoolCore {
 public:
  using Clock = std::chrono::steady_clock;
  using Deadline = std::optional<Clock::time_point>;

  static constexpr std::size_t kNoItem = static_cast<std::size_t>(-1);
  struct Chunk {
    std::string payload;
    std::uint32_t count = 0;
    // The index in the job's input of its first item, which errors name
    // (kNoItem for apply_async: one call, no input range).
    std::size_t first_item = kNoItem;
  };

  struct Job;  // a submitted job, owned by the core and its handles

  explicit PoolCore(PoolConfig config);
  ~PoolCore();  // terminate()
  PoolCore(const PoolCore&) = delete;
  PoolCore& operator=(const PoolCore&) = delete;

  std::size_t processes() const noexcept;
  // The id workers know (runner, callable) by; sent to each worker once.
  std::uint32_t function_id(PoolRunner runner, const void* fn);

  // A new job. Its chunks are added by add_chunks (several times, for lazy
  // input); `last` says no more will come. Throws UsageError once closed.
  std::shared_ptr<Job> open_job(std::uint32_t function, std::shared_ptr<ChunkSink> sink);
  void add_chunks(const std::shared_ptr<Job>& job, std::vector<Chunk> chunks, bool last);
  // Chunks of `job` added but not yet delivered or failed. Lock-free: may
  // be called inside wait()'s predicate.
  static std::size_t unfinished(const Job& job) noexcept;

  // Waits until `done()` (a check without side effects, called under the
  // lock) is true and the callbacks it may wait for have run, or until the
  // deadline passes; collects results while it waits. True if done.
  bool wait(const std::function<bool()>& done, const Deadline& deadline);
  // Runs `fn` once the lock is released (callbacks, progress hooks).
  void post(std::function<void()> fn);
  // Runs `fn` with the lock held (to take what a sink holds).
  void run_locked(const std::function<void()>& fn);

  // Cancels chunk `chunk` of `job`: fails it with CancelledError unless it
  // already ended. A chunk that runs now has its worker killed and replaced.
  bool cancel(Job& job, std::size_t chunk);

  void close();
  void terminate();
  // Interrupted when `stop` is requested before every task ended (the
  // tasks go on; terminate() ends them).
  void join(const std::stop_token& stop = {});

  // The workers' PIDs now (for tests and diagnostics).
  std::vector<pid_t> worker_pids() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace multiproc::detail
