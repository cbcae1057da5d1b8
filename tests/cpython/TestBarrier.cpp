// Ported from CPython's Lib/test/_test_multiprocessing.py, class _TestBarrier
// (line numbers: CPython 3.11.2), under every start method: N - 1 child
// processes and this one are the N parties (CPython's Bunch).
//
// Differences:
// - CPython's _DummyList (a counter in shared memory) is a Value<int>.
// - The action: CPython pickles it into every child. A C++ action is a
//   std::function and does not cross to a spawned or forkserver child: the
//   action belongs to the handle (barrier.hpp), so each party that may run it
//   gives it to its own handle (Barrier::from_fd). Under fork the child's
//   copy of the handle keeps it, as here.
// - test_timeout and test_default_timeout: CPython's late party sleeps 1 s
//   so that the others' 0.5 s waits time out. Here the late party waits until
//   the barrier is broken (by the others' timeouts) and then arrives: the same
//   outcome without relying on the scheduler.
// - test_reset polls n_waiting(), as CPython does.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "helpers/start_methods.hpp"
#include "multiproc/barrier.hpp"
#include "multiproc/connection.hpp"
#include "multiproc/context.hpp"
#include "multiproc/error.hpp"
#include "multiproc/queue.hpp"
#include "multiproc/value.hpp"

namespace mp = multiproc;
using namespace std::chrono_literals;

namespace {

constexpr int N = 5;
constexpr auto kDefaultTimeout = 30s;

// Python's assert in a child: a failure makes the party's exit code non-zero.
void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(what);
}

// _DummyList.append and len().
void append(mp::Value<int> list) {
  std::lock_guard guard(list.get_lock());
  list.get_obj() += 1;
}
int len(const mp::Value<int>& list) {
  return list.value();
}

class TestBarrier : public ::testing::TestWithParam<mp::StartMethod> {
 protected:
  void TearDown() override { barrier_.abort(); }

  // run_threads: N - 1 processes and this one run f(args...).
  template <class... P, class... A>
  void run_threads(void (*f)(P...), A... args) {
    std::vector<mp::Process> procs;
    auto ctx = mp::get_context(GetParam());
    for (int i = 0; i < N - 1; ++i) {
      procs.push_back(ctx.Process(f, args...));
      procs.back().start();
    }
    try {
      f(args...);
    } catch (...) {
      barrier_.abort();
      for (auto& p : procs) p.join();
      throw;
    }
    for (auto& p : procs) {
      p.join();
      EXPECT_EQ(p.exitcode(), 0);
    }
  }

  mp::Barrier barrier_{N, {}, kDefaultTimeout};
};

void multipass(mp::Barrier barrier, mp::Value<int> results0, mp::Value<int> results1, int n) {
  int m = barrier.parties();
  check(m == N, "parties");
  for (int i = 0; i < n; ++i) {
    append(results0);
    check(len(results1) == i * m, "results[1] ahead");
    barrier.wait();
    append(results1);
    check(len(results0) == (i + 1) * m, "results[0] behind");
    barrier.wait();
  }
  check(barrier.n_waiting() == 0, "n_waiting");
  check(!barrier.broken(), "broken");
}

// _TestBarrier.test_barrier, line 1859.
TEST_P(TestBarrier, test_barrier) {
  mp::Value<int> r0(0), r1(0);
  run_threads(multipass, barrier_, r0, r1, 1);
  EXPECT_EQ(len(r0), N);
  EXPECT_EQ(len(r1), N);
}

// _TestBarrier.test_barrier_10, line 1866.
TEST_P(TestBarrier, test_barrier_10) {
  mp::Value<int> r0(0), r1(0);
  run_threads(multipass, barrier_, r0, r1, 10);
  EXPECT_EQ(len(r0), 10 * N);
}

void wait_return_f(mp::Barrier barrier, mp::Queue<int> queue) {
  queue.put(barrier.wait());
}

// _TestBarrier.test_wait_return, line 1877: the indices are 0..N-1, each
// once (CPython checks that one is 0).
TEST_P(TestBarrier, test_wait_return) {
  mp::Queue<int> queue;
  run_threads(wait_return_f, barrier_, queue);
  std::vector<int> results;
  for (int i = 0; i < N; ++i) results.push_back(queue.get());
  std::sort(results.begin(), results.end());
  EXPECT_EQ(results, (std::vector<int>{0, 1, 2, 3, 4}));
}

void action_f(mp::Barrier barrier, mp::Value<int> results) {
  // The action is given to this party's own handle (see the header).
  mp::Barrier mine = mp::Barrier::from_fd(barrier.fd(), [results] { append(results); });
  mine.wait();
  if (len(results) != 1) throw std::runtime_error("the action did not run once");
}

// _TestBarrier.test_action, line 1893.
TEST_P(TestBarrier, test_action) {
  mp::Value<int> results(0);
  mp::Barrier barrier(N);
  run_threads(action_f, barrier, results);
  EXPECT_EQ(len(results), 1);
}

void abort_f(mp::Barrier barrier, mp::Value<int> results1, mp::Value<int> results2) {
  try {
    int i = barrier.wait();
    if (i == N / 2) throw std::logic_error("RuntimeError");
    barrier.wait();
    append(results1);
  } catch (const mp::BrokenBarrierError&) {
    append(results2);
  } catch (const std::logic_error&) {
    barrier.abort();
  }
}

// _TestBarrier.test_abort, line 1915.
TEST_P(TestBarrier, test_abort) {
  mp::Value<int> r1(0), r2(0);
  run_threads(abort_f, barrier_, r1, r2);
  EXPECT_EQ(len(r1), 0);
  EXPECT_EQ(len(r2), N - 1);
  EXPECT_TRUE(barrier_.broken());
}

void reset_f(mp::Barrier barrier, mp::Value<int> results1, mp::Value<int> results2,
             mp::Value<int> results3) {
  int i = barrier.wait();
  if (i == N / 2) {
    // Wait until the other parties are all in the barrier.
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (barrier.n_waiting() < N - 1) {
      check(std::chrono::steady_clock::now() < deadline, "the others never waited");
      std::this_thread::sleep_for(1ms);
    }
    barrier.reset();
  } else {
    try {
      barrier.wait();
      append(results1);
    } catch (const mp::BrokenBarrierError&) {
      append(results2);
    }
  }
  // Now, pass the barrier again.
  barrier.wait();
  append(results3);
}

// _TestBarrier.test_reset, line 1945.
TEST_P(TestBarrier, test_reset) {
  mp::Value<int> r1(0), r2(0), r3(0);
  run_threads(reset_f, barrier_, r1, r2, r3);
  EXPECT_EQ(len(r1), 0);
  EXPECT_EQ(len(r2), N - 1);
  EXPECT_EQ(len(r3), N);
}

void abort_and_reset_f(mp::Barrier barrier, mp::Barrier barrier2, mp::Value<int> results1,
                       mp::Value<int> results2, mp::Value<int> results3) {
  try {
    int i = barrier.wait();
    if (i == N / 2) throw std::logic_error("RuntimeError");
    barrier.wait();
    append(results1);
  } catch (const mp::BrokenBarrierError&) {
    append(results2);
  } catch (const std::logic_error&) {
    barrier.abort();
  }
  // Synchronize and reset the barrier: everyone has left it when it is
  // reset, and no one enters it before.
  if (barrier2.wait() == N / 2) barrier.reset();
  barrier2.wait();
  barrier.wait();
  append(results3);
}

// _TestBarrier.test_abort_and_reset, line 1980.
TEST_P(TestBarrier, test_abort_and_reset) {
  mp::Value<int> r1(0), r2(0), r3(0);
  mp::Barrier barrier2(N, {}, kDefaultTimeout);
  run_threads(abort_and_reset_f, barrier_, barrier2, r1, r2, r3);
  EXPECT_EQ(len(r1), 0);
  EXPECT_EQ(len(r2), N - 1);
  EXPECT_EQ(len(r3), N);
}

// The late party: arrives only once the others' timeouts broke the barrier
// (CPython sleeps 1 s instead).
void arrive_late(const mp::Barrier& barrier) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!barrier.broken()) {
    check(std::chrono::steady_clock::now() < deadline, "the barrier never broke");
    std::this_thread::sleep_for(1ms);
  }
}

void timeout_f(mp::Barrier barrier, mp::Value<int> results) {
  int i = barrier.wait();
  if (i == N / 2) arrive_late(barrier);  // one party is late
  try {
    barrier.wait(500ms);
  } catch (const mp::BrokenBarrierError&) {
    append(results);
  }
}

// _TestBarrier.test_timeout, line 2006.
TEST_P(TestBarrier, test_timeout) {
  mp::Value<int> results(0);
  run_threads(timeout_f, barrier_, results);
  EXPECT_EQ(len(results), barrier_.parties());
}

void default_timeout_f(mp::Barrier barrier, mp::Value<int> results) {
  int i = barrier.wait(kDefaultTimeout);
  if (i == N / 2) arrive_late(barrier);  // later than the default timeout
  try {
    barrier.wait();
  } catch (const mp::BrokenBarrierError&) {
    append(results);
  }
}

// _TestBarrier.test_default_timeout, line 2025.
TEST_P(TestBarrier, test_default_timeout) {
  mp::Barrier barrier(N, {}, 500ms);
  mp::Value<int> results(0);
  run_threads(default_timeout_f, barrier, results);
  EXPECT_EQ(len(results), barrier.parties());
}

// _TestBarrier.test_single_thread, line 2034.
TEST(TestBarrierOneProcess, test_single_thread) {
  mp::Barrier b(1);
  EXPECT_EQ(b.wait(), 0);
  EXPECT_EQ(b.wait(), 0);
}

void thousand_f(mp::Barrier barrier, int passes, mp::Connection conn, mp::Lock lock) {
  for (int i = 0; i < passes; ++i) {
    barrier.wait();
    std::lock_guard guard(lock);
    conn.send(i);
  }
}

// _TestBarrier.test_thousand, line 2046: N processes, 1000 cycles; every
// value of a cycle comes before any of the next.
TEST_P(TestBarrier, test_thousand) {
  constexpr int passes = 1000;
  mp::Lock lock;
  auto [conn, child_conn] = mp::Pipe(false);
  std::vector<mp::Process> procs;
  auto ctx = mp::get_context(GetParam());
  for (int j = 0; j < N; ++j) {
    // A Connection is move-only: each child gets its own handle to the end.
    mp::Connection mine = mp::Connection::from_fd(::dup(child_conn.fd()), false, true);
    procs.push_back(ctx.Process(thousand_f, barrier_, passes, std::move(mine), lock));
    procs.back().start();
  }
  for (int i = 0; i < passes; ++i) {
    for (int j = 0; j < N; ++j) {
      ASSERT_TRUE(conn.poll(60s));
      ASSERT_EQ(conn.recv<int>(), i);
    }
  }
  for (auto& p : procs) {
    p.join();
    EXPECT_EQ(p.exitcode(), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Methods, TestBarrier, mp::testing::kAllStartMethods,
                         mp::testing::start_method_name);

}  // namespace
