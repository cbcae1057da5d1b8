// wait(): any mix of process sentinels, connections, queues and descriptors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

#include "helpers/test_pipe.hpp"
#include "multiproc/multiproc.hpp"

namespace mp = multiproc;
using mp::testing::TestPipe;
using namespace std::chrono_literals;

TEST(Wait, TimesOutWhenNothingIsReady) {
  auto [a, b] = mp::Pipe();
  mp::Queue<int> q;
  TestPipe pipe;
  EXPECT_TRUE(mp::wait({b, q, mp::WaitObject::fd(pipe.read_fd())}, 20ms).empty());
}

TEST(Wait, ReturnsTheReadyOnesInInputOrder) {
  auto [a, b] = mp::Pipe();
  mp::Queue<int> q;
  mp::Queue<int> idle;
  q.put(1);
  a.send(2);
  auto ready = mp::wait({idle, b, q}, 1s);
  EXPECT_EQ(ready, (std::vector<std::size_t>{1, 2}));
}

TEST(Wait, WakesWhenAnotherProcessPutsIntoAQueue) {
  mp::Queue<int> q;
  TestPipe gate;
  mp::Process producer(
      mp::ProcessOptions{.pass_fds = {gate.read_fd()}},
      [](mp::Queue<int> qq, int gate_fd) {
        char c;
        (void)!read(gate_fd, &c, 1);
        qq.put(9);
      },
      q, gate.read_fd());
  producer.start();
  std::thread release([&gate] { gate.write("g"); });
  auto ready = mp::wait({q});  // no timeout
  release.join();
  EXPECT_EQ(ready, (std::vector<std::size_t>{0}));
  EXPECT_EQ(q.get(), 9);
  producer.join();
}

TEST(Wait, SeesAProcessEndAndAPeerGone) {
  auto [parent, child] = mp::Pipe();
  mp::Process p([](mp::Connection&) {}, std::move(child));
  p.start();
  auto ready = mp::wait({p}, 60s);
  ASSERT_EQ(ready, (std::vector<std::size_t>{0}));
  p.join();
  // The child's end closed with it: the connection is ready, recv says EOF.
  EXPECT_EQ(mp::wait({parent}, 60s), (std::vector<std::size_t>{0}));
  EXPECT_THROW(parent.recv<int>(), mp::EOFError);
}

TEST(Wait, AStaleQueueWakeUpIsNotReportedAsReady) {
  mp::Queue<int> q;
  mp::Queue<int> other;
  // Register, have an item come and go, then wait: the queue is empty again.
  q.put(1);
  EXPECT_EQ(mp::wait({q}, 1s).size(), 1u);
  q.get();
  EXPECT_TRUE(mp::wait({q, other}, 20ms).empty());
}
