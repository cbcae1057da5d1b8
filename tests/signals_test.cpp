// The signal bridge (multiproc/signals.hpp) and RELIABILITY items 12–14:
// a chosen signal becomes a stop request that ends every blocking call, a
// burst is one stop, a second signal escalates, and children never inherit
// the bridge. A test that lets the bridge escalate (which _exits) runs the
// bridge in a child process.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <stop_token>
#include <string>
#include <thread>

#include "helpers/pidfd.hpp"
#include "helpers/test_pipe.hpp"
#include "multiproc/multiproc.hpp"
#include "sys/tsan.hpp"

namespace mp = multiproc;
using mp::testing::TestPipe;
using namespace std::chrono_literals;

namespace {

// Waits (bounded, generously) until the bridge's thread has requested the stop.
bool stop_arrives(const mp::SignalBridge& bridge) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  mp::Event stopped;
  std::stop_callback on_stop(bridge.token(), [&] { stopped.set(); });
  return stopped.wait(deadline - std::chrono::steady_clock::now());
}

void sleep_past(std::chrono::milliseconds window) {
  // Not a synchronisation: the escalation rule is about time passing.
  std::this_thread::sleep_for(window + 50ms);
}

void wait_forever(mp::Event never) {
  never.wait();
}

void signal_parent(int signo) {
  ::kill(::getppid(), signo);
}

// In a child: installs a bridge (its message on `err`), raises `first`, waits
// out the burst window, raises `second`: the bridge must escalate — kill
// `grandchild` and exit 128 + `second`. Reports the grandchild's PID on `out`.
int escalate_in_child(const TestPipe& out, int err, int first, int second) {
  ::dup2(err, STDERR_FILENO);
  mp::SignalBridge bridge;
  mp::Event never;
  mp::Process grandchild({.daemon = true}, wait_forever, never);
  grandchild.start();
  out.write(std::to_string(*grandchild.pid()) + "\n");
  ::raise(first);
  if (!stop_arrives(bridge)) return 2;
  sleep_past(mp::SignalBridgeOptions{}.repeat_window);
  ::raise(second);
  return 3;  // not reached: the second signal exits
}

}  // namespace

TEST(SignalBridge, FirstSignalRequestsTheStop) {
  mp::SignalBridge bridge({.message = ""});
  EXPECT_FALSE(bridge.stop_requested());
  EXPECT_EQ(bridge.signal(), 0);
  EXPECT_EQ(bridge.exit_code(), 0);
  ::raise(SIGTERM);
  ASSERT_TRUE(stop_arrives(bridge));
  EXPECT_EQ(bridge.signal(), SIGTERM);
  EXPECT_EQ(bridge.exit_code(), 128 + SIGTERM);
  EXPECT_EQ(bridge.count(), 1);
}

TEST(SignalBridge, ABurstOfAThousandMixedSignalsIsOneStop) {
  mp::SignalBridge bridge({.message = ""});
  const int kinds[] = {SIGTERM, SIGINT, SIGHUP};
  for (int i = 0; i < 1000; ++i) ::raise(kinds[i % 3]);
  ASSERT_TRUE(stop_arrives(bridge));  // and the process is still here
  EXPECT_EQ(bridge.count(), 1000);
  EXPECT_EQ(bridge.signal(), SIGTERM);
}

TEST(SignalBridge, RequestStopWithoutASignalThenASignalDoesNotEscalate) {
  mp::SignalBridge bridge({.message = ""});
  bridge.request_stop();
  EXPECT_TRUE(bridge.stop_requested());
  EXPECT_EQ(bridge.signal(), 0);
  sleep_past(mp::SignalBridgeOptions{}.repeat_window);
  ::raise(SIGINT);  // the first signal: a message, never an escalation
  EXPECT_EQ(bridge.signal(), SIGINT);
}

TEST(SignalBridge, EscalationDisabledKeepsTheProcessAlive) {
  mp::SignalBridge bridge({.message = "", .escalate = false});
  ::raise(SIGINT);
  ASSERT_TRUE(stop_arrives(bridge));
  sleep_past(mp::SignalBridgeOptions{}.repeat_window);
  ::raise(SIGINT);
  EXPECT_EQ(bridge.count(), 2);
}

TEST(SignalBridge, SecondSignalKillsEveryChildAndExitsWith128PlusSigno) {
#ifdef MULTIPROC_TSAN
  // ThreadSanitizer's runtime adds threads of its own to the forked child
  // that installs the bridge, so its fork of a grandchild is refused; the
  // other builds prove the escalation.
  GTEST_SKIP() << "not under ThreadSanitizer";
#endif
  TestPipe out, err;
  mp::Process p({.pass_fds = {err.write_fd()}}, escalate_in_child, std::cref(out), err.write_fd(),
                SIGINT, SIGTERM);
  p.start();
  p.join();
  std::string lines = err.read_all();
  EXPECT_EQ(p.exitcode(), 128 + SIGTERM) << lines;
  // Killed by the escalation itself (its death signal would do it too, but
  // later): it came back to this subreaper as a SIGKILLed orphan, a zombie
  // until reaped here.
  std::string pid_line = out.read_all();
  ASSERT_FALSE(pid_line.empty()) << "the child never started its own child";
  int pidfd = mp::testing::pidfd_open(std::stoi(pid_line));
  ASSERT_GE(pidfd, 0);
  EXPECT_EQ(mp::testing::wait_orphan(pidfd, 30000), -SIGKILL);
  ::close(pidfd);
  EXPECT_NE(lines.find(": SIGINT: stopping (send it again to stop at once)\n"), std::string::npos)
      << lines;
  EXPECT_NE(lines.find(": SIGTERM again: killing every child\n"), std::string::npos) << lines;
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 2) << lines;
}

TEST(SignalBridge, OnlyOneBridgeAtATimeAndBadSignalsAreRefused) {
  EXPECT_THROW(mp::SignalBridge({.signals = {SIGKILL}}), mp::UsageError);
  EXPECT_THROW(mp::SignalBridge({.signals = {SIGSEGV}}), mp::UsageError);
  {
    mp::SignalBridge first;
    EXPECT_THROW(mp::SignalBridge(), mp::UsageError);
  }
  mp::SignalBridge again;  // the first one's end freed the place
}

TEST(SignalBridge, DestructorRestoresThePreviousDisposition) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction before {};
  ASSERT_EQ(::sigaction(SIGHUP, &ignore, &before), 0);
  { mp::SignalBridge bridge; }
  struct sigaction now {};
  ::sigaction(SIGHUP, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_IGN);
  ::sigaction(SIGHUP, &before, nullptr);
}

// The bridge's thread does not count as a thread that makes fork unsafe, and
// the child starts with default dispositions: SIGINT ends it.
TEST(SignalBridge, ForkWorksWithABridgeAndTheChildDoesNotInheritIt) {
  mp::SignalBridge bridge;
  mp::Event never;
  mp::Process p(wait_forever, never);
  ASSERT_NO_THROW(p.start());
  ::kill(*p.pid(), SIGINT);
  p.join();
  EXPECT_EQ(p.exitcode(), -SIGINT);
  EXPECT_FALSE(bridge.stop_requested());
}

// RELIABILITY 12: SIGTERM to the parent (from a child) while it waits; the
// wait ends with Interrupted, whether the signal came before or during it.
template <class Wait>
void expect_sigterm_ends(Wait wait) {
  mp::SignalBridge bridge({.message = ""});
  // forkserver: a Pool's thread makes a plain fork unsafe here.
  mp::Process sender({.start_method = mp::StartMethod::forkserver}, signal_parent, SIGTERM);
  sender.start();
  EXPECT_THROW(wait(bridge.token()), mp::Interrupted);
  sender.join();
  EXPECT_EQ(bridge.signal(), SIGTERM);
}

int nap(int seconds) {
  ::sleep(static_cast<unsigned>(seconds));
  return seconds;
}

TEST(SignalBridge, SigtermEndsQueueGet) {
  mp::Queue<int> queue;
  expect_sigterm_ends([&](std::stop_token stop) { return queue.get(stop); });
}

TEST(SignalBridge, SigtermEndsProcessJoin) {
  mp::Event never;
  mp::Process waiting(wait_forever, never);
  waiting.start();
  expect_sigterm_ends([&](std::stop_token stop) { waiting.join(stop); });
  waiting.kill();
  waiting.join();
}

TEST(SignalBridge, SigtermEndsEventWait) {
  mp::Event never;
  expect_sigterm_ends([&](std::stop_token stop) { never.wait(stop); });
}

TEST(SignalBridge, SigtermEndsAsyncResultGet) {
  mp::Pool pool({.processes = 1});
  auto result = pool.apply_async(nap, 60);
  expect_sigterm_ends([&](std::stop_token stop) { return result.get(stop); });
  pool.terminate();
}
