// Pool: the API, results and errors (tests/pool_failure_test.cpp has the
// failure modes of RELIABILITY.md 1-10).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <numeric>
#include <ranges>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "helpers/start_methods.hpp"
#include "multiproc/multiproc.hpp"

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
  std::vector<int> v = pool.map(square, std::views::iota(0, 1000));
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
  EXPECT_THROW(pool.map(fail_on_three, std::views::iota(0, 10)), mp::RemoteError);
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
  for (int y : pool.imap(square, std::views::iota(0, 200), {.chunksize = 3})) ordered.push_back(y);
  ASSERT_EQ(ordered.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(ordered[static_cast<std::size_t>(i)], i * i);
  std::vector<int> any;
  for (int y : pool.imap_unordered(square, std::views::iota(0, 200))) any.push_back(y);
  std::sort(any.begin(), any.end());
  EXPECT_EQ(any, ordered);
}

TEST_P(PoolAcrossMethods, ImapOverAnEndlessRangeIsLazy) {
  mp::Pool pool(options());
  int seen = 0;
  for (int y : pool.imap(square, std::views::iota(0))) {
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
  auto seen = pool.map(pid_of_worker, std::views::iota(0, 100), {.chunksize = 1});
  for (int p : seen) EXPECT_NE(std::find(pids.begin(), pids.end(), p), pids.end());
}

TEST_P(PoolAcrossMethods, CloseThenJoinLeavesNoWorker) {
  mp::Pool pool(options());
  auto r = pool.map_async(square, std::views::iota(0, 100));
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

INSTANTIATE_TEST_SUITE_P(Methods, PoolAcrossMethods, multiproc::testing::kAllStartMethods,
                         multiproc::testing::start_method_name);
