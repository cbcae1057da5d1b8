// Bad input gets a clear error before any harm: absurd sizes are a
// UsageError before anything is forked or allocated, and zero, negative or
// huge timeouts behave as Python's do (zero and negative poll once; a
// timeout too long to represent waits as if unbounded, never overflowing
// into the past).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <cstddef>
#include <vector>

#include "helpers/leak_check.hpp"
#include "multiproc/multiproc.hpp"

namespace mp = multiproc;
using namespace std::chrono_literals;

namespace {

int twice(int x) {
  return 2 * x;
}

TEST(OptionChecks, an_absurd_pool_size_is_refused_before_any_fork) {
  const int negative = -1;
  EXPECT_THROW(mp::Pool({.processes = static_cast<std::size_t>(negative)}), mp::UsageError);
  EXPECT_THROW(mp::Pool({.processes = std::size_t{1} << 40}), mp::UsageError);
  rlimit r{};
  ASSERT_EQ(::getrlimit(RLIMIT_NPROC, &r), 0);
  if (r.rlim_cur != RLIM_INFINITY) {
    EXPECT_THROW(mp::Pool({.processes = static_cast<std::size_t>(r.rlim_cur) + 1}), mp::UsageError);
  }
  EXPECT_TRUE(mp::testing::children_of(::getpid()).empty());
}

TEST(OptionChecks, other_pool_options_in_disguise_are_refused) {
  EXPECT_THROW(mp::Pool({.processes = 1, .maxtasksperchild = static_cast<std::size_t>(-1)}),
               mp::UsageError);
  EXPECT_THROW(mp::Pool({.processes = 1, .task_timeout = 0s}), mp::UsageError);
  EXPECT_THROW(mp::Pool({.processes = 1, .task_timeout = -1s}), mp::UsageError);
  EXPECT_TRUE(mp::testing::children_of(::getpid()).empty());
}

TEST(OptionChecks, a_chunksize_in_disguise_is_refused) {
  mp::Pool pool({.processes = 1});
  std::vector<int> items{1, 2, 3};
  EXPECT_THROW(pool.map(twice, items, {.chunksize = static_cast<std::size_t>(-1)}), mp::UsageError);
  EXPECT_THROW(
      {
        for (int x : pool.imap(twice, items, {.chunksize = static_cast<std::size_t>(-4)})) (void)x;
      },
      mp::UsageError);
  EXPECT_EQ(pool.map(twice, items, {.chunksize = 1000}), (std::vector<int>{2, 4, 6}));
  pool.close();
  pool.join();
}

TEST(OptionChecks, zero_negative_and_huge_timeouts) {
  mp::Event never;
  mp::Process p([](mp::Event e) { e.wait(); }, never);
  p.start();
  EXPECT_FALSE(p.join(0s));
  EXPECT_FALSE(p.join(-5s));
  EXPECT_FALSE(p.join(std::chrono::nanoseconds::min()));
  never.set();
  EXPECT_TRUE(p.join(std::chrono::nanoseconds::max()));  // not a timeout in the past

  mp::Queue<int> q;
  EXPECT_FALSE(q.get(-1s).has_value());
  EXPECT_FALSE(q.get(0s).has_value());
  q.put(3);
  EXPECT_EQ(q.get(std::chrono::nanoseconds::max()), 3);

  auto [a, b] = mp::Pipe();
  EXPECT_FALSE(b.poll(-1s));
  EXPECT_FALSE(b.recv<int>(-1s).has_value());
  a.send(9);
  EXPECT_EQ(b.recv<int>(std::chrono::nanoseconds::max()), 9);

  mp::Lock lock;
  EXPECT_EQ(lock.acquire(-1s), mp::AcquireResult::acquired);
  lock.release();
}

TEST(OptionChecks, queue_capacity_out_of_range_is_refused) {
  EXPECT_THROW(mp::Queue<int>({.capacity_bytes = static_cast<std::size_t>(-1)}), mp::UsageError);
  EXPECT_THROW(mp::Queue<int>({.capacity_bytes = 1}), mp::UsageError);
}

TEST(OptionChecks, an_array_length_in_disguise_is_refused) {
  const long negative = -3;
  EXPECT_THROW(mp::Array<double>(static_cast<std::size_t>(negative)), mp::UsageError);
}

}  // namespace
