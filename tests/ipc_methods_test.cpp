// Pipes and queues passed to a child started by each method (fork, spawn,
// forkserver): the descriptors cross (inherited, SCM_RIGHTS or kept over the
// fork) and the objects work on both sides.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <vector>

#include "helpers/start_methods.hpp"
#include "multiproc/context.hpp"
#include "multiproc/wait.hpp"
#include "queue/impl.hpp"

namespace mp = multiproc;
using namespace std::chrono_literals;

namespace {

class IpcAcrossMethods : public ::testing::TestWithParam<mp::StartMethod> {
 protected:
  mp::Context ctx() const { return mp::get_context(GetParam()); }
};

void echo_until_empty(mp::Connection c) {
  for (;;) {
    auto s = c.recv<std::string>();
    if (s.empty()) return;
    c.send(s + "!");
  }
}

void produce(mp::Queue<int> q, int n) {
  for (int i = 0; i < n; ++i) q.put(i);
}

void consume_and_ack(mp::JoinableQueue<std::string> q, mp::SimpleQueue<std::size_t> sizes) {
  for (;;) {
    std::string s = q.get();
    sizes.put(s.size());
    q.task_done();
    if (s.empty()) return;
  }
}

void send_large(mp::Queue<std::vector<char>> q, mp::Connection c, std::size_t bytes) {
  q.put(std::vector<char>(bytes, 'q'));
  c.send(std::vector<char>(bytes, 'c'));
}

// Set in the child: the hook below signals it, then the child dies holding
// the producers' lock, item half-written.
mp::Event* g_reached = nullptr;
void signal_and_die() {
  g_reached->set();
  ::raise(SIGKILL);
}

void die_mid_put(mp::Queue<std::string> q, mp::Event reached) {
  g_reached = &reached;
  mp::detail::queue::g_test_hook_before_commit = signal_and_die;
  q.put("never");
}

void wait_then_send(mp::Connection c) {
  (void)c.recv<int>();
  c.send(1);
}

}  // namespace

TEST_P(IpcAcrossMethods, DuplexPipeEchoes) {
  auto [mine, theirs] = ctx().Pipe();
  mp::Process p = ctx().Process(echo_until_empty, std::move(theirs));
  p.start();
  for (const std::string& s : {std::string("a"), std::string("bb"), std::string(100000, 'x')}) {
    mine.send(s);
    EXPECT_EQ(mine.recv<std::string>(), s + "!");
  }
  mine.send(std::string());
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST_P(IpcAcrossMethods, QueueCarriesEveryItemInOrder) {
  auto q = ctx().Queue<int>();
  mp::Process p = ctx().Process(produce, q, 5000);
  p.start();
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(q.get(), i);
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST_P(IpcAcrossMethods, JoinableAndSimpleQueuesWork) {
  auto q = ctx().JoinableQueue<std::string>();
  auto sizes = ctx().SimpleQueue<std::size_t>();
  mp::Process p = ctx().Process(consume_and_ack, q, sizes);
  p.start();
  q.put("abc");
  q.put(std::string(1 << 20, 'z'));
  q.put("");
  EXPECT_TRUE(q.join(60s));
  EXPECT_EQ(sizes.get(), 3u);
  EXPECT_EQ(sizes.get(), std::size_t{1} << 20);
  EXPECT_EQ(sizes.get(), 0u);
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST_P(IpcAcrossMethods, LargeItemsCrossBothWays) {
  auto q = ctx().Queue<std::vector<char>>();
  auto [in, out] = ctx().Pipe(false);
  const std::size_t bytes = 16u << 20;
  mp::Process p = ctx().Process(send_large, q, std::move(out), bytes);
  p.start();
  EXPECT_EQ(q.get(), std::vector<char>(bytes, 'q'));
  EXPECT_EQ(in.recv<std::vector<char>>(), std::vector<char>(bytes, 'c'));
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST_P(IpcAcrossMethods, WaitSeesTheConnectionThenTheSentinel) {
  auto [mine, theirs] = ctx().Pipe();
  mp::Process p = ctx().Process(wait_then_send, std::move(theirs));
  p.start();
  mine.send(0);
  auto ready = mp::wait({mp::WaitObject(mine)}, 60s);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(mine.recv<int>(), 1);
  ready = mp::wait({mp::WaitObject(p)}, 60s);
  EXPECT_EQ(ready.size(), 1u);
  p.join();
}

TEST_P(IpcAcrossMethods, QueueSurvivesAProducerKilledHoldingItsLock) {
  // The queue's robust mutex must see its owner die in every kind of child:
  // forkserver's clone included (glibc's TID and robust list repaired).
  auto q = ctx().Queue<std::string>();
  auto reached = ctx().Event();
  mp::Process p = ctx().Process(die_mid_put, q, reached);
  p.start();
  p.join();
  EXPECT_TRUE(reached.is_set());
  EXPECT_EQ(p.exitcode(), -SIGKILL);
  q.put("after");
  EXPECT_EQ(q.get(60s), "after");
  EXPECT_EQ(q.get(10ms), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(Methods, IpcAcrossMethods, multiproc::testing::kAllStartMethods,
                         multiproc::testing::start_method_name);
