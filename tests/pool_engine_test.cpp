// The pool engine's parts below the process level: the ledger (requeue vs
// fail when a worker dies, cancellation, a broken pool, chunk numbering),
// the dispatcher (room, maxtasksperchild, shares, batch size) and the
// watchdogs (timeouts, memory), driven with a fake sink and fake worker
// handles. No process is started.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "multiproc/error.hpp"
#include "pool/dispatcher.hpp"
#include "pool/ledger.hpp"
#include "pool/watchdog.hpp"
#include "pool/worker_slot.hpp"

namespace {

using namespace multiproc;
using namespace multiproc::detail;
using namespace multiproc::detail::pool;

// Records each chunk's outcome: "ok:<count>" or the error's type name.
class RecordingSink final : public ChunkSink {
 public:
  void deliver(std::size_t chunk, WireReader&, std::uint32_t count) override {
    outcomes[chunk].push_back("ok:" + std::to_string(count));
  }
  void fail(std::size_t chunk, std::exception_ptr error) override {
    try {
      std::rethrow_exception(error);
    } catch (const TaskTimeoutError&) {
      outcomes[chunk].push_back("TaskTimeoutError");
    } catch (const WorkerLost& e) {
      outcomes[chunk].push_back(std::string("WorkerLost:") + e.what());
    } catch (const CancelledError& e) {
      outcomes[chunk].push_back(std::string("CancelledError:") + e.what());
    } catch (const RemoteError& e) {
      outcomes[chunk].push_back("RemoteError:" + e.info().type);
    } catch (const std::exception& e) {
      outcomes[chunk].push_back(std::string("other:") + e.what());
    }
  }
  // The one outcome of `chunk` ("" when none; a second one fails the test).
  std::string outcome(std::size_t chunk) const {
    auto it = outcomes.find(chunk);
    if (it == outcomes.end()) return "";
    EXPECT_EQ(it->second.size(), 1u) << "chunk " << chunk << " ended more than once";
    return it->second.front();
  }
  std::map<std::size_t, std::vector<std::string>> outcomes;
};

// A worker that runs nowhere: its progress is what the test sets.
class FakeHandle final : public WorkerHandle {
 public:
  explicit FakeHandle(pid_t pid) : pid_(pid) {}
  pid_t pid() const noexcept override { return pid_; }
  bool send(std::span<const std::byte>) override { return true; }
  bool receive(std::string&) override { return false; }
  int watch_messages(bool& ready) override {
    ready = false;
    return -1;
  }
  void unwatch_messages() override {}
  std::uint64_t tasks_started() const noexcept override { return started; }
  Running running() const noexcept override { return now_running; }
  std::uint32_t running_item() const noexcept override { return 0; }
  void skip(std::uint64_t task) noexcept override { skipped.push_back(task); }
  std::uint64_t resident_bytes() const override { return rss; }
  int death_fd() const override { return -1; }
  void terminate() noexcept override { ++terminated; }
  void kill() noexcept override { ++killed; }
  bool wait_exit(std::optional<std::chrono::nanoseconds>) override { return true; }
  ExitStatus reap() override { return ExitStatus::killed_by(SIGKILL); }

  std::uint64_t started = 0;
  Running now_running{};
  std::uint64_t rss = 0;
  std::vector<std::uint64_t> skipped;
  int terminated = 0;
  int killed = 0;

 private:
  pid_t pid_;
};

std::vector<PoolCore::Chunk> chunks(std::size_t n, std::uint32_t items = 1, std::size_t bytes = 4) {
  std::vector<PoolCore::Chunk> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back({std::string(bytes, 'x'), items, i * items});
  return out;
}

std::shared_ptr<Job> job_with(std::shared_ptr<RecordingSink> sink) {
  auto job = std::make_shared<Job>();
  job->sink = std::move(sink);
  job->function = 1;
  return job;
}

std::unique_ptr<WorkerSlot> slot(pid_t pid) {
  return std::make_unique<WorkerSlot>(std::make_unique<FakeHandle>(pid));
}

FakeHandle& fake(WorkerSlot& w) {
  return static_cast<FakeHandle&>(*w.handle);
}

WorkerEnd died(pid_t pid, KillReason reason = KillReason::none, std::string detail = {}) {
  return {pid, ExitStatus::killed_by(SIGKILL), reason, std::move(detail)};
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// ---- ledger ----------------------------------------------------------------------

TEST(PoolLedger, NumbersChunksAcrossAddsAndCountsThemUnfinished) {
  Ledger ledger(std::nullopt);
  auto sink = std::make_shared<RecordingSink>();
  auto job = job_with(sink);
  ledger.add(job, chunks(2));
  ledger.add(job, chunks(3));  // imap feeds a job in several adds
  ASSERT_EQ(ledger.pending().size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(ledger.pending()[i].chunk, i);
    EXPECT_EQ(ledger.pending()[i].id, i + 1);
  }
  EXPECT_EQ(PoolCore::unfinished(*job), 5u);
}

TEST(PoolLedger, AWorkerDeathFailsTheTaskItBeganAndRequeuesTheRestInOrder) {
  Ledger ledger(std::nullopt);
  auto sink = std::make_shared<RecordingSink>();
  auto job = job_with(sink);
  ledger.add(job, chunks(5));
  std::deque<Task> inflight;
  ledger.hand_out(3, inflight);  // chunks 0, 1, 2 to one worker; 3, 4 wait
  ledger.settle_lost(inflight, 1, died(42), false);
  EXPECT_TRUE(inflight.empty());
  EXPECT_TRUE(starts_with(sink->outcome(0), "WorkerLost:pool worker pid 42 died"))
      << sink->outcome(0);
  // Chunks 1 and 2 never ran: back at the front, ahead of 3 and 4, in order.
  ASSERT_EQ(ledger.pending().size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(ledger.pending()[i].chunk, i + 1);
  EXPECT_EQ(sink->outcome(1), "");
  EXPECT_EQ(PoolCore::unfinished(*job), 4u);
}

TEST(PoolLedger, AWorkerThatDiedBeforeItsFirstTaskFailsNothing) {
  Ledger ledger(std::nullopt);
  auto sink = std::make_shared<RecordingSink>();
  ledger.add(job_with(sink), chunks(2));
  std::deque<Task> inflight;
  ledger.hand_out(2, inflight);
  ledger.settle_lost(inflight, 0, died(7), false);
  EXPECT_TRUE(sink->outcomes.empty());
  EXPECT_EQ(ledger.pending().size(), 2u);
}

TEST(PoolLedger, TerminateFailsTheRunningTaskWithWorkerLostAndTheOthersAsCancelled) {
  Ledger ledger(std::nullopt);
  auto sink = std::make_shared<RecordingSink>();
  ledger.add(job_with(sink), chunks(4));
  std::deque<Task> inflight;
  ledger.hand_out(2, inflight);
  ledger.cancel_all_pending();  // chunks 2, 3: never dispatched
  ledger.settle_lost(inflight, 1, died(9, KillReason::terminate), true);
  EXPECT_NE(sink->outcome(0).find("terminate()"), std::string::npos) << sink->outcome(0);
  EXPECT_TRUE(starts_with(sink->outcome(0), "WorkerLost:"));
  for (std::size_t c : {1u, 2u, 3u}) {
    EXPECT_EQ(sink->outcome(c), "CancelledError:the pool was terminated before the task ran");
  }
  EXPECT_TRUE(ledger.pending().empty());
}

TEST(PoolLedger, TheKillReasonChoosesTheRunningTasksError) {
  Ledger ledger(std::chrono::seconds(2));
  auto sink = std::make_shared<RecordingSink>();
  ledger.add(job_with(sink), chunks(4));
  const KillReason reasons[] = {KillReason::timeout, KillReason::cancel, KillReason::memory,
                                KillReason::protocol};
  for (KillReason reason : reasons) {
    std::deque<Task> inflight;
    ledger.hand_out(1, inflight);
    ledger.settle_lost(inflight, 1, died(5, reason, "was killed: why"), false);
  }
  EXPECT_EQ(sink->outcome(0), "TaskTimeoutError");
  EXPECT_EQ(sink->outcome(1),
            "CancelledError:the task was cancelled while it ran; its worker was replaced");
  EXPECT_NE(sink->outcome(2).find("was killed: why"), std::string::npos) << sink->outcome(2);
  EXPECT_TRUE(starts_with(sink->outcome(3), "WorkerLost:"));
}

TEST(PoolLedger, ABrokenPoolFailsQueuedLaterAndRequeuableTasksWithItsError) {
  Ledger ledger(std::nullopt);
  auto sink = std::make_shared<RecordingSink>();
  auto job = job_with(sink);
  ledger.add(job, chunks(4));
  std::deque<Task> inflight;
  ledger.hand_out(2, inflight);
  ledger.break_pool(std::make_exception_ptr(RemoteError({"init", "threw", 3})));
  EXPECT_EQ(sink->outcome(2), "RemoteError:init");
  EXPECT_EQ(sink->outcome(3), "RemoteError:init");
  ledger.settle_lost(inflight, 0, died(3), false);  // not requeued: nothing could run them
  EXPECT_EQ(sink->outcome(0), "RemoteError:init");
  EXPECT_EQ(sink->outcome(1), "RemoteError:init");
  ledger.add(job, chunks(1));  // later work fails at once
  EXPECT_EQ(sink->outcome(4), "RemoteError:init");
  EXPECT_TRUE(ledger.pending().empty());
  EXPECT_EQ(PoolCore::unfinished(*job), 0u);
}

TEST(PoolLedger, CancellingAQueuedTaskMeansItNeverRuns) {
  Ledger ledger(std::nullopt);
  auto sink = std::make_shared<RecordingSink>();
  auto job = job_with(sink);
  ledger.add(job, chunks(3));
  EXPECT_TRUE(ledger.cancel_pending(*job, 1));
  EXPECT_FALSE(ledger.cancel_pending(*job, 1));
  EXPECT_EQ(sink->outcome(1), "CancelledError:the task was cancelled before it ran");
  ASSERT_EQ(ledger.pending().size(), 2u);
  EXPECT_EQ(ledger.pending()[1].chunk, 2u);
  EXPECT_EQ(PoolCore::unfinished(*job), 2u);
}

TEST(PoolLedger, ADroppedTaskEndsOnceAndItsLateOutcomeIsIgnored) {
  Ledger ledger(std::nullopt);
  auto sink = std::make_shared<RecordingSink>();
  auto job = job_with(sink);
  ledger.add(job, chunks(2));
  std::deque<Task> inflight;
  ledger.hand_out(2, inflight);
  EXPECT_TRUE(ledger.drop(*job, 0));
  EXPECT_FALSE(ledger.drop(*job, 0));
  ResultMessage ok;
  ok.task = inflight[0].id;
  ledger.record(inflight[0], ok, 11);  // the worker finished it anyway
  EXPECT_EQ(sink->outcome(0), "CancelledError:the task was cancelled");
  // A dropped task whose worker dies is not failed a second time either.
  ledger.drop(*job, 1);
  std::deque<Task> rest;
  rest.push_back(std::move(inflight[1]));
  ledger.settle_lost(rest, 1, died(11), false);
  EXPECT_EQ(sink->outcome(1), "CancelledError:the task was cancelled");
  EXPECT_EQ(PoolCore::unfinished(*job), 0u);
}

TEST(PoolLedger, RecordsResultsErrorsAndSkips) {
  Ledger ledger(std::nullopt);
  auto sink = std::make_shared<RecordingSink>();
  ledger.add(job_with(sink), chunks(3, 4));
  std::deque<Task> inflight;
  ledger.hand_out(3, inflight);
  ResultMessage ok;
  ResultMessage error;
  error.status = Status::error;
  error.type = "std::runtime_error";
  ResultMessage skipped;
  skipped.status = Status::skipped;
  ledger.record(inflight[0], ok, 1);
  ledger.record(inflight[1], error, 1);
  ledger.record(inflight[2], skipped, 1);
  EXPECT_EQ(sink->outcome(0), "ok:4");
  EXPECT_EQ(sink->outcome(1), "RemoteError:std::runtime_error");
  EXPECT_EQ(sink->outcome(2), "CancelledError:the task was cancelled");
}

TEST(PoolLedger, ErrorsNameTheItemInTheJobsInput) {
  Ledger ledger(std::nullopt);
  std::vector<std::exception_ptr> errors;
  struct Sink final : ChunkSink {
    explicit Sink(std::vector<std::exception_ptr>& e) : out(e) {}
    void deliver(std::size_t, WireReader&, std::uint32_t) override {}
    void fail(std::size_t, std::exception_ptr error) override { out.push_back(error); }
    std::vector<std::exception_ptr>& out;
  };
  auto job = std::make_shared<Job>();
  job->sink = std::make_shared<Sink>(errors);
  ledger.add(job, chunks(3, 4));  // items 0-3, 4-7, 8-11
  std::deque<Task> inflight;
  ledger.hand_out(3, inflight);
  ResultMessage error;
  error.status = Status::error;
  error.item = 2;
  ledger.record(inflight[1], error, 1);
  WorkerEnd end = died(1);
  end.running_item = 3;
  std::deque<Task> last;
  last.push_back(std::move(inflight[2]));
  ledger.settle_lost(last, 1, end, false);
  ASSERT_EQ(errors.size(), 2u);
  try {
    std::rethrow_exception(errors[0]);
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.item(), std::optional<std::size_t>(6));
  }
  try {
    std::rethrow_exception(errors[1]);
  } catch (const WorkerLost& e) {
    EXPECT_EQ(e.item(), std::optional<std::size_t>(11));
  }
}

// ---- dispatcher ------------------------------------------------------------------

std::deque<Task> pending_tasks(std::size_t n, std::size_t bytes = 4) {
  Ledger ledger(std::nullopt);
  ledger.add(job_with(std::make_shared<RecordingSink>()), chunks(n, 1, bytes));
  std::deque<Task> out;
  ledger.hand_out(n, out);
  return out;
}

TEST(PoolDispatcher, NothingToSendWithoutPendingTasksOrRoom) {
  Dispatcher d(0);
  std::vector<std::unique_ptr<WorkerSlot>> workers;
  workers.push_back(slot(1));
  EXPECT_FALSE(d.next(workers, {}).has_value());
  workers[0]->retiring = true;
  EXPECT_FALSE(d.next(workers, pending_tasks(3)).has_value());
  workers[0]->retiring = false;
  workers[0]->kill = KillReason::timeout;
  EXPECT_FALSE(d.next(workers, pending_tasks(3)).has_value());
}

TEST(PoolDispatcher, SplitsPendingWorkInSharesAndPrefersTheLeastLoadedWorker) {
  Dispatcher d(0);
  std::vector<std::unique_ptr<WorkerSlot>> workers;
  workers.push_back(slot(1));
  workers.push_back(slot(2));
  auto pending = pending_tasks(3);
  workers[0]->inflight.push_back(pending_tasks(1).front());
  auto batch = d.next(workers, pending);
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->worker, workers[1].get());
  // Two workers with room: each takes at most half of what is pending (2
  // of 3), and no more than its room (the inflight limit, 2 at first).
  EXPECT_EQ(batch->count, 2u);
  EXPECT_EQ(d.room(*workers[0]), Dispatcher::kMinInflight - 1);
}

TEST(PoolDispatcher, MaxtasksperchildCapsWhatAWorkerIsEverSent) {
  Dispatcher d(3);
  for (int i = 0; i < 20; ++i) d.learn_duration(1'000);  // short tasks: a deep queue
  std::vector<std::unique_ptr<WorkerSlot>> workers;
  workers.push_back(slot(1));
  auto batch = d.next(workers, pending_tasks(10));
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->count, 3u);
  workers[0]->assigned = 3;
  EXPECT_EQ(d.room(*workers[0]), 0u);
  EXPECT_FALSE(d.next(workers, pending_tasks(10)).has_value());
}

TEST(PoolDispatcher, TheQueueDepthFollowsTheTaskDuration) {
  Dispatcher d(0);
  EXPECT_EQ(d.inflight_limit(), Dispatcher::kMinInflight);
  for (int i = 0; i < 50; ++i) d.learn_duration(100);  // 0.1 us tasks
  EXPECT_EQ(d.inflight_limit(), Dispatcher::kMaxInflight);
  for (int i = 0; i < 100; ++i) d.learn_duration(10'000'000);  // 10 ms tasks
  EXPECT_EQ(d.inflight_limit(), Dispatcher::kMinInflight);
}

TEST(PoolDispatcher, ABatchStopsGrowingPastItsByteBudget) {
  Dispatcher d(0);
  for (int i = 0; i < 50; ++i) d.learn_duration(100);
  std::vector<std::unique_ptr<WorkerSlot>> workers;
  workers.push_back(slot(1));
  // 1 MiB items: the batch closes with the item that passes 4 MiB.
  auto batch = d.next(workers, pending_tasks(10, std::size_t{1} << 20));
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->count, 5u);
}

// ---- watchdogs -------------------------------------------------------------------

TEST(PoolWatchdog, StopsAWorkerWhoseTaskRanPastItsTimeout) {
  Watchdog dog(std::chrono::milliseconds(100), 0, false);
  std::vector<std::unique_ptr<WorkerSlot>> workers;
  workers.push_back(slot(1));
  workers.push_back(slot(2));
  fake(*workers[0]).now_running = {5, 1'000'000'000};
  fake(*workers[1]).now_running = {6, 1'050'000'000};
  std::int64_t now = 1'120'000'000;  // 120 ms after task 5 began, 70 after task 6
  dog.check(workers, now);
  EXPECT_EQ(workers[0]->kill, KillReason::timeout);
  EXPECT_EQ(fake(*workers[0]).killed, 1);
  EXPECT_EQ(workers[1]->kill, KillReason::none);
  // Task 6's deadline is in 30 ms (plus a millisecond of rounding).
  EXPECT_EQ(dog.next_check_ms(workers, now), 31);
}

TEST(PoolWatchdog, LooksAgainSoonForDispatchedTasksThatHaveNotStarted) {
  Watchdog dog(std::chrono::seconds(5), 0, false);
  std::vector<std::unique_ptr<WorkerSlot>> workers;
  workers.push_back(slot(1));
  EXPECT_EQ(dog.next_check_ms(workers, 0), -1);  // idle: only events
  workers[0]->inflight.push_back(pending_tasks(1).front());
  EXPECT_EQ(dog.next_check_ms(workers, 0), Watchdog::kStartPollMs);
}

TEST(PoolWatchdog, StopsAWorkerPastTheMemoryCapOnlyWhileItRunsATask) {
  Watchdog dog(std::nullopt, 100 << 20, true);
  std::vector<std::unique_ptr<WorkerSlot>> workers;
  workers.push_back(slot(1));
  fake(*workers[0]).rss = 200 << 20;
  dog.check(workers, 0);
  EXPECT_EQ(workers[0]->kill, KillReason::none);  // idle: recycled after its task instead
  fake(*workers[0]).now_running = {3, 0};
  EXPECT_EQ(dog.next_check_ms(workers, 0), Watchdog::kMemoryPollMs);
  dog.check(workers, 0);
  EXPECT_EQ(workers[0]->kill, KillReason::memory);
  EXPECT_NE(workers[0]->kill_detail.find("max_memory_per_child"), std::string::npos);
}

TEST(PoolWatchdog, TheFirstReasonToStopAWorkerIsTheOneItsTaskFailsWith) {
  std::vector<std::unique_ptr<WorkerSlot>> workers;
  workers.push_back(slot(1));
  workers[0]->stop_now(KillReason::cancel);
  workers[0]->stop_now(KillReason::timeout);
  EXPECT_EQ(workers[0]->kill, KillReason::cancel);
  EXPECT_EQ(fake(*workers[0]).killed, 2);
  EXPECT_FALSE(workers[0]->accepting());
}

}  // namespace
