// The ledger (ledger.hpp): submission, outcomes, cancellation, and the one
// rule for the tasks of a worker that ended.
#include "pool/ledger.hpp"

#include <algorithm>

#include "exception_codecs.hpp"
#include "multiproc/error.hpp"
#include "multiproc/exception_info.hpp"

namespace multiproc::detail::pool {

std::exception_ptr cancelled(const char* why) {
  return std::make_exception_ptr(CancelledError(why));
}

void Ledger::add(const std::shared_ptr<Job>& job, std::vector<PoolCore::Chunk> chunks) {
  for (PoolCore::Chunk& c : chunks) {
    Task t;
    t.chunk = job->next_chunk++;
    t.id = next_task_++;
    t.payload = std::move(c.payload);
    t.count = c.count;
    t.first_item = c.first_item;
    job->unfinished.fetch_add(1, std::memory_order_relaxed);
    t.job = job;
    if (broken_) {
      fail(t, broken_);
      continue;
    }
    pending_.push_back(std::move(t));
  }
}

void Ledger::hand_out(std::size_t n, std::deque<Task>& to) {
  for (std::size_t i = 0; i < n; ++i) {
    to.push_back(std::move(pending_.front()));
    pending_.pop_front();
  }
}

void Ledger::complete(const Task& t, std::span<const std::byte> results) {
  Job& job = *t.job;
  if (job.dropped.erase(t.chunk) != 0) return;
  WireReader in(results, {});
  job.sink->deliver(t.chunk, in, t.count);
  job.unfinished.fetch_sub(1, std::memory_order_relaxed);
}

void Ledger::fail(const Task& t, std::exception_ptr error) {
  Job& job = *t.job;
  if (job.dropped.erase(t.chunk) != 0) return;
  job.sink->fail(t.chunk, std::move(error));
  job.unfinished.fetch_sub(1, std::memory_order_relaxed);
}

void Ledger::record(const Task& t, const ResultMessage& m, pid_t pid) {
  switch (m.status) {
    case Status::ok:
      complete(t, m.results);
      return;
    case Status::error:
      fail(t, remote_exception(ExceptionInfo{m.type, m.message, pid}, m.fields, t.item(m.item)));
      return;
    case Status::skipped:
      fail(t, cancelled("the task was cancelled"));
      return;
  }
}

bool Ledger::cancel_pending(const Job& job, std::size_t chunk) {
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [&](const Task& t) { return t.job.get() == &job && t.chunk == chunk; });
  if (it == pending_.end()) return false;
  Task t = std::move(*it);
  pending_.erase(it);
  fail(t, cancelled("the task was cancelled before it ran"));
  return true;
}

bool Ledger::drop(Job& job, std::size_t chunk) {
  if (job.dropped.count(chunk) != 0) return false;
  job.sink->fail(chunk, cancelled("the task was cancelled"));
  job.unfinished.fetch_sub(1, std::memory_order_relaxed);
  job.dropped.insert(chunk);
  return true;
}

void Ledger::settle_lost(std::deque<Task>& inflight, std::uint64_t began, const WorkerEnd& end,
                         bool stopping) {
  // A worker runs its tasks in the order it received them, so the ones it
  // began are the first `began` (one, unless it skipped cancelled ones).
  std::size_t failing = static_cast<std::size_t>(std::min<std::uint64_t>(began, inflight.size()));
  for (std::size_t i = 0; i < failing; ++i) fail(inflight[i], lost_error(end, inflight[i]));
  bool requeue = !stopping && !broken_;
  for (std::size_t i = inflight.size(); i > failing; --i) {
    Task& t = inflight[i - 1];
    if (requeue) {
      pending_.push_front(std::move(t));
    } else {
      fail(t, never_ran_error());
    }
  }
  inflight.clear();
}

std::exception_ptr Ledger::lost_error(const WorkerEnd& end, const Task& t) const {
  std::optional<std::size_t> item = t.item(end.running_item);
  switch (end.reason) {
    case KillReason::timeout:
      return std::make_exception_ptr(
          TaskTimeoutError(end.pid, task_timeout_.value_or(std::chrono::nanoseconds(0)), item));
    case KillReason::cancel:
      return cancelled("the task was cancelled while it ran; its worker was replaced");
    case KillReason::terminate:
      // Not CancelledError: that is for a task that never ran. A task the
      // pool stopped mid-run may have done part of its work (docs/pool.md).
      return std::make_exception_ptr(WorkerLost(
          end.pid, end.status, "was stopped by terminate() while running this task", item));
    case KillReason::memory:
    case KillReason::protocol:
      return std::make_exception_ptr(WorkerLost(end.pid, end.status, end.detail, item));
    case KillReason::none:
      break;
  }
  return std::make_exception_ptr(
      WorkerLost(end.pid, end.status, "died while running this task", item));
}

std::exception_ptr Ledger::never_ran_error() const {
  return broken_ ? broken_ : cancelled("the pool was terminated before the task ran");
}

void Ledger::cancel_all_pending() {
  while (!pending_.empty()) {
    fail(pending_.front(), never_ran_error());
    pending_.pop_front();
  }
}

void Ledger::break_pool(std::exception_ptr why) {
  broken_ = std::move(why);
  while (!pending_.empty()) {
    fail(pending_.front(), broken_);
    pending_.pop_front();
  }
}

}  // namespace multiproc::detail::pool
