// Value<T> and Array<T>: shared with children, guarded by their lock or not,
// rebuilt from descriptors, and refused when the size makes no sense.
#include <gtest/gtest.h>

#include <cstdint>
#include <mutex>
#include <numeric>
#include <vector>

#include "multiproc/multiproc.hpp"

namespace mp = multiproc;
using mp::AcquireResult;
using namespace std::chrono_literals;

namespace {

struct Point {
  double x, y;
  int tag;
};

// Starts `n` children running `f(args...)` and joins them; true if all exited 0.
template <class F, class... Args>
bool run_children(int n, F f, const Args&... args) {
  std::vector<mp::Process> children;
  for (int i = 0; i < n; ++i) children.emplace_back(f, args...);
  for (auto& c : children) c.start();
  bool ok = true;
  for (auto& c : children) {
    c.join();
    ok = ok && c.exitcode() == 0;
  }
  return ok;
}

}  // namespace

TEST(Value, HoldsItsInitialValueAndIsSharedWithChildren) {
  mp::Value<Point> p(Point{1.5, 2.5, 7});
  EXPECT_EQ(p.value().tag, 7);
  ASSERT_TRUE(run_children(
      1,
      [](mp::Value<Point> v) {
        v.set(Point{3, 4, 9});
      },
      p));
  EXPECT_EQ(p.value().x, 3);
  EXPECT_EQ(p.value().tag, 9);
}

TEST(Value, IncrementsUnderItsLockAreExact) {
  mp::Value<long> counter(0);
  ASSERT_TRUE(counter.has_lock());
  constexpr int kChildren = 4, kRounds = 2000;
  ASSERT_TRUE(run_children(
      kChildren,
      [](mp::Value<long> c) {
        for (int i = 0; i < kRounds; ++i) {
          std::lock_guard guard(c.get_lock());
          c.set(c.value() + 1);  // value() and set() retake the recursive lock
        }
      },
      counter));
  EXPECT_EQ(counter.value(), kChildren * kRounds);
}

TEST(Value, WithoutALockAtomicIncrementsAreExact) {
  mp::Value<std::uint64_t> counter(0, mp::no_lock);
  EXPECT_FALSE(counter.has_lock());
  EXPECT_THROW(counter.get_lock(), mp::UsageError);
  constexpr int kChildren = 4, kRounds = 5000;
  ASSERT_TRUE(run_children(
      kChildren,
      [](mp::Value<std::uint64_t> c) {
        for (int i = 0; i < kRounds; ++i) c.atomic().fetch_add(1);
      },
      counter));
  EXPECT_EQ(counter.value(), std::uint64_t{kChildren * kRounds});
}

TEST(Value, CanShareAnotherObjectsLock) {
  mp::Value<int> a(1);
  mp::Value<int> b(2, a.get_lock());
  ASSERT_EQ(a.get_lock().acquire(), AcquireResult::acquired);
  EXPECT_TRUE(run_children(
      1,
      [](mp::Value<int> v) {
        return v.get_lock().try_acquire() == AcquireResult::timed_out ? 0 : 1;
      },
      b));
  a.get_lock().release();
}

TEST(Value, FromFdSharesTheValueAndChecksTheType) {
  mp::Value<long> v(5);
  auto same = mp::Value<long>::from_fd(v.fd(), mp::RLock::from_fd(v.get_lock().fd()));
  same.set(6);
  EXPECT_EQ(v.value(), 6);
  EXPECT_FALSE(mp::Value<long>::from_fd(v.fd()).has_lock());
  EXPECT_THROW(mp::Value<int>::from_fd(v.fd()), mp::UsageError);   // another size
  EXPECT_THROW(mp::Array<long>::from_fd(v.fd()), mp::UsageError);  // another kind
}

TEST(Value, AMovedFromHandleIsAUsageError) {
  mp::Value<int> v(1);
  mp::Value<int> w = std::move(v);
  EXPECT_THROW((void)v.value(), mp::UsageError);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(w.value(), 1);
}

TEST(Array, IsZeroInitialisedContiguousAndSharedWithChildren) {
  mp::Array<double> data(1000);
  ASSERT_EQ(data.size(), 1000u);
  EXPECT_TRUE(std::all_of(data.begin(), data.end(), [](double x) { return x == 0; }));
  EXPECT_EQ(data.span().data(), &data[0]);
  ASSERT_TRUE(run_children(
      1,
      [](mp::Array<double> d) {
        std::lock_guard guard(d.get_lock());
        for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<double>(i);
      },
      data));
  EXPECT_EQ(data[999], 999.0);
  EXPECT_EQ(std::accumulate(data.begin(), data.end(), 0.0), 999.0 * 1000 / 2);
}

TEST(Array, FromAListOrARange) {
  mp::Array<int> list{2, 3, 5, 7};
  EXPECT_EQ(std::vector<int>(list.begin(), list.end()), (std::vector<int>{2, 3, 5, 7}));
  std::vector<int> source(10);
  std::iota(source.begin(), source.end(), 1);
  mp::Array<long> range(source, mp::no_lock);
  EXPECT_EQ(range.size(), 10u);
  EXPECT_EQ(range[9], 10);
  EXPECT_FALSE(range.has_lock());
  mp::Array<int> three(3);  // as std::vector: a size, not a list
  EXPECT_EQ(three.size(), 3u);
}

TEST(Array, CopiesAreHandlesToTheSameArray) {
  mp::Array<int> a(3);
  mp::Array<int> b = a;  // NOLINT(performance-unnecessary-copy-initialization)
  const mp::Array<int>& ca = a;
  mp::Array<int> c(ca);
  b[0] = 5;
  EXPECT_EQ(a[0], 5);
  EXPECT_EQ(c[0], 5);
  EXPECT_EQ(a.fd(), b.fd());
}

TEST(Array, ZeroNegativeOrAbsurdSizesAreUsageErrors) {
  EXPECT_THROW(mp::Array<int>(0), mp::UsageError);
  EXPECT_THROW(mp::Array<int>(static_cast<std::size_t>(-1)), mp::UsageError);
  EXPECT_THROW(mp::Array<double>(std::size_t{1} << 45), mp::UsageError);
  EXPECT_THROW(mp::Array<int>(std::vector<int>{}), mp::UsageError);
}

TEST(Array, AtChecksTheBound) {
  mp::Array<int> a{1, 2};
  EXPECT_EQ(a.at(1), 2);
  EXPECT_THROW(a.at(2), mp::UsageError);
}

TEST(Array, FromFdSharesTheElements) {
  mp::Array<int> a{1, 2, 3};
  auto same = mp::Array<int>::from_fd(a.fd());
  EXPECT_EQ(same.size(), 3u);
  same[2] = 30;
  EXPECT_EQ(a[2], 30);
  EXPECT_THROW(mp::Array<double>::from_fd(a.fd()), mp::UsageError);
  EXPECT_THROW(mp::Value<int>::from_fd(a.fd()), mp::UsageError);
}
