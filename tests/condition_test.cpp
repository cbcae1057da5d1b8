// Condition: waiting for a predicate across processes, with a Lock or an
// RLock, deadlines and misuse.
#include <gtest/gtest.h>

#include <mutex>
#include <vector>

#include "helpers/test_pipe.hpp"
#include "multiproc/multiproc.hpp"

namespace mp = multiproc;
using mp::AcquireResult;
using mp::testing::TestPipe;
using namespace std::chrono_literals;

namespace {

// A child that waits, under the condition, until `flag` is `wanted`.
int wait_for_flag(mp::Condition cond, mp::Value<int> flag, int wanted) {
  std::unique_lock guard(cond);
  return cond.wait_for([&] { return flag.get_obj() == wanted; }, 30s) ? 0 : 1;
}

}  // namespace

TEST(Condition, NotifyWakesAWaiterInAnotherProcess) {
  mp::Condition cond;
  mp::Value<int> flag(0, mp::no_lock);
  mp::Process waiter(wait_for_flag, cond, flag, 1);
  waiter.start();
  {
    std::lock_guard guard(cond);
    flag.get_obj() = 1;
    cond.notify();
  }
  waiter.join();
  EXPECT_EQ(waiter.exitcode(), 0);
}

TEST(Condition, NotifyAllWakesEveryWaiter) {
  mp::Condition cond;
  mp::Value<int> flag(0, mp::no_lock);
  mp::Value<int> waiting(0, mp::no_lock);
  std::vector<mp::Process> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.emplace_back(
        [](mp::Condition c, mp::Value<int> f, mp::Value<int> w) {
          std::unique_lock guard(c);
          ++w.get_obj();
          c.notify_all();  // tell the parent one more waits
          return c.wait_for([&] { return f.get_obj() == 1; }, 30s) ? 0 : 1;
        },
        cond, flag, waiting);
  }
  for (auto& w : waiters) w.start();
  {
    std::unique_lock guard(cond);
    ASSERT_TRUE(cond.wait_for([&] { return waiting.get_obj() == 3; }, 30s));
    flag.get_obj() = 1;
    cond.notify_all();
  }
  for (auto& w : waiters) {
    w.join();
    EXPECT_EQ(w.exitcode(), 0);
  }
}

TEST(Condition, WaitTimesOutAndHoldsTheLockAgain) {
  mp::Condition cond;
  ASSERT_EQ(cond.acquire(), AcquireResult::acquired);
  EXPECT_FALSE(cond.wait(10ms));
  EXPECT_FALSE(cond.wait_for([] { return false; }, 10ms));
  EXPECT_TRUE(cond.wait_for([] { return true; }, 0ns));
  cond.release();  // held again after every wait
  EXPECT_THROW(cond.release(), mp::UsageError);
}

TEST(Condition, WaitWithoutHoldingTheLockIsAUsageError) {
  mp::Condition cond;
  EXPECT_THROW(cond.wait(), mp::UsageError);
  EXPECT_THROW((void)cond.wait(1s), mp::UsageError);
  mp::Condition over_rlock{mp::RLock()};
  EXPECT_THROW((void)over_rlock.wait(1s), mp::UsageError);
}

TEST(Condition, OverAnRLockWaitReleasesEveryLevelAndRestoresThem) {
  mp::RLock rlock;
  mp::Condition cond(rlock);
  mp::Value<int> flag(0, mp::no_lock);
  ASSERT_EQ(rlock.acquire(), AcquireResult::acquired);
  ASSERT_EQ(rlock.acquire(), AcquireResult::acquired);
  // The notifier needs the lock: it gets it only if wait() let go of both levels.
  mp::Process notifier(
      [](mp::Condition c, mp::Value<int> f) {
        std::lock_guard guard(c);
        f.get_obj() = 1;
        c.notify();
      },
      cond, flag);
  notifier.start();
  EXPECT_TRUE(cond.wait_for([&] { return flag.get_obj() == 1; }, 30s));
  rlock.release();
  rlock.release();
  EXPECT_THROW(rlock.release(), mp::UsageError);
  notifier.join();
  EXPECT_EQ(notifier.exitcode(), 0);
}

TEST(Condition, SharesAnExistingLock) {
  mp::Lock lock;
  mp::Condition cond(lock);
  ASSERT_EQ(lock.acquire(), AcquireResult::acquired);
  EXPECT_EQ(cond.try_lock(), false);  // the same lock, held by this thread
  EXPECT_FALSE(cond.wait(1ms));       // wait releases and retakes `lock`
  lock.release();
}

TEST(Condition, FromFdRebuildsTheConditionAroundItsLock) {
  mp::Lock lock;
  mp::Condition cond(lock);
  mp::Value<int> flag(0, mp::no_lock);
  // The descriptors travel as plain ints here, as a spawn start method would
  // pass them: keep them open in the child.
  mp::Process waiter(
      mp::ProcessOptions{.pass_fds = {cond.fd(), lock.fd()}},
      [](int cond_fd, int lock_fd, mp::Value<int> f) {
        return wait_for_flag(mp::Condition::from_fd(cond_fd, mp::Lock::from_fd(lock_fd)), f, 1);
      },
      cond.fd(), lock.fd(), flag);
  waiter.start();
  {
    std::lock_guard guard(cond);
    flag.get_obj() = 1;
    cond.notify();
  }
  waiter.join();
  EXPECT_EQ(waiter.exitcode(), 0);
  EXPECT_THROW(mp::Condition::from_fd(lock.fd(), lock), mp::UsageError);
}

TEST(Condition, NotifyOfANegativeCountIsAUsageError) {
  mp::Condition cond;
  EXPECT_THROW(cond.notify(-1), mp::UsageError);
  cond.notify(0);
  cond.notify_all();  // nobody waits: nothing happens
}
