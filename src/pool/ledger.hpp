// The ledger: every task from submission to its one outcome. It owns the
// queue of tasks not yet dispatched, numbers tasks, hands each outcome to
// its job's sink (exactly once: a cancelled task's late outcome is dropped),
// and holds the rule for the tasks of a worker that ended without finishing
// them (settle_lost, lost_error, never_ran_error). No processes, no threads:
// the engine's lock guards it (engine.hpp), and tests drive it directly
// (tests/pool_engine_test.cpp).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "multiproc/exit_status.hpp"
#include "pool/protocol.hpp"
#include "pool/task.hpp"

namespace multiproc::detail::pool {

// Why the engine stopped a worker, if it did.
enum class KillReason { none, timeout, cancel, memory, protocol, terminate };

// How a worker ended, for the tasks it held.
struct WorkerEnd {
  pid_t pid = 0;
  ExitStatus status;
  KillReason reason = KillReason::none;
  std::string detail;              // memory, protocol: what happened
  std::uint32_t running_item = 0;  // in its running task: the item it ran
};

class Ledger {
 public:
  explicit Ledger(std::optional<std::chrono::nanoseconds> task_timeout)
      : task_timeout_(task_timeout) {}

  // ---- submission ---------------------------------------------------------

  // Numbers `chunks` as tasks of `job` and queues them (or fails them at once
  // when the pool is broken).
  void add(const std::shared_ptr<Job>& job, std::vector<PoolCore::Chunk> chunks);
  const std::deque<Task>& pending() const noexcept { return pending_; }
  // Moves the first `n` pending tasks to the back of `to` (a worker's queue).
  void hand_out(std::size_t n, std::deque<Task>& to);

  // ---- outcomes -----------------------------------------------------------

  // A worker's RESULT for `t` (ok, error or skipped); `pid` is the worker's.
  void record(const Task& t, const ResultMessage& m, pid_t pid);
  void fail(const Task& t, std::exception_ptr error);

  // ---- cancellation -------------------------------------------------------

  // Chunk `chunk` of `job` if it is still queued: it never runs.
  bool cancel_pending(const Job& job, std::size_t chunk);
  // Chunk `chunk` of `job`, dispatched: fails it now; its late outcome is
  // ignored. False if it was dropped already.
  bool drop(Job& job, std::size_t chunk);

  // ---- workers that end, pools that stop ----------------------------------

  // A worker ended holding `inflight` (in the order it runs them), of which
  // it began `began` without posting their result: those fail with
  // lost_error(end); the others go back to the front of the queue in order,
  // to run on another worker, unless the pool is stopping or broken (then
  // they fail with never_ran_error()). Empties `inflight`.
  void settle_lost(std::deque<Task>& inflight, std::uint64_t began, const WorkerEnd& end,
                   bool stopping);
  // The error of task `t`, which was running when its worker ended.
  std::exception_ptr lost_error(const WorkerEnd& end, const Task& t) const;
  // The error of a task the pool stopped before it ran (or the pool's
  // breakage, when it broke).
  std::exception_ptr never_ran_error() const;
  // terminate(): every queued task fails with never_ran_error().
  void cancel_all_pending();

  // Workers cannot run tasks at all (they cannot start, or the initializer
  // threw): every queued and later task fails with `why`.
  void break_pool(std::exception_ptr why);
  const std::exception_ptr& broken() const noexcept { return broken_; }

 private:
  void complete(const Task& t, std::span<const std::byte> results);

  std::optional<std::chrono::nanoseconds> task_timeout_;
  std::deque<Task> pending_;
  std::uint64_t next_task_ = 1;
  std::exception_ptr broken_;
};

// CancelledError with `why`.
std::exception_ptr cancelled(const char* why);

}  // namespace multiproc::detail::pool
