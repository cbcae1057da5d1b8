// Pool: the API, results and errors (tests/pool_failure_test.cpp has the
// failure modes of RELIABILITY.md 1-10).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <sched.h>

#include <atomic>
#include <chrono>
#include <list>
#include <numeric>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "helpers/counting.hpp"
#include "helpers/start_methods.hpp"
#include "multiproc/multiproc.hpp"
#include "start/forkserver.hpp"

namespace mp = multiproc;
using namespace std::chrono_literals;

namespace {

int square(int x) {
  return x * x;
}

int add(int a, int b) {
  return a + b;
}

std::string shout(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s + "!";
}

int fail_on_three(int x) {
  if (x == 3) throw std::invalid_argument("three is not allowed");
  return x;
}

int pid_of_worker(int) {
  return ::getpid();
}

int sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}

// In each worker: the Event a task waits on (given by the initializer).
std::optional<mp::Event> g_gate;
void remember_gate(mp::Event e) {
  g_gate.emplace(std::move(e));
}
int wait_at_gate(int x) {
  g_gate->wait();
  return x;
}

void touch(int) {}

class PoolAcrossMethods : public ::testing::TestWithParam<mp::StartMethod> {
 protected:
  mp::PoolOptions options(std::size_t processes = 2) const {
    mp::PoolOptions o;
    o.processes = processes;
    o.start_method = GetParam();
    return o;
  }
};

}  // namespace

TEST_P(PoolAcrossMethods, MapKeepsInputOrder) {
  mp::Pool pool(options());
  std::vector<int> v = pool.map(square, mp::range(0, 1000));
  ASSERT_EQ(v.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(v[static_cast<std::size_t>(i)], i * i);
  pool.close();
  pool.join();
}

TEST_P(PoolAcrossMethods, ApplyAndApplyAsync) {
  mp::Pool pool(options());
  EXPECT_EQ(pool.apply(add, 2, 3), 5);
  auto r = pool.apply_async(shout, std::string("hi"));
  EXPECT_EQ(r.get(60s), "HI!");
  EXPECT_TRUE(r.ready());
  EXPECT_TRUE(r.successful());
}

TEST_P(PoolAcrossMethods, TaskExceptionIsARemoteErrorWithTypeMessageAndPid) {
  mp::Pool pool(options());
  auto r = pool.apply_async(fail_on_three, 3);
  try {
    r.get(60s);
    FAIL() << "no error";
  } catch (const mp::RemoteError& e) {
    EXPECT_EQ(e.info().type, "std::invalid_argument");
    EXPECT_EQ(e.info().message, "three is not allowed");
    auto pids = pool.worker_pids();
    EXPECT_NE(std::find(pids.begin(), pids.end(), e.info().pid), pids.end());
  }
  EXPECT_FALSE(r.successful());
  // The pool goes on.
  EXPECT_EQ(pool.apply(square, 4), 16);
}

TEST_P(PoolAcrossMethods, MapRaisesTheFirstError) {
  mp::Pool pool(options());
  EXPECT_THROW(pool.map(fail_on_three, mp::range(0, 10)), mp::RemoteError);
  EXPECT_EQ(pool.map(square, std::vector<int>{1, 2}), (std::vector<int>{1, 4}));
}

TEST_P(PoolAcrossMethods, StarmapUnpacksTuples) {
  mp::Pool pool(options());
  std::vector<std::tuple<int, int>> pairs{{1, 2}, {3, 4}, {5, 6}};
  EXPECT_EQ(pool.starmap(add, pairs), (std::vector<int>{3, 7, 11}));
  auto r = pool.starmap_async(add, pairs, {.chunksize = 1});
  EXPECT_EQ(r.get(60s), (std::vector<int>{3, 7, 11}));
}

TEST_P(PoolAcrossMethods, ImapIsOrderedAndImapUnorderedHasEverything) {
  mp::Pool pool(options());
  std::vector<int> ordered;
  for (int y : pool.imap(square, mp::range(0, 200), {.chunksize = 3})) ordered.push_back(y);
  ASSERT_EQ(ordered.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(ordered[static_cast<std::size_t>(i)], i * i);
  std::vector<int> any;
  for (int y : pool.imap_unordered(square, mp::range(0, 200))) any.push_back(y);
  std::sort(any.begin(), any.end());
  EXPECT_EQ(any, ordered);
}

TEST_P(PoolAcrossMethods, ImapOverAnEndlessRangeIsLazy) {
  mp::Pool pool(options());
  int seen = 0;
  for (int y : pool.imap(square, mp::range_from(0))) {
    EXPECT_EQ(y, seen * seen);
    if (++seen == 500) break;
  }
  EXPECT_EQ(seen, 500);
}

TEST_P(PoolAcrossMethods, WorkersAreDistinctProcesses) {
  mp::Pool pool(options(2));
  auto pids = pool.worker_pids();
  ASSERT_EQ(pids.size(), 2u);
  EXPECT_NE(pids[0], pids[1]);
  auto seen = pool.map(pid_of_worker, mp::range(0, 100), {.chunksize = 1});
  for (int p : seen) EXPECT_NE(std::find(pids.begin(), pids.end(), p), pids.end());
}

TEST_P(PoolAcrossMethods, CloseThenJoinLeavesNoWorker) {
  mp::Pool pool(options());
  auto r = pool.map_async(square, mp::range(0, 100));
  pool.close();
  EXPECT_THROW(pool.apply_async(square, 1), mp::UsageError);
  pool.join();
  EXPECT_EQ(r.get(0s).size(), 100u);
  EXPECT_TRUE(pool.worker_pids().empty());
}

TEST_P(PoolAcrossMethods, JoinWithoutCloseIsAUsageError) {
  mp::Pool pool(options());
  EXPECT_THROW(pool.join(), mp::UsageError);
}

TEST_P(PoolAcrossMethods, ProgressHookCountsEveryItem) {
  mp::Pool pool(options());
  std::vector<std::pair<std::size_t, std::size_t>> calls;
  auto v = pool.map(square, mp::range(0, 100),
                    {.chunksize = 10, .progress = [&](std::size_t done, std::size_t total) {
                       calls.emplace_back(done, total);
                     }});
  ASSERT_EQ(calls.size(), 10u);
  for (std::size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].first, 10 * (i + 1));
    EXPECT_EQ(calls[i].second, 100u);
  }
}

TEST_P(PoolAcrossMethods, CallbacksRunWithTheValueOrTheError) {
  mp::Pool pool(options());
  mp::Event got_value, got_error;
  int value = 0;
  std::string error;
  auto ok = pool.apply_async(mp::Callbacks<int>{.callback =
                                                    [&](const int& v) {
                                                      value = v;
                                                      got_value.set();
                                                    }},
                             square, 9);
  auto bad = pool.apply_async(mp::Callbacks<int>{.error_callback =
                                                     [&](std::exception_ptr e) {
                                                       try {
                                                         std::rethrow_exception(e);
                                                       } catch (const mp::RemoteError& r) {
                                                         error = r.info().message;
                                                       }
                                                       got_error.set();
                                                     }},
                              fail_on_three, 3);
  EXPECT_TRUE(got_value.wait(60s));
  EXPECT_TRUE(got_error.wait(60s));
  EXPECT_EQ(value, 81);
  EXPECT_EQ(error, "three is not allowed");
  auto all = pool.map_async(square, std::vector<int>{1, 2, 3}, {},
                            {.callback = [&](const std::vector<int>& v) { value = v[2]; }});
  all.wait();
  pool.close();
  pool.join();  // callbacks have run once join returns
  EXPECT_EQ(value, 9);
}

TEST_P(PoolAcrossMethods, CancelAQueuedTaskAndARunningOne) {
  mp::Event gate;
  auto o = options(1);
  o.initializer = mp::Initializer(remember_gate, gate);
  mp::Pool pool(o);
  auto running = pool.apply_async(wait_at_gate, 1);
  std::vector<mp::AsyncResult<int>> queued;
  for (int i = 0; i < 5; ++i) queued.push_back(pool.apply_async(square, i));
  EXPECT_TRUE(queued[4].cancel());
  EXPECT_THROW(queued[4].get(0s), mp::CancelledError);
  // The running task: its worker is killed and replaced; the others run.
  while (pool.worker_pids().empty()) std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(running.cancel());
  EXPECT_THROW(running.get(60s), mp::CancelledError);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(queued[static_cast<std::size_t>(i)].get(60s), i * i);
  EXPECT_FALSE(queued[0].cancel());  // already done
  gate.set();
}

TEST_P(PoolAcrossMethods, WaitAndReadyWithTimeouts) {
  mp::Pool pool(options(1));
  auto r = pool.apply_async(sleep_ms, 300);
  EXPECT_FALSE(r.ready());
  EXPECT_THROW(r.successful(), mp::UsageError);
  EXPECT_THROW(r.get(1ms), mp::TimeoutError);
  EXPECT_TRUE(r.wait(60s));
  EXPECT_TRUE(r.successful());
  EXPECT_EQ(r.get(), 300);
}

TEST_P(PoolAcrossMethods, VoidTasksAndRangesOfEveryKind) {
  mp::Pool pool(options());
  pool.apply(touch, 1);
  auto r = pool.apply_async(touch, 2);
  r.get(60s);
  std::list<int> list{1, 2, 3};  // not random access
  EXPECT_EQ(pool.map(square, list), (std::vector<int>{1, 4, 9}));
  static_assert(!std::ranges::sized_range<mp::testing::UnsizedCounting>);
  EXPECT_EQ(pool.map(square, mp::testing::count_unsized(1, 6)),
            (std::vector<int>{1, 4, 9, 16, 25}));
  EXPECT_TRUE(pool.map(square, std::vector<int>{}).empty());
  EXPECT_EQ(pool.map(shout, std::vector<std::string>{"a", "b"}),
            (std::vector<std::string>{"A!", "B!"}));
}

TEST_P(PoolAcrossMethods, MapOutcomesKeepsEveryItem) {
  mp::Pool pool(options());
  auto outcomes = pool.map_outcomes(fail_on_three, mp::range(0, 6));
  ASSERT_EQ(outcomes.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    const auto& o = outcomes[static_cast<std::size_t>(i)];
    if (i == 3) {
      EXPECT_FALSE(o.ok());
      EXPECT_NE(o.describe().find("three is not allowed"), std::string::npos);
      EXPECT_THROW(o.value(), mp::RemoteError);
    } else {
      EXPECT_EQ(o.value(), i);
    }
  }
}

TEST_P(PoolAcrossMethods, WorkersIgnoreTheTerminalsSigint) {
  mp::Pool pool(options());
  auto before = pool.worker_pids();
  for (pid_t pid : before) ASSERT_EQ(::kill(pid, SIGINT), 0);
  EXPECT_EQ(pool.map(square, std::vector<int>{1, 2, 3}), (std::vector<int>{1, 4, 9}));
  EXPECT_EQ(pool.worker_pids(), before);  // nobody died
}

TEST(Pool, ForkPoolReplacesWorkersFromItsOwnZygoteWithoutAForkserver) {
  // The test binaries run a forkserver (which fork pools use for
  // replacements when there is one): without it, the pool forks a zygote.
  mp::detail::stop_forkserver();
  {
    mp::Pool pool({.processes = 2, .start_method = mp::StartMethod::fork});
    auto before = pool.worker_pids();
    ASSERT_EQ(::kill(before[0], SIGKILL), 0);
    EXPECT_EQ(pool.map(square, mp::range(0, 50), {.chunksize = 1})[7], 49);
    auto after = pool.worker_pids();
    EXPECT_EQ(after.size(), 2u);
    EXPECT_EQ(std::find(after.begin(), after.end(), before[0]), after.end());
    EXPECT_FALSE(mp::detail::forkserver_pid().has_value());  // not restarted by the pool
  }
  mp::detail::start_forkserver(nullptr);
}

TEST(Pool, DefaultProcessesIsTheCpusThisProcessMayUse) {
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  mp::Pool pool;
  EXPECT_EQ(pool.processes(), static_cast<std::size_t>(CPU_COUNT(&set)));
  EXPECT_EQ(pool.worker_pids().size(), pool.processes());
}

TEST(Pool, ForkPoolInAThreadedProcessIsRefusedWithTheWayOut) {
  mp::Event stop;
  std::thread other([&stop] { stop.wait(); });
  try {
    mp::Pool pool({.processes = 1, .start_method = mp::StartMethod::fork});
    ADD_FAILURE() << "a fork pool started in a threaded process";
  } catch (const mp::ForkUnsafeError& e) {
    // The whole fix for a Pool, as the user writes it, one prefix, and not
    // a Process's option (issue 16.3).
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind("Pool: refusing to fork workers", 0), 0u) << msg;
    EXPECT_EQ(msg.find("Pool: ", 1), std::string::npos) << msg;
    EXPECT_NE(msg.find("mp::init(argc, argv, {.forkserver = true});"), std::string::npos) << msg;
    EXPECT_NE(msg.find("mp::Pool pool({.start_method = mp::StartMethod::forkserver});"),
              std::string::npos)
        << msg;
    EXPECT_EQ(msg.find("allow_fork_with_threads"), std::string::npos) << msg;
  }
  stop.set();
  other.join();
  // The other methods work from a threaded process.
  std::thread again([&stop] { stop.wait(); });
  stop.clear();
  mp::Pool pool({.processes = 1, .start_method = mp::StartMethod::forkserver});
  EXPECT_EQ(pool.apply(square, 3), 9);
  stop.set();
  again.join();
}

INSTANTIATE_TEST_SUITE_P(Methods, PoolAcrossMethods, multiproc::testing::kAllStartMethods,
                         multiproc::testing::start_method_name);
