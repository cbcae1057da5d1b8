// Ported from CPython's Lib/test/_test_multiprocessing.py, classes _TestValue
// and _TestArray (line numbers: CPython 3.11.2): a Value or Array guarded by
// a new RLock, a Lock or RLock given, or no lock, across every start method.
#include <gtest/gtest.h>

#include <mutex>

#include "helpers/start_methods.hpp"
#include "multiproc/context.hpp"
#include "multiproc/error.hpp"

namespace mp = multiproc;
using mp::AcquireResult;

namespace {

// _TestValue.test_getobj_getlock, line 2110.
TEST(TestValue, test_getobj_getlock) {
  mp::Value<int> val1(5);
  EXPECT_TRUE(val1.get_lock().recursive());  // lock=True (the default): an RLock

  mp::Lock lock;
  mp::Value<int> val3(5, lock);  // lock=Lock(): that very lock
  ASSERT_FALSE(val3.get_lock().recursive());
  EXPECT_EQ(val3.get_lock().fd() >= 0, true);
  ASSERT_EQ(lock.acquire(), AcquireResult::acquired);
  EXPECT_TRUE(val3.get_lock().locked());  // the same lock
  lock.release();

  mp::Value<int> val4(5, mp::no_lock);  // lock=False
  EXPECT_FALSE(val4.has_lock());
  EXPECT_THROW(val4.get_lock(), mp::UsageError);
  EXPECT_EQ(val4.get_obj(), 5);
}

// With a plain Lock, value() under a held get_lock() is a UsageError (Python
// deadlocks there); with the default RLock it works.
TEST(TestValue, a_plain_lock_is_not_recursive) {
  mp::Value<int> plain(1, mp::Lock());
  {
    std::lock_guard guard(plain.get_lock());
    EXPECT_THROW(plain.value(), mp::UsageError);
  }
  EXPECT_EQ(plain.value(), 1);
  mp::Value<int> recursive(1);
  std::lock_guard guard(recursive.get_lock());
  recursive.set(recursive.value() + 1);
  EXPECT_EQ(recursive.value(), 2);
}

template <class V>
void add_under_lock(V v, int times) {
  for (int i = 0; i < times; ++i) {
    std::lock_guard guard(v.get_lock());
    v.get_obj() += 1;
  }
}

void add_to_array(mp::Array<int> a, int times) {
  for (int i = 0; i < times; ++i) {
    std::lock_guard guard(a.get_lock());
    a.span()[0] += 1;
  }
}

class TestValueProcesses : public ::testing::TestWithParam<mp::StartMethod> {};

// _TestValue.test_value, line 2088, with each kind of lock crossing into the
// children.
TEST_P(TestValueProcesses, test_value) {
  mp::Value<int> with_lock(0, mp::Lock());
  mp::Value<int> with_rlock(0, mp::RLock());
  auto ctx = mp::get_context(GetParam());
  mp::Process a = ctx.Process(add_under_lock<mp::Value<int>>, with_lock, 200);
  mp::Process b = ctx.Process(add_under_lock<mp::Value<int>>, with_lock, 200);
  mp::Process c = ctx.Process(add_under_lock<mp::Value<int>>, with_rlock, 100);
  a.start();
  b.start();
  c.start();
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(with_lock.value(), 400);
  EXPECT_EQ(with_rlock.value(), 100);
}

// _TestArray.test_getobj_getlock_obj, line 2190, and test_array, line 2146.
TEST_P(TestValueProcesses, test_array) {
  mp::Array<int> arr(4, mp::Lock());
  EXPECT_FALSE(arr.get_lock().recursive());
  mp::Process p = mp::get_context(GetParam()).Process(add_to_array, arr, 50);
  p.start();
  p.join();
  EXPECT_EQ(arr.span()[0], 50);
  mp::Array<int> none(4, mp::no_lock);
  EXPECT_THROW(none.get_lock(), mp::UsageError);
}

INSTANTIATE_TEST_SUITE_P(Methods, TestValueProcesses, mp::testing::kAllStartMethods,
                         mp::testing::start_method_name);

}  // namespace
