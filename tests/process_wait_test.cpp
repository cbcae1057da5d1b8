// Process: join with and without timeout, sentinel, reaping, handles that
// are dropped, active_children, and the exit rule for children.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <string>

#include "helpers/leak_check.hpp"
#include "helpers/pidfd.hpp"
#include "helpers/test_pipe.hpp"
#include "multiproc/multiproc.hpp"

namespace mp = multiproc;
using mp::testing::TestPipe;
using namespace std::chrono_literals;

namespace {

// A child that runs until the test closes the write end of `gate`.
mp::Process gated_child(const TestPipe& gate, mp::ProcessOptions options = {}) {
  options.pass_fds.push_back(gate.read_fd());
  return mp::Process(
      std::move(options),
      [](int fd) {
        char c;
        while (read(fd, &c, 1) < 0 && errno == EINTR) {
        }
      },
      gate.read_fd());
}

}  // namespace

TEST(ProcessWait, JoinWithTimeoutSaysWhetherTheChildEnded) {
  TestPipe gate;
  mp::Process p = gated_child(gate);
  p.start();
  EXPECT_FALSE(p.join(20ms));
  EXPECT_TRUE(p.is_alive());
  EXPECT_EQ(p.exitcode(), std::nullopt);
  gate.close_write();
  EXPECT_TRUE(p.join(60s));
  EXPECT_FALSE(p.is_alive());
  EXPECT_EQ(p.exitcode(), 0);
}

TEST(ProcessWait, ZeroTimeoutPollsWithoutBlocking) {
  TestPipe gate;
  mp::Process p = gated_child(gate);
  p.start();
  EXPECT_FALSE(p.join(0ns));
  gate.close_write();
  p.join();
}

TEST(ProcessWait, SentinelBecomesReadableWhenTheChildEnds) {
  TestPipe gate;
  mp::Process p = gated_child(gate);
  p.start();
  pollfd fd{p.sentinel(), POLLIN, 0};
  EXPECT_EQ(poll(&fd, 1, 0), 0);
  gate.close_write();
  EXPECT_EQ(poll(&fd, 1, 60'000), 1);
  EXPECT_TRUE(fd.revents & POLLIN);
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST(ProcessWait, NoZombieAfterJoin) {
  mp::Process p([] {});
  p.start();
  p.join();
  EXPECT_EQ(mp::testing::process_state(*p.pid()), '\0');
  EXPECT_TRUE(mp::testing::children_of(getpid()).empty());
}

TEST(ProcessWait, ExitcodeReapsAChildThatEnded) {
  mp::Process p([] { return 4; });
  p.start();
  pollfd fd{p.sentinel(), POLLIN, 0};
  ASSERT_EQ(poll(&fd, 1, 60'000), 1);
  EXPECT_EQ(mp::testing::process_state(*p.pid()), 'Z');  // ended, not yet reaped
  EXPECT_EQ(p.exitcode(), 4);
  EXPECT_EQ(mp::testing::process_state(*p.pid()), '\0');
}

TEST(ProcessWait, DroppingTheHandleOfAnEndedChildReapsIt) {
  pid_t pid;
  {
    mp::Process p([] {});
    p.start();
    pid = *p.pid();
    pollfd fd{p.sentinel(), POLLIN, 0};
    ASSERT_EQ(poll(&fd, 1, 60'000), 1);
  }
  EXPECT_EQ(mp::testing::process_state(pid), '\0');
}

TEST(ProcessWait, DroppingTheHandleOfARunningChildJoinsItAndLeavesNoZombie) {
  TestPipe report;
  pid_t pid;
  {
    mp::Process p([](const TestPipe& out) { out.write("finished"); }, std::ref(report));
    p.start();
    pid = *p.pid();
  }  // joins: a non-daemon child is waited for, as Python waits at exit
  EXPECT_EQ(report.read_all(), "finished");
  EXPECT_EQ(mp::testing::process_state(pid), '\0');
  EXPECT_TRUE(mp::active_children().empty());
}

TEST(ProcessWait, DroppingTheHandleOfARunningDaemonTerminatesIt) {
  TestPipe ready, report;
  pid_t pid;
  {
    mp::Process p(
        mp::ProcessOptions{.daemon = true},
        [](const TestPipe& r, const TestPipe& out) {
          static int fd = out.write_fd();
          signal(SIGTERM, [](int) {
            (void)!write(fd, "SIGTERM", 7);
            _exit(0);
          });
          r.write("r");
          for (;;) pause();
        },
        std::ref(ready), std::ref(report));
    p.start();
    pid = *p.pid();
    ASSERT_EQ(ready.read_some(1), "r");
  }
  EXPECT_EQ(report.read_all(), "SIGTERM");
  EXPECT_EQ(mp::testing::process_state(pid), '\0');
}

TEST(ProcessWait, DroppingTheHandleOfAStuckChildIsBounded) {
  // A child that ignores SIGTERM and never ends: the destructor joins for the
  // exit join timeout, sends SIGTERM, waits the grace period, then SIGKILLs.
  mp::set_exit_join_timeout(20ms);
  mp::set_exit_terminate_grace(20ms);
  TestPipe ready;
  pid_t pid;
  {
    mp::Process p(
        [](const TestPipe& r) {
          signal(SIGTERM, SIG_IGN);
          r.write("r");
          for (;;) pause();
        },
        std::ref(ready));
    p.start();
    pid = *p.pid();
    ASSERT_EQ(ready.read_some(1), "r");
  }
  EXPECT_EQ(mp::testing::process_state(pid), '\0');
  mp::set_exit_join_timeout(30s);
  mp::set_exit_terminate_grace(1s);
}

TEST(ProcessWait, ActiveChildrenListsRunningChildrenOnly) {
  TestPipe gate;
  mp::Process a = gated_child(gate, {.name = "a", .daemon = true});
  mp::Process b([] {});
  a.start();
  b.start();
  b.join();
  auto children = mp::active_children();
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].name, "a");
  EXPECT_TRUE(children[0].daemon);
  gate.close_write();
  a.join();
  EXPECT_TRUE(mp::active_children().empty());
}

TEST(ProcessWait, AtExitDaemonsAreTerminatedAndOthersJoined) {
  // An intermediate process starts a daemon and a non-daemon child, then
  // calls exit(): its exit handler must stop the first and wait for the second.
  TestPipe report, gate;
  mp::Process parent(
      mp::ProcessOptions{.pass_fds = {gate.read_fd()}},
      [](const TestPipe& out, int gate_fd) {
        TestPipe ready;
        mp::Process daemon(
            mp::ProcessOptions{.daemon = true},
            [](const TestPipe& o, const TestPipe& r) {
              static int fd = o.write_fd();
              signal(SIGTERM, [](int) {
                const char msg[] = "daemon got SIGTERM\n";
                (void)!write(fd, msg, sizeof msg - 1);
                _exit(0);
              });
              r.write("up");
              for (;;) pause();
            },
            std::ref(out), std::ref(ready));
        mp::Process worker(
            mp::ProcessOptions{.pass_fds = {gate_fd}},
            [](const TestPipe& o, int fd) {
              char c;
              while (read(fd, &c, 1) < 0 && errno == EINTR) {
              }
              o.write("worker finished\n");
            },
            std::ref(out), gate_fd);
        daemon.start();
        worker.start();
        ready.read_some(2);  // the daemon's handler is in place
        out.write("parent exiting\n");
        std::exit(0);
      },
      std::ref(report), gate.read_fd());
  parent.start();
  // Let the worker finish only once the parent is exiting.
  std::string seen;
  while (seen.find("parent exiting\n") == std::string::npos) seen += report.read_some();
  gate.close_write();
  parent.join();
  seen += report.read_all();
  EXPECT_EQ(parent.exitcode(), 0);
  EXPECT_NE(seen.find("daemon got SIGTERM\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("worker finished\n"), std::string::npos) << seen;
}

TEST(ProcessWait, AtExitTheJoinIsBounded) {
  TestPipe report;
  mp::Process parent(
      [](const TestPipe& out) {
        mp::set_exit_join_timeout(50ms);
        mp::set_exit_terminate_grace(50ms);
        mp::Process stuck([] {
          signal(SIGTERM, SIG_IGN);
          for (;;) pause();
        });
        stuck.start();
        out.write(std::to_string(*stuck.pid()));
        std::exit(0);
      },
      std::ref(report));
  parent.start();
  parent.join();  // bounded: 50 ms of join, 50 ms of grace, then SIGKILL
  EXPECT_EQ(parent.exitcode(), 0);
  pid_t stuck = std::stoi(report.read_all());
  EXPECT_EQ(mp::testing::process_state(stuck), '\0');
}
