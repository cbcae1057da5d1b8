// Ported from CPython's Lib/test/_test_multiprocessing.py, class _TestLock
// (line numbers: CPython 3.11.2; Lock.locked() and RLock.locked() came in
// CPython 3.13/3.14 with test_lock_locked_2processes and test_rlock_locked_2processes).
#include <gtest/gtest.h>

#include <mutex>

#include "helpers/start_methods.hpp"
#include "multiproc/context.hpp"
#include "multiproc/error.hpp"

namespace mp = multiproc;
using mp::AcquireResult;

namespace {

// _TestLock.test_lock, line 1284, with locked() as CPython 3.13 checks it.
TEST(TestLock, test_lock) {
  mp::Lock lock;
  EXPECT_FALSE(lock.locked());
  EXPECT_EQ(lock.acquire(), AcquireResult::acquired);
  EXPECT_TRUE(lock.locked());
  EXPECT_EQ(lock.try_acquire(), AcquireResult::timed_out);
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_THROW(lock.release(), mp::UsageError);  // Python: ValueError
}

// _TestLock.test_rlock, line 1291.
TEST(TestLock, test_rlock) {
  mp::RLock lock;
  EXPECT_FALSE(lock.locked());
  EXPECT_EQ(lock.acquire(), AcquireResult::acquired);
  EXPECT_EQ(lock.acquire(), AcquireResult::acquired);
  EXPECT_TRUE(lock.locked());
  lock.release();
  EXPECT_TRUE(lock.locked());
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_THROW(lock.release(), mp::UsageError);  // Python: AssertionError / RuntimeError
}

template <class L>
void hold_and_report(L lock, mp::Event held, mp::Event done, mp::Value<int> seen) {
  std::lock_guard guard(lock);
  seen.set(lock.locked() ? 1 : 0);
  held.set();
  done.wait();
}

class TestLockProcesses : public ::testing::TestWithParam<mp::StartMethod> {};

// _TestLock.test_lock_locked_2processes (CPython 3.13): a lock held by
// another process reads as locked here, and free once it let go.
TEST_P(TestLockProcesses, test_lock_locked_2processes) {
  mp::Lock lock;
  mp::Event held, done;
  mp::Value<int> seen(0);
  mp::Process p =
      mp::get_context(GetParam()).Process(hold_and_report<mp::Lock>, lock, held, done, seen);
  p.start();
  held.wait();
  EXPECT_EQ(seen.value(), 1);
  EXPECT_TRUE(lock.locked());
  done.set();
  p.join();
  EXPECT_FALSE(lock.locked());
}

// _TestLock.test_rlock_locked_2processes (CPython 3.14).
TEST_P(TestLockProcesses, test_rlock_locked_2processes) {
  mp::RLock lock;
  mp::Event held, done;
  mp::Value<int> seen(0);
  mp::Process p =
      mp::get_context(GetParam()).Process(hold_and_report<mp::RLock>, lock, held, done, seen);
  p.start();
  held.wait();
  EXPECT_EQ(seen.value(), 1);
  EXPECT_TRUE(lock.locked());
  done.set();
  p.join();
  EXPECT_FALSE(lock.locked());
}

INSTANTIATE_TEST_SUITE_P(Methods, TestLockProcesses, mp::testing::kAllStartMethods,
                         mp::testing::start_method_name);

}  // namespace
