// Ported from CPython's Lib/test/_test_multiprocessing.py, class
// _TestPoolWorkerLifetime (line numbers: CPython 3.11.2), under every start
// method.
//
// Differences by design: maxtasksperchild = 0 means "no limit" (Python's
// None; Python rejects 0), and fractional or string values do not compile.
// Skipped: test_worker_finalization_via_atexit_handler_of_multiprocessing
// (the interpreter's atexit at shutdown).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "helpers/start_methods.hpp"
#include "multiproc/error.hpp"
#include "multiproc/pool.hpp"

namespace mp = multiproc;
using namespace std::chrono_literals;

namespace {

int sqr(int x) {
  return x * x;
}

int sqr_after(int x, int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));  // CPython's sqr(x, wait)
  return x * x;
}

class TestPoolWorkerLifetime : public ::testing::TestWithParam<mp::StartMethod> {};

// _TestPoolWorkerLifetime.test_pool_worker_lifetime, line 2822: with
// maxtasksperchild, every worker is replaced; the results are all there.
TEST_P(TestPoolWorkerLifetime, test_pool_worker_lifetime) {
  mp::Pool p({.processes = 3, .maxtasksperchild = 10, .start_method = GetParam()});
  EXPECT_EQ(p.processes(), 3u);
  std::vector<pid_t> orig = p.worker_pids();
  ASSERT_EQ(orig.size(), 3u);
  std::vector<mp::AsyncResult<int>> results;
  for (int i = 0; i < 100; ++i) results.push_back(p.apply_async(sqr, i));
  for (int j = 0; j < 100; ++j) EXPECT_EQ(results[static_cast<std::size_t>(j)].get(), j * j);
  std::vector<pid_t> final_pids = p.worker_pids();
  EXPECT_EQ(std::count(orig.begin(), orig.end(), 0), 0);  // all assigned (issue 7805)
  EXPECT_EQ(std::count(final_pids.begin(), final_pids.end(), 0), 0);
  std::sort(orig.begin(), orig.end());
  std::sort(final_pids.begin(), final_pids.end());
  EXPECT_NE(orig, final_pids);
  // 100 tasks, 10 per worker: none of the first three served them all.
  for (pid_t pid : orig) {
    EXPECT_FALSE(std::binary_search(final_pids.begin(), final_pids.end(), pid)) << pid;
  }
  p.close();
  p.join();
}

// _TestPoolWorkerLifetime.test_pool_worker_lifetime_early_close, line 2851
// (issue 10332): closing a pool whose workers have a limited lifetime before
// its tasks completed does not make join() hang.
TEST_P(TestPoolWorkerLifetime, test_pool_worker_lifetime_early_close) {
  mp::Pool p({.processes = 3, .maxtasksperchild = 1, .start_method = GetParam()});
  std::vector<mp::AsyncResult<int>> results;
  for (int i = 0; i < 6; ++i) results.push_back(p.apply_async(sqr_after, i, 300));
  p.close();
  p.join();
  for (int j = 0; j < 6; ++j) EXPECT_EQ(results[static_cast<std::size_t>(j)].get(), j * j);
}

// _TestPoolWorkerLifetime.test_pool_maxtasksperchild_invalid, line 2864:
// -1 (a negative int made a size_t) is a UsageError (Python: ValueError).
TEST_P(TestPoolWorkerLifetime, test_pool_maxtasksperchild_invalid) {
  EXPECT_THROW(mp::Pool({.processes = 3,
                         .maxtasksperchild = static_cast<std::size_t>(-1),
                         .start_method = GetParam()}),
               mp::UsageError);
}

INSTANTIATE_TEST_SUITE_P(Methods, TestPoolWorkerLifetime, mp::testing::kAllStartMethods,
                         mp::testing::start_method_name);

}  // namespace
