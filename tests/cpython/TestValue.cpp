// Ported from CPython's Lib/test/_test_multiprocessing.py, classes _TestValue
// and _TestArray (line numbers: CPython 3.11.2): a Value or Array guarded by
// a new RLock, a Lock or RLock given, or no lock, across every start method.
//
// Skipped: test_rawvalue's and test_getobj_getlock_obj's checks that a raw
// object has no get_lock attribute, and lock='notalock' (Python's dynamic
// attributes and types: C++ rejects those at compile time).
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <mutex>
#include <numeric>
#include <vector>

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

// _TestArray.f, line 2141: running sums, in place.
template <class Seq>
void running_sums(Seq& seq) {
  for (std::size_t i = 1; i < seq.size(); ++i) seq[i] += seq[i - 1];
}

void running_sums_in_child(mp::Array<int> arr) {
  running_sums(arr);
}

class TestArray : public ::testing::TestWithParam<mp::StartMethod> {
 protected:
  // _TestArray.test_array, line 2146 (raw: test_rawarray, line 2186).
  // Python's slices are subspans here.
  void check_array(bool raw) {
    std::vector<int> seq{680, 626, 934, 821, 150, 233, 548, 982, 714, 831};
    mp::Array<int> arr = raw ? mp::Array<int>(seq, mp::no_lock) : mp::Array<int>(seq);
    EXPECT_EQ(arr.has_lock(), !raw);
    EXPECT_EQ(arr.size(), seq.size());
    EXPECT_EQ(arr[3], seq[3]);
    auto slice = arr.span().subspan(2, 5);
    EXPECT_TRUE(std::equal(slice.begin(), slice.end(), seq.begin() + 2, seq.begin() + 7));

    const int replacement[] = {1, 2, 3, 4};  // arr[4:8] = seq[4:8] = [1, 2, 3, 4]
    std::copy(std::begin(replacement), std::end(replacement), arr.begin() + 4);
    std::copy(std::begin(replacement), std::end(replacement), seq.begin() + 4);
    EXPECT_EQ(std::vector<int>(arr.begin(), arr.end()), seq);

    running_sums(seq);
    mp::Process p = mp::get_context(GetParam()).Process(running_sums_in_child, arr);
    p.start();
    p.join();
    EXPECT_EQ(p.exitcode(), 0);
    EXPECT_EQ(std::vector<int>(arr.begin(), arr.end()), seq);
  }
};

TEST_P(TestArray, test_array) {
  check_array(false);
}

// _TestArray.test_rawarray, line 2186: RawArray is Array(..., no_lock).
TEST_P(TestArray, test_rawarray) {
  check_array(true);
}

INSTANTIATE_TEST_SUITE_P(Methods, TestArray, mp::testing::kAllStartMethods,
                         mp::testing::start_method_name);

// _TestArray.test_array_from_size, line 2171: a new Array is zeroed, every
// time (issue #11675).
TEST(TestArrayOneProcess, test_array_from_size) {
  constexpr std::size_t size = 10;
  for (int round = 0; round < 3; ++round) {
    mp::Array<int> arr(size);
    EXPECT_EQ(arr.size(), size);
    EXPECT_EQ(std::vector<int>(arr.begin(), arr.end()), std::vector<int>(size, 0));
    std::iota(arr.begin(), arr.end(), 0);
    EXPECT_EQ(arr[9], 9);
  }
}

}  // namespace
