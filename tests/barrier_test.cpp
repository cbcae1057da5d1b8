// Barrier: cycles across processes, the action, and every way it breaks.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <set>
#include <stdexcept>
#include <vector>

#include "helpers/test_pipe.hpp"
#include "multiproc/multiproc.hpp"

namespace mp = multiproc;
using mp::testing::TestPipe;
using namespace std::chrono_literals;

namespace {

constexpr int kBroken = 3;

// A party in a child: waits once, exits with its index, or kBroken.
int party(mp::Barrier b) {
  try {
    return b.wait(30s);
  } catch (const mp::BrokenBarrierError&) {
    return kBroken;
  }
}

// As party(), without a timeout: only the barrier itself can end the wait.
int party_without_timeout(mp::Barrier b) {
  try {
    return b.wait();
  } catch (const mp::BrokenBarrierError&) {
    return kBroken;
  }
}

// Waits (polling, bounded) until `n` parties wait on `b`.
void await_waiting(const mp::Barrier& b, int n) {
  auto give_up = std::chrono::steady_clock::now() + 30s;
  while (b.n_waiting() != n) {
    ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "parties never arrived";
    sched_yield();
  }
}

}  // namespace

TEST(Barrier, ReleasesAllPartiesWithDistinctIndicesAndRunsTheActionOncePerCycle) {
  constexpr int kCycles = 5;
  mp::Value<int> actions(0, mp::no_lock);
  mp::Barrier barrier(3, [actions] { ++actions.get_obj(); });
  auto run = [](mp::Barrier b, const TestPipe& out) {
    for (int i = 0; i < kCycles; ++i) out.write(std::to_string(b.wait(30s)));
  };
  TestPipe indices;
  mp::Process a(run, barrier, std::ref(indices)), b(run, barrier, std::ref(indices));
  a.start();
  b.start();
  std::multiset<char> seen;
  for (int i = 0; i < kCycles; ++i) seen.insert(static_cast<char>('0' + barrier.wait(30s)));
  a.join();
  b.join();
  for (char c : indices.read_all()) seen.insert(c);
  EXPECT_EQ(seen.count('0'), kCycles);
  EXPECT_EQ(seen.count('1'), kCycles);
  EXPECT_EQ(seen.count('2'), kCycles);
  EXPECT_EQ(actions.get_obj(), kCycles);
  EXPECT_FALSE(barrier.broken());
}

TEST(Barrier, OneParty) {
  mp::Barrier barrier(1);
  EXPECT_EQ(barrier.wait(), 0);
  EXPECT_EQ(barrier.wait(), 0);
  EXPECT_EQ(barrier.parties(), 1);
}

TEST(Barrier, ZeroOrNegativePartiesIsAUsageError) {
  EXPECT_THROW(mp::Barrier(0), mp::UsageError);
  EXPECT_THROW(mp::Barrier(-2), mp::UsageError);
}

TEST(Barrier, AWaitThatTimesOutBreaksTheBarrierUntilReset) {
  mp::Barrier barrier(2);
  EXPECT_THROW(barrier.wait(10ms), mp::BrokenBarrierError);
  EXPECT_TRUE(barrier.broken());
  EXPECT_THROW(barrier.wait(10ms), mp::BrokenBarrierError);
  barrier.reset();
  EXPECT_FALSE(barrier.broken());
  mp::Process other(party, barrier);
  other.start();
  int mine = barrier.wait(30s);
  other.join();
  EXPECT_EQ(mine + *other.exitcode(), 1);  // indices 0 and 1
}

TEST(Barrier, TheDefaultTimeoutApplies) {
  mp::Barrier barrier(2, {}, 10ms);
  EXPECT_THROW(barrier.wait(), mp::BrokenBarrierError);
}

TEST(Barrier, AbortBreaksAWaitingParty) {
  mp::Barrier barrier(2);
  mp::Process waiter(party, barrier);
  waiter.start();
  await_waiting(barrier, 1);
  barrier.abort();
  waiter.join();
  EXPECT_EQ(waiter.exitcode(), kBroken);
  EXPECT_TRUE(barrier.broken());
}

TEST(Barrier, ResetBreaksTheWaitingPartiesAndReopens) {
  mp::Barrier barrier(3);
  mp::Process waiter(party, barrier);
  waiter.start();
  await_waiting(barrier, 1);
  barrier.reset();
  waiter.join();
  EXPECT_EQ(waiter.exitcode(), kBroken);
  EXPECT_FALSE(barrier.broken());
  EXPECT_EQ(barrier.n_waiting(), 0);
}

TEST(Barrier, AnActionThatThrowsBreaksTheBarrierAndReachesItsCaller) {
  mp::Barrier barrier(2, [] { throw std::runtime_error("action failed"); });
  mp::Process waiter(party, barrier);
  waiter.start();
  await_waiting(barrier, 1);  // this process arrives last: it runs the action
  EXPECT_THROW(barrier.wait(30s), std::runtime_error);
  waiter.join();
  EXPECT_EQ(waiter.exitcode(), kBroken);
  EXPECT_TRUE(barrier.broken());
}

TEST(Barrier, APartyKilledDuringTheActionBreaksTheBarrierForTheOthers) {
  // The action runs under the barrier's robust lock: a party killed there
  // must not leave the others waiting forever (they wait without a timeout).
  TestPipe in_action;
  mp::Barrier barrier(3, [&in_action] {
    in_action.write("a");
    for (;;) pause();
  });
  mp::Process first(party_without_timeout, barrier), second(party_without_timeout, barrier);
  mp::Process last(mp::ProcessOptions{.pass_fds = {in_action.write_fd()}}, party, barrier);
  first.start();
  second.start();
  await_waiting(barrier, 2);
  last.start();  // arrives third: runs the action, and is killed there
  ASSERT_EQ(in_action.read_some(1), "a");
  last.kill();
  last.join();
  first.join();
  second.join();
  EXPECT_EQ(first.exitcode(), kBroken);
  EXPECT_EQ(second.exitcode(), kBroken);
  EXPECT_TRUE(barrier.broken());
}

// What a dead party does (docs/synchronization.md): one killed inside
// wait() counted as arrived, so its cycle completes; but it never leaves
// that cycle, so the next wait can only end by its timeout, which breaks
// the barrier (it used to wait forever, timeout or not).
TEST(Barrier, APartyKilledWhileWaitingCountsAsArrivedAndTheNextCycleTimesOut) {
  mp::Barrier barrier(3);
  mp::Process dead(party_without_timeout, barrier);
  dead.start();
  await_waiting(barrier, 1);
  dead.kill();
  dead.join();
  mp::Process other(party, barrier);
  other.start();
  int mine = barrier.wait(30s);  // the dead party, the other and this one: 3
  other.join();
  EXPECT_NE(*other.exitcode(), kBroken);
  EXPECT_EQ(mine + *other.exitcode(), 1 + 2);  // indices 1 and 2; the dead one had 0
  EXPECT_THROW(barrier.wait(50ms), mp::BrokenBarrierError);
  EXPECT_TRUE(barrier.broken());
}

TEST(Barrier, FromFdSharesTheBarrier) {
  mp::Barrier barrier(2);
  mp::Barrier adopted = mp::Barrier::from_fd(barrier.fd());
  EXPECT_EQ(adopted.parties(), 2);
  mp::Process other(party, adopted);
  other.start();
  int mine = barrier.wait(30s);
  other.join();
  EXPECT_EQ(mine + *other.exitcode(), 1);
  mp::Event e;
  EXPECT_THROW(mp::Barrier::from_fd(e.fd()), mp::UsageError);
}

TEST(Barrier, AMovedFromHandleIsAUsageError) {
  mp::Barrier barrier(1);
  mp::Barrier other = std::move(barrier);
  EXPECT_THROW(barrier.wait(), mp::UsageError);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(other.wait(), 0);
}
