// How a supervised group stops: shutdown timeouts (RELIABILITY 35), a child's
// request to stop the group (36), children that exit on their own during the
// shutdown (16), auto-shutdown on significant children, and the stop token.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <stop_token>

#include "helpers/pidfd.hpp"
#include "helpers/start_methods.hpp"
#include "helpers/supervisor_helpers.hpp"
#include "multiproc/multiproc.hpp"

namespace mp = multiproc;
using namespace std::chrono_literals;
using mp::testing::Background;
using mp::testing::LineFifo;
using mp::testing::TempDir;

namespace {

mp::ChildSpec sh(const std::string& name, const std::string& script,
                 mp::ChildOptions options = {}) {
  return mp::ChildSpec::command(name, options, {.argv = {"/bin/sh", "-c", script}});
}

void ignore_term_and_wait(std::string fifo) {
  ::signal(SIGTERM, SIG_IGN);
  mp::testing::say(fifo, "ready");
  for (;;) pause();
}

void wait_forever() {
  for (;;) pause();
}

void ask_group_stop(mp::GroupStop group) {
  group.request("done");
  for (;;) pause();
}

extern "C" void exit_7(int) {
  ::_exit(7);
}

void exit_7_on_term(std::string fifo) {
  ::signal(SIGTERM, exit_7);
  mp::testing::say(fifo, "ready");
  for (;;) pause();
}

mp::ChildOptions with_method(mp::StartMethod m, std::chrono::milliseconds timeout = 5s) {
  mp::ChildOptions o;
  o.shutdown_timeout = timeout;
  o.process.start_method = m;
  return o;
}

}  // namespace

// 35: SIGTERM ignored: SIGKILL at the shutdown timeout, and the stop ends
// shortly after.
TEST(SupervisorShutdown, FunctionIgnoringSigtermIsKilledAtItsTimeout) {
  TempDir dir;
  LineFifo fifo(dir.file("fifo"));
  mp::Supervisor sup;
  sup.add(mp::ChildSpec::function("stubborn", with_method(mp::StartMethod::forkserver, 300ms),
                                  ignore_term_and_wait, fifo.path()));
  Background bg(sup);
  ASSERT_TRUE(fifo.next());
  auto t0 = std::chrono::steady_clock::now();
  auto& report = bg.finish();
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, 300ms + 5s);
  ASSERT_EQ(report.history.size(), 1U);
  EXPECT_EQ(report.history[0].status, mp::ExitStatus::killed_by(SIGKILL));
  EXPECT_TRUE(report.history[0].during_shutdown);
}

TEST(SupervisorShutdown, CommandIgnoringSigtermIsKilledAtItsTimeout) {
  TempDir dir;
  LineFifo fifo(dir.file("fifo"));
  mp::Supervisor sup;
  sup.add(sh("stubborn", "trap '' TERM; echo ready > '" + fifo.path() + "'; exec sleep 1000",
             {.shutdown_timeout = 300ms}));
  Background bg(sup);
  ASSERT_TRUE(fifo.next());
  auto t0 = std::chrono::steady_clock::now();
  auto& report = bg.finish();
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, 300ms + 5s);
  ASSERT_EQ(report.history.size(), 1U);
  EXPECT_EQ(report.history[0].status, mp::ExitStatus::killed_by(SIGKILL));
}

TEST(SupervisorShutdown, ZeroTimeoutKillsAtOnce) {
  TempDir dir;
  LineFifo fifo(dir.file("fifo"));
  mp::Supervisor sup;
  sup.add(sh("brutal", "echo ready > '" + fifo.path() + "'; exec sleep 1000",
             {.shutdown_timeout = 0ms}));
  Background bg(sup);
  ASSERT_TRUE(fifo.next());
  auto& report = bg.finish();
  ASSERT_EQ(report.history.size(), 1U);
  EXPECT_EQ(report.history[0].status, mp::ExitStatus::killed_by(SIGKILL));
}

// The children are stopped in reverse start order.
TEST(SupervisorShutdown, StopsInReverseStartOrder) {
  mp::Supervisor sup;
  for (std::string name : {"first", "second", "third"}) sup.add(sh(name, "exec sleep 1000"));
  sup.add(sh("last", "echo stop >&3; exec sleep 1000"));
  auto report = sup.run();
  ASSERT_EQ(report.history.size(), 4U) << report;
  EXPECT_EQ(report.history[0].child, "last");
  EXPECT_EQ(report.history[1].child, "third");
  EXPECT_EQ(report.history[2].child, "second");
  EXPECT_EQ(report.history[3].child, "first");
}

// 36: a child asks the whole group to stop; everyone stops gracefully and the
// report says who and why. Through every start method.
class SupervisorGroupStop : public ::testing::TestWithParam<mp::StartMethod> {};

TEST_P(SupervisorGroupStop, FunctionChildRequestStopsEveryone) {
  mp::Supervisor sup;
  sup.add(mp::ChildSpec::function("worker", with_method(GetParam()), wait_forever));
  sup.add(sh("service", "exec sleep 1000"));
  sup.add(mp::ChildSpec::function("watcher", with_method(GetParam()), ask_group_stop,
                                  sup.group_stop()));
  auto report = sup.run();
  EXPECT_EQ(report.reason, mp::StopReason::group_stop_requested) << report;
  EXPECT_EQ(report.child, "watcher");
  EXPECT_EQ(report.child_pid, report.find("watcher")->last_pid);
  EXPECT_EQ(report.message, "done");
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.exit_code(), 0);
  ASSERT_EQ(report.history.size(), 3U);
  for (const auto& e : report.history) {
    EXPECT_EQ(e.status, mp::ExitStatus::killed_by(SIGTERM)) << e.describe();
    EXPECT_TRUE(e.during_shutdown);
    EXPECT_FALSE(e.restarted);
  }
  EXPECT_NE(report.describe().find("group stop requested by watcher (pid "), std::string::npos)
      << report.describe();
}

INSTANTIATE_TEST_SUITE_P(Methods, SupervisorGroupStop, mp::testing::kAllStartMethods,
                         mp::testing::start_method_name);

TEST(SupervisorGroupStopCommand, EchoToDescriptor3StopsEveryone) {
  mp::Supervisor sup;
  sup.add(sh("worker", "exec sleep 1000"));
  sup.add(sh("script", "echo all done >&3; exec sleep 1000"));
  auto report = sup.run();
  EXPECT_EQ(report.reason, mp::StopReason::group_stop_requested);
  EXPECT_EQ(report.child, "script");
  EXPECT_EQ(report.message, "all done");
  EXPECT_TRUE(report.ok());
}

// A request from a grandchild (same process group) names the command. The
// grandchild lives on so that its group can be looked up.
TEST(SupervisorGroupStopCommand, RequestFromAGrandchildNamesTheCommand) {
  TempDir dir;
  std::string pidfile = dir.file("pid");
  mp::Supervisor sup;
  sup.add(sh("script",
             "sh -c 'echo $$ > " + pidfile + "; echo from below >&3; exec sleep 1000' & wait"));
  auto report = sup.run();
  EXPECT_EQ(report.reason, mp::StopReason::group_stop_requested);
  EXPECT_EQ(report.message, "from below");
  EXPECT_EQ(report.child, "script") << report;
  // The grandchild died with its group; this test process (a subreaper)
  // inherited it and reaps it.
  std::ifstream in(pidfile);
  pid_t grandchild = 0;
  ASSERT_TRUE(in >> grandchild);
  EXPECT_TRUE(mp::testing::gone_or_reaped(grandchild));
}

// 16: children that exit on their own during the shutdown: no hang, their
// real reasons, no restart.
TEST(SupervisorShutdown, ChildrenExitingOnTheirOwnDuringShutdown) {
  TempDir dir;
  std::string fifo = dir.file("ready");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string pidfile = dir.file("sleep.pid");
  mp::Supervisor sup;
  // Each handles SIGTERM by exiting with its own code, once it said so; the
  // last one waits for both, asks for the stop and exits 0 at once.
  sup.add(
      mp::ChildSpec::function("handler", with_method(mp::StartMethod::fork), exit_7_on_term, fifo));
  sup.add(sh("trapper", "trap 'exit 5' TERM; sleep 1000 & echo $! > '" + pidfile +
                            "'; echo ready > '" + fifo + "'; wait"));
  sup.add(sh("leaver", "trap '' TERM; { read a; read b; } <> '" + fifo + "'; echo bye >&3"));
  auto report = sup.run();
  EXPECT_EQ(report.reason, mp::StopReason::group_stop_requested) << report;
  EXPECT_EQ(report.child, "leaver") << report;
  ASSERT_EQ(report.history.size(), 3U) << report;
  for (const auto& e : report.history) {
    EXPECT_TRUE(e.during_shutdown) << e.describe();
    EXPECT_FALSE(e.restarted) << e.describe();
  }
  EXPECT_EQ(report.find("handler")->last_status, mp::ExitStatus::exited_with(7)) << report;
  EXPECT_EQ(report.find("trapper")->last_status, mp::ExitStatus::exited_with(5)) << report;
  EXPECT_EQ(report.find("leaver")->last_status, mp::ExitStatus::exited_with(0)) << report;
  for (const auto& c : report.children) EXPECT_EQ(c.starts, 1) << c.name;
  // The trapper's sleep died with its group; as an orphan it came back to
  // this test process (a subreaper), which reaps it.
  std::ifstream in(pidfile);
  pid_t sleeper = 0;
  ASSERT_TRUE(in >> sleeper);
  EXPECT_TRUE(mp::testing::gone_or_reaped(sleeper));
}

// AutoShutdown: a significant child that ends for good ends the group.
TEST(SupervisorAutoShutdown, AnySignificantCrashStopsTheGroupAsFailure) {
  mp::Supervisor sup({.auto_shutdown = mp::AutoShutdown::any_significant});
  sup.add(sh("other", "exec sleep 1000"));
  sup.add(sh("key", "exit 2", {.restart = mp::Restart::temporary, .significant = true}));
  auto report = sup.run();
  EXPECT_EQ(report.reason, mp::StopReason::significant_child_exited);
  EXPECT_EQ(report.child, "key");
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.exit_code(), 1);
}

TEST(SupervisorAutoShutdown, AllSignificantWaitsForEverySignificantChild) {
  TempDir dir;
  LineFifo quick_pid(dir.file("quick"));
  std::string go = dir.file("go");
  ASSERT_EQ(::mkfifo(go.c_str(), 0600), 0);
  mp::Supervisor sup({.auto_shutdown = mp::AutoShutdown::all_significant});
  mp::ChildOptions sig{.restart = mp::Restart::transient, .significant = true};
  sup.add(sh("other", "exec sleep 1000"));
  sup.add(sh("quick", "echo $$ > '" + quick_pid.path() + "'; exit 0", sig));
  sup.add(sh("slow", "read x <> '" + go + "'; exit 0", sig));
  Background bg(sup);
  // Once quick has ended, the group goes on until slow ends too. (Exits
  // seen in one poll round are handled in start order, so slow's is last.)
  auto line = quick_pid.next();
  ASSERT_TRUE(line);
  int pidfd = mp::testing::pidfd_open(std::stoi(*line));
  if (pidfd >= 0) {
    EXPECT_TRUE(mp::testing::wait_readable(pidfd));
    ::close(pidfd);
  }
  {
    int fd = ::open(go.c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "go\n", 3), 3);
    ::close(fd);
  }
  auto& report = bg.join();
  EXPECT_EQ(report.reason, mp::StopReason::significant_child_exited);
  EXPECT_EQ(report.child, "slow") << report;
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.find("quick")->last_status, mp::ExitStatus::exited_with(0));
}

TEST(SupervisorStopToken, StopTokenEndsRun) {
  TempDir dir;
  LineFifo fifo(dir.file("fifo"));
  mp::Supervisor sup;
  sup.add(sh("a", "echo up > '" + fifo.path() + "'; exec sleep 1000"));
  std::stop_source stop;
  mp::SupervisorReport report;
  std::thread t([&] { report = sup.run(stop.get_token()); });
  EXPECT_TRUE(fifo.next());
  stop.request_stop();
  t.join();
  EXPECT_EQ(report.reason, mp::StopReason::stop_requested);
  EXPECT_TRUE(report.ok());
  // A second run works and starts afresh.
  sup.add(sh("b", "echo stop >&3"));
  auto again = sup.run();
  EXPECT_EQ(again.reason, mp::StopReason::group_stop_requested);
  EXPECT_EQ(again.find("a")->starts, 1);
}
