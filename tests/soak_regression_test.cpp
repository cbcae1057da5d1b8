// Minimal reproductions of library bugs the soak test (tests/soak/) found.
// Each test that still fails is DISABLED_ with a comment naming the bug;
// remove the prefix with the fix. Run one anyway with
//   build/tests/soak_regression_test --gtest_also_run_disabled_tests
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "helpers/start_methods.hpp"
#include "helpers/test_pipe.hpp"
#include "multiproc/multiproc.hpp"
#include "queue/impl.hpp"

namespace mp = multiproc;
using mp::testing::TestPipe;

namespace {

int g_hook_fd = -1;

void report_and_stop() {
  (void)!write(g_hook_fd, "w", 1);
  for (;;) pause();
}

// In a child: where it says it stopped at the test hook.
std::optional<mp::Event> g_at_hook;

void stop_at_hook() {
  g_at_hook->set();
  for (;;) pause();
}

// Stops inside put(), holding the producers' lock, just before committing.
void hold_the_put_lock(mp::Queue<std::string> q, mp::Event at_hook) {
  g_at_hook.emplace(std::move(at_hook));
  mp::detail::queue::g_test_hook_before_commit = stop_at_hook;
  q.put("held");
}

void put_one(mp::Queue<std::string> q, mp::Event started) {
  started.set();
  q.put("after");
}

std::string large(char fill) {
  return std::string(std::size_t{3} << 20, fill);  // beyond the ring: stored as a large item
}

}  // namespace

// Soak: `soak --seconds 90 --no-pool --no-storm` (seed 1184022325 and others;
// any seed with relay kills): "queue: no item delivered damaged or partial"
// fails for items of 1 to 3 MiB, 3 to 9 times in ten minutes (about one
// relay SIGKILLed in 30 to 80).
//
// The bug: a get() of a large item gives the item's extent back (as the
// queue's spare extent, read_large's Release) before it moves the head. A
// consumer killed between the two leaves the item in the queue, for the next
// consumer, while its extent is already free: the next large put takes the
// spare extent and overwrites it, and the next get delivers the new item's
// bytes under the old record (wrong size: a damaged item; same size: the
// wrong item, twice). The kill lands there often because a SIGKILL takes
// effect on the return from a system call, and munmap is the last one
// before the head moves.
//
// The test kills a consumer right there (the test hook before the head
// moves), puts a second large item, and gets the first one again.
TEST(SoakRegression, DISABLED_AConsumerKilledAfterReadingALargeItemLeavesItIntact) {
  mp::Queue<std::string> q;
  q.put(large('A'));
  TestPipe window;
  mp::Process consumer(
      [](mp::Queue<std::string> qq, const TestPipe& w) {
        g_hook_fd = w.write_fd();
        mp::detail::queue::g_test_hook_before_head_moves = report_and_stop;
        qq.get();
      },
      q, std::ref(window));
  consumer.start();
  ASSERT_EQ(window.read_some(1), "w");
  consumer.kill();
  consumer.join();
  q.put(large('B'));  // takes the spare extent, if the dead consumer left one
  std::string first = q.get();
  EXPECT_EQ(first.size(), std::size_t{3} << 20);
  EXPECT_TRUE(first == large('A')) << "the first item came back as " << first.substr(0, 8) << "...";
  EXPECT_EQ(q.get(), large('B'));
}

// Soak: `soak --seconds 600` (seed 1266938637, round 2559; also seed
// 288666490, round 20): "queue rounds end in time" fails, about once in ten
// minutes. A producer waits forever in futex_wait on the queue's put_lock
// (futex word 0x80000c09: FUTEX_WAITERS | TID 3081, with __owner 0) while the
// queue is empty (put_count == get_count, head == tail) and the consumers
// wait for data: the lock's owner is gone, yet the word was never marked
// FUTEX_OWNER_DIED and the waiter never woken. __owner 0 with the TID still
// in the word is the state inside pthread_mutex_unlock of a robust mutex
// (after DEQUEUE, before the exchange), or of a lock whose owner's TID in the
// word is not its real TID (the kernel then skips it at exit).
//
// This test kills the holder at a quiet point (the hook before commit, the
// lock fully taken) with a producer already waiting, for each start method:
// it PASSES, so the hang needs a narrower window (a SIGKILL inside the lock
// or unlock) that no hook reaches yet. Kept as a guard for the path that
// works; the soak's stuck-round report (each producer's PID and start method,
// the futex words) is what will tell which process's TID is in the word.
class SoakRegressionPutLock : public ::testing::TestWithParam<mp::StartMethod> {};

TEST_P(SoakRegressionPutLock, AProducerKilledHoldingThePutLockReleasesAWaitingProducer) {
  using namespace std::chrono_literals;
  mp::Queue<std::string> q;
  mp::Event at_hook, started;
  mp::Process holder({.start_method = GetParam()}, hold_the_put_lock, q, at_hook);
  holder.start();
  ASSERT_TRUE(at_hook.wait(60s));
  mp::Process waiter({.start_method = GetParam()}, put_one, q, started);
  waiter.start();
  ASSERT_TRUE(started.wait(60s));
  // The state under test: the waiter blocked on the lock the holder has.
  std::this_thread::sleep_for(200ms);
  holder.kill();
  holder.join();
  bool ended = waiter.join(10s);
  EXPECT_TRUE(ended) << "the waiting producer is still blocked 10 s after the holder died";
  if (!ended) {
    waiter.kill();
    waiter.join();
  }
  EXPECT_EQ(q.get(1s), std::optional<std::string>("after"));
}

INSTANTIATE_TEST_SUITE_P(Methods, SoakRegressionPutLock, mp::testing::kAllStartMethods,
                         mp::testing::start_method_name);

namespace {

void put_forever(mp::Queue<int> q) {
  for (int i = 0;; ++i) q.put(i);
}

void put_n(mp::Queue<int> q, int n) {
  for (int i = 0; i < n; ++i) q.put(i);
}

}  // namespace

// Soak: `soak --seconds 600`, seed 1301863506 (rounds 987 and 2688) and
// seed 706877225 (round 3594), "queue rounds end in time": a producer sleeps forever in futex_wait
// on the put lock, expecting the word FUTEX_WAITERS | TID of another producer, while the word is 0
// (unlocked) and that producer has finished. A wake-up was lost. How, by the futex words the soak
// printed: the holder unlocks and wakes one waiter (FUTEX_WAKE, 1); the woken waiter is SIGKILLed
// before it takes the lock; another producer takes it first through the fast path (0 -> its TID,
// without FUTEX_WAITERS); the dying waiter's robust-list entry then finds the
// word owned by a live TID (the kernel wakes nobody), and the next unlock
// sees no FUTEX_WAITERS (it wakes nobody). A waiter still asleep stays asleep
// for good: Guard locks with pthread_mutex_lock, without a deadline.
//
// Here: a bounded queue, so the lock's holder sleeps for room while holding
// it and the other producers queue up in futex_wait on it; the parent takes
// an item now and then and SIGKILLs (and replaces) a producer every few
// milliseconds; afterwards the producers that were never killed must finish.
// NOT A RELIABLE REPRODUCTION YET: it passed in the runs made here (the
// window, a woken waiter killed before it runs, is narrow); the soak hits it
// about once per 2,500 queue rounds (once a ten-minute run). Disabled
// because it takes 15-25 s.
TEST(SoakRegression, DISABLED_ProducersKilledWhileOthersWaitForThePutLockWedgeNone) {
  using namespace std::chrono_literals;
  mp::Queue<int> q(2);
  std::vector<mp::Process> busy;
  for (int i = 0; i < 4; ++i) {
    busy.emplace_back(put_forever, q);
    busy.back().start();
  }
  std::vector<mp::Process> finite;
  for (int i = 0; i < 2; ++i) {
    finite.emplace_back(put_n, q, 50000);
    finite.back().start();
  }
  auto until = std::chrono::steady_clock::now() + 8s;
  std::size_t next = 0;
  while (std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 3; ++i) (void)q.get(1ms);
    busy[next].kill();
    busy[next].join();
    busy[next] = mp::Process(put_forever, q);
    busy[next].start();
    next = (next + 1) % busy.size();
  }
  for (auto& p : busy) {
    p.kill();
    p.join();
  }
  auto deadline = std::chrono::steady_clock::now() + 30s;
  for (auto& p : finite) {
    while (!p.join(1ms) && std::chrono::steady_clock::now() < deadline) {
      while (q.try_get()) {
      }
    }
    bool ended = p.join(0s);
    EXPECT_TRUE(ended) << "a producer that was never killed is still blocked after 30 s";
    if (!ended) {
      p.kill();
      p.join();
    }
  }
}
