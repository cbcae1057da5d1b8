// Queue::shutdown with the semantics of CPython 3.13's queue.Queue.shutdown,
// as Lib/test/test_queue.py (BaseQueueTestMixin.test_shutdown_*, added in
// 3.13: no line in 3.11) checks them, for a queue shared by processes;
// plus _TestQueue's basics from Lib/test/_test_multiprocessing.py (CPython
// 3.11.2 line numbers).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "helpers/start_methods.hpp"
#include "multiproc/context.hpp"
#include "multiproc/error.hpp"

namespace mp = multiproc;
using namespace std::chrono_literals;

namespace {

// test_shutdown_empty: put and get on an empty, shut-down queue raise.
TEST(TestQueue, test_shutdown_empty) {
  mp::Queue<int> q;
  EXPECT_FALSE(q.is_shutdown());
  q.shutdown();
  EXPECT_TRUE(q.is_shutdown());
  EXPECT_THROW(q.put(1), mp::ShutDown);
  EXPECT_THROW(q.get(), mp::ShutDown);
  EXPECT_THROW(q.get(1s), mp::ShutDown);
  EXPECT_THROW(q.try_get(), mp::ShutDown);
}

// test_shutdown_nonempty: get drains what is queued, then raises.
TEST(TestQueue, test_shutdown_nonempty) {
  mp::Queue<int> q;
  q.put(1);
  q.put(2);
  q.shutdown();
  EXPECT_THROW(q.put(3), mp::ShutDown);
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.get(), 2);
  EXPECT_THROW(q.get(), mp::ShutDown);
}

// test_shutdown_immediate: what is queued is discarded.
TEST(TestQueue, test_shutdown_immediate) {
  mp::Queue<int> q;
  q.put(1);
  q.put(2);
  q.shutdown(true);
  EXPECT_THROW(q.get(), mp::ShutDown);
  EXPECT_EQ(q.qsize(), 0U);
}

// test_shutdown_immediate with join: dropped items count as done.
TEST(TestQueue, test_shutdown_immediate_join) {
  mp::JoinableQueue<int> q;
  q.put(1);
  q.put(2);
  q.put(3);
  EXPECT_EQ(q.get(), 1);
  q.task_done();
  q.shutdown(true);
  EXPECT_TRUE(q.join(30s));
}

// A non-immediate shutdown leaves join() waiting for the items still queued.
TEST(TestQueue, test_shutdown_join_waits_for_gets) {
  mp::JoinableQueue<int> q;
  q.put(1);
  q.shutdown();
  EXPECT_FALSE(q.join(0s));
  EXPECT_EQ(q.get(), 1);
  q.task_done();
  EXPECT_TRUE(q.join(0s));
}

void wait_for_item(mp::Queue<int> q, mp::Event waiting, mp::Queue<std::string> out) {
  waiting.set();
  try {
    (void)q.get();
    out.put("got an item");
  } catch (const mp::ShutDown&) {
    out.put("shut down");
  }
}

void wait_for_room(mp::Queue<int> q, mp::Event waiting, mp::Queue<std::string> out) {
  waiting.set();
  try {
    q.put(2);  // the queue holds one item already: blocks
    out.put("put");
  } catch (const mp::ShutDown&) {
    out.put("shut down");
  }
}

class TestQueueProcesses : public ::testing::TestWithParam<mp::StartMethod> {};

// test_shutdown_all_methods_in_many_threads, in processes: a blocked get
// and a blocked put in other processes wake with ShutDown.
TEST_P(TestQueueProcesses, test_shutdown_wakes_waiters) {
  auto ctx = mp::get_context(GetParam());
  mp::Queue<int> empty;
  mp::Queue<int> full(1);
  full.put(1);
  mp::Queue<std::string> out;
  mp::Event getter_waiting, putter_waiting;
  mp::Process getter = ctx.Process(wait_for_item, empty, getter_waiting, out);
  mp::Process putter = ctx.Process(wait_for_room, full, putter_waiting, out);
  getter.start();
  putter.start();
  getter_waiting.wait();
  putter_waiting.wait();
  empty.shutdown();
  full.shutdown();
  EXPECT_EQ(out.get(60s), "shut down");
  EXPECT_EQ(out.get(60s), "shut down");
  getter.join();
  putter.join();
}

INSTANTIATE_TEST_SUITE_P(Methods, TestQueueProcesses, mp::testing::kAllStartMethods,
                         mp::testing::start_method_name);

// _TestQueue.test_timeout, line 1190: get with a timeout on an empty queue
// gives up (nullopt here, queue.Empty there).
TEST(TestQueue, test_timeout) {
  mp::Queue<int> q;
  EXPECT_FALSE(q.get(50ms).has_value());
}

}  // namespace
