// The supervisor: strategies (RELIABILITY 30-32), the restart table (33),
// restart intensity (34), crash loops and backoff (37), command launch
// (exec failure, environment, working directory) and misuse.
//
// Children tell the test what they do through a FIFO (helpers/
// supervisor_helpers.hpp), so every wait is on an event. Supervisors that
// the test must act on while they run are on a background thread; their
// function children then use the forkserver (the test process has two
// threads, where fork would be refused).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "helpers/pidfd.hpp"
#include "helpers/supervisor_helpers.hpp"
#include "multiproc/multiproc.hpp"

namespace mp = multiproc;
using namespace std::chrono_literals;
using mp::testing::Background;
using mp::testing::LineFifo;
using mp::testing::TempDir;

namespace {

mp::ChildOptions forkserver_child(mp::Restart restart = mp::Restart::permanent) {
  mp::ChildOptions o;
  o.restart = restart;
  o.shutdown_timeout = 5s;
  o.process.start_method = mp::StartMethod::forkserver;
  return o;
}

// "name pid"
void announce_and_wait(std::string fifo, std::string name) {
  mp::testing::say(fifo, name + " " + std::to_string(getpid()));
  for (;;) pause();
}

// "name pid alive" where alive counts the PIDs listed in `old_pids_file`
// that still exist (as a process or an unreaped zombie).
void count_old_and_wait(std::string fifo, std::string name, std::string old_pids_file) {
  int alive = 0;
  std::ifstream in(old_pids_file);
  pid_t old = 0;
  while (in >> old)
    if (::kill(old, 0) == 0) ++alive;
  mp::testing::say(fifo, name + " " + std::to_string(getpid()) + " " + std::to_string(alive));
  for (;;) pause();
}

struct Announcement {
  std::string name;
  pid_t pid = 0;
  int alive = 0;
};

Announcement next_announcement(LineFifo& fifo) {
  auto line = fifo.next();
  EXPECT_TRUE(line.has_value()) << "no child announced itself in time";
  Announcement a;
  std::istringstream in(line.value_or(""));
  in >> a.name >> a.pid >> a.alive;
  return a;
}

std::map<std::string, Announcement> announcements(LineFifo& fifo, int n) {
  std::map<std::string, Announcement> out;
  for (int i = 0; i < n; ++i) {
    auto a = next_announcement(fifo);
    out[a.name] = a;
  }
  return out;
}

void kill_pid(pid_t pid) {
  int fd = mp::testing::pidfd_open(pid);
  ASSERT_GE(fd, 0);
  mp::testing::pidfd_kill(fd);
  ::close(fd);
}

std::string sh_announce(const std::string& fifo, const std::string& name) {
  return "echo \"" + name + " $$\" > '" + fifo + "'; exec sleep 1000";
}

mp::ChildSpec sh(const std::string& name, const std::string& script,
                 mp::ChildOptions options = {}) {
  return mp::ChildSpec::command(name, options, {.argv = {"/bin/sh", "-c", script}});
}

}  // namespace

// 30: a killed child gets a new PID; its siblings keep theirs.
TEST(SupervisorStrategy, OneForOneRestartsOnlyTheKilledFunctionChild) {
  TempDir dir;
  LineFifo fifo(dir.file("fifo"));
  mp::Supervisor sup({.strategy = mp::Strategy::one_for_one});
  for (std::string name : {"a", "b", "c"})
    sup.add(
        mp::ChildSpec::function(name, forkserver_child(), announce_and_wait, fifo.path(), name));
  Background bg(sup);
  auto first = announcements(fifo, 3);
  kill_pid(first["b"].pid);
  auto again = next_announcement(fifo);
  EXPECT_EQ(again.name, "b");
  EXPECT_NE(again.pid, first["b"].pid);
  auto& report = bg.finish();
  EXPECT_EQ(report.reason, mp::StopReason::stop_requested);
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.find("a")->last_pid, first["a"].pid);
  EXPECT_EQ(report.find("c")->last_pid, first["c"].pid);
  EXPECT_EQ(report.find("a")->starts, 1);
  EXPECT_EQ(report.find("b")->starts, 2);
  EXPECT_EQ(report.find("b")->restarts, 1);
  ASSERT_FALSE(report.history.empty());
  EXPECT_EQ(report.history[0].child, "b");
  EXPECT_EQ(report.history[0].status, mp::ExitStatus::killed_by(SIGKILL));
  EXPECT_TRUE(report.history[0].restarted);
}

TEST(SupervisorStrategy, OneForOneRestartsOnlyTheKilledCommand) {
  TempDir dir;
  LineFifo fifo(dir.file("fifo"));
  mp::Supervisor sup;
  for (std::string name : {"a", "b", "c"}) sup.add(sh(name, sh_announce(fifo.path(), name)));
  Background bg(sup);
  auto first = announcements(fifo, 3);
  kill_pid(first["a"].pid);
  auto again = next_announcement(fifo);
  EXPECT_EQ(again.name, "a");
  EXPECT_NE(again.pid, first["a"].pid);
  auto& report = bg.finish();
  EXPECT_EQ(report.find("b")->last_pid, first["b"].pid);
  EXPECT_EQ(report.find("c")->last_pid, first["c"].pid);
  EXPECT_EQ(report.find("a")->restarts, 1);
}

// 31: every old child is gone (reaped) before any new one starts.
TEST(SupervisorStrategy, OneForAllReapsEveryOldChildBeforeStartingAnyNewOne) {
  TempDir dir;
  LineFifo fifo(dir.file("fifo"));
  std::string pids_file = dir.file("old_pids");
  mp::Supervisor sup({.strategy = mp::Strategy::one_for_all});
  for (std::string name : {"a", "b", "c"})
    sup.add(mp::ChildSpec::function(name, forkserver_child(), count_old_and_wait, fifo.path(), name,
                                    pids_file));
  Background bg(sup);
  auto first = announcements(fifo, 3);
  {
    std::ofstream out(pids_file);
    for (auto& [name, a] : first) out << a.pid << '\n';
  }
  kill_pid(first["b"].pid);
  auto second = announcements(fifo, 3);
  for (auto& [name, a] : second) {
    EXPECT_EQ(a.alive, 0) << name << " started while an old child still existed";
    EXPECT_NE(a.pid, first[name].pid) << name;
  }
  auto& report = bg.finish();
  // b's crash, then c and a stopped in reverse order, all to be restarted.
  ASSERT_GE(report.history.size(), 3U);
  EXPECT_EQ(report.history[0].child, "b");
  EXPECT_EQ(report.history[1].child, "c");
  EXPECT_EQ(report.history[2].child, "a");
  EXPECT_EQ(report.history[1].status, mp::ExitStatus::killed_by(SIGTERM));
  EXPECT_TRUE(report.history[1].restarted);
  for (const auto& c : report.children) EXPECT_EQ(c.starts, 2) << c.name;
}

// 32: only the children started after the failed one restart with it.
TEST(SupervisorStrategy, RestForOneRestartsTheFailedChildAndThoseAfterIt) {
  TempDir dir;
  LineFifo fifo(dir.file("fifo"));
  mp::Supervisor sup({.strategy = mp::Strategy::rest_for_one});
  sup.add(mp::ChildSpec::function("a", forkserver_child(), announce_and_wait, fifo.path(),
                                  std::string("a")));
  sup.add(sh("b", sh_announce(fifo.path(), "b")));
  sup.add(mp::ChildSpec::function("c", forkserver_child(), announce_and_wait, fifo.path(),
                                  std::string("c")));
  Background bg(sup);
  auto first = announcements(fifo, 3);
  kill_pid(first["b"].pid);
  auto second = announcements(fifo, 2);
  EXPECT_EQ(second.count("a"), 0U);
  EXPECT_NE(second["b"].pid, first["b"].pid);
  EXPECT_NE(second["c"].pid, first["c"].pid);
  auto& report = bg.finish();
  EXPECT_EQ(report.find("a")->starts, 1);
  EXPECT_EQ(report.find("a")->last_pid, first["a"].pid);
  EXPECT_EQ(report.find("b")->starts, 2);
  EXPECT_EQ(report.find("c")->starts, 2);
}

// 33: permanent / transient / temporary x exit 0 / exit 1 / SIGTERM / SIGKILL,
// for function children and for commands.
namespace {

enum class Kind { exit0, exit1, sigterm, sigkill };

int end_as(int kind) {
  switch (static_cast<Kind>(kind)) {
    case Kind::exit0:
      return 0;
    case Kind::exit1:
      return 1;
    case Kind::sigterm:
      ::kill(getpid(), SIGTERM);
      break;
    case Kind::sigkill:
      ::kill(getpid(), SIGKILL);
      break;
  }
  for (;;) pause();
}

const char* kScripts[] = {"exit 0", "exit 1", "kill -TERM $$", "kill -KILL $$"};

mp::ExitStatus expected_status(Kind kind) {
  switch (kind) {
    case Kind::exit0:
      return mp::ExitStatus::exited_with(0);
    case Kind::exit1:
      return mp::ExitStatus::exited_with(1);
    case Kind::sigterm:
      return mp::ExitStatus::killed_by(SIGTERM);
    case Kind::sigkill:
      return mp::ExitStatus::killed_by(SIGKILL);
  }
  return {};
}

// The documented table.
bool table(mp::Restart r, Kind k) {
  if (r == mp::Restart::permanent) return true;
  if (r == mp::Restart::temporary) return false;
  return k == Kind::exit1 || k == Kind::sigkill;
}

using TableCase = std::tuple<mp::Restart, Kind, bool>;

class SupervisorRestartTable : public ::testing::TestWithParam<TableCase> {};

}  // namespace

TEST_P(SupervisorRestartTable, FollowsTheDocumentedTable) {
  auto [restart, kind, command] = GetParam();
  mp::ChildOptions options{.restart = restart};
  // One restart allowed: a child that is restarted ends the run at its second
  // exit (intensity exceeded); one that is not ends it at its first.
  mp::Supervisor sup({.max_restarts = 1, .period = 60s, .backoff = {.initial = 1ms}});
  if (command) {
    sup.add(sh("child", kScripts[static_cast<int>(kind)], options));
  } else {
    options.process.start_method = mp::StartMethod::fork;
    sup.add(mp::ChildSpec::function("child", options, end_as, static_cast<int>(kind)));
  }
  auto report = sup.run();
  bool restarted = table(restart, kind);
  const auto* child = report.find("child");
  ASSERT_NE(child, nullptr);
  ASSERT_FALSE(report.history.empty());
  EXPECT_EQ(report.history[0].status, expected_status(kind)) << report;
  EXPECT_EQ(report.history[0].restarted, restarted) << report;
  EXPECT_EQ(child->restarts, restarted ? 1 : 0) << report;
  EXPECT_EQ(report.reason,
            restarted ? mp::StopReason::intensity_exceeded : mp::StopReason::all_children_ended)
      << report;
  EXPECT_EQ(report.history.size(), restarted ? 2U : 1U) << report;
}

namespace {
std::string table_case_name(const ::testing::TestParamInfo<TableCase>& param) {
  static const char* const restarts[] = {"permanent", "transient", "temporary"};
  static const char* const kinds[] = {"exit0", "exit1", "sigterm", "sigkill"};
  return std::string(restarts[static_cast<int>(std::get<0>(param.param))]) + "_" +
         kinds[static_cast<int>(std::get<1>(param.param))] +
         (std::get<2>(param.param) ? "_command" : "_function");
}
}  // namespace

INSTANTIATE_TEST_SUITE_P(
    All, SupervisorRestartTable,
    ::testing::Combine(::testing::Values(mp::Restart::permanent, mp::Restart::transient,
                                         mp::Restart::temporary),
                       ::testing::Values(Kind::exit0, Kind::exit1, Kind::sigterm, Kind::sigkill),
                       ::testing::Bool()),
    table_case_name);

// 34: more than R restarts in T: every child stopped, failure reported.
TEST(SupervisorIntensity, TooManyRestartsStopEverythingAndFail) {
  mp::Supervisor sup({.max_restarts = 3, .period = 60s, .backoff = {.initial = 1ms, .max = 5ms}});
  sup.add(sh("sleeper", "exec sleep 1000", {.shutdown_timeout = 5s}));
  sup.add(sh("crasher", "exit 3"));
  auto report = sup.run();
  EXPECT_EQ(report.reason, mp::StopReason::intensity_exceeded);
  EXPECT_EQ(report.child, "crasher");
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.exit_code(), 1);
  EXPECT_EQ(report.find("crasher")->starts, 4);
  EXPECT_EQ(report.find("crasher")->restarts, 3);
  ASSERT_EQ(report.history.size(), 5U) << report;
  EXPECT_EQ(report.history[4].child, "sleeper");
  EXPECT_TRUE(report.history[4].during_shutdown);
  EXPECT_EQ(report.history[4].status, mp::ExitStatus::killed_by(SIGTERM));
  EXPECT_NE(mp::to_string(report).find("restart intensity exceeded: crasher"), std::string::npos)
      << report;
}

// 34: crashes spaced wider than the period never trip it. Each run lives
// 400 ms, twice the period; the fifth run asks the group to stop.
TEST(SupervisorIntensity, CrashesSpacedWiderThanThePeriodNeverTripIt) {
  TempDir dir;
  std::string counter = dir.file("runs");
  std::string script = "echo x >> '" + counter + "'; n=$(wc -l < '" + counter +
                       "'); if [ \"$n\" -ge 5 ]; then echo enough >&3; exec sleep 1000; fi; "
                       "sleep 0.4; exit 1";
  mp::Supervisor sup(
      {.max_restarts = 1, .period = 200ms, .backoff = {.initial = 1ms, .reset_after = 100ms}});
  sup.add(sh("crasher", script));
  auto report = sup.run();
  EXPECT_EQ(report.reason, mp::StopReason::group_stop_requested) << report;
  EXPECT_EQ(report.message, "enough");
  EXPECT_EQ(report.find("crasher")->restarts, 4) << report;
  EXPECT_TRUE(report.ok());
}

// 37: a crash loop at start-up backs off (delays double), ends in a failed
// state after a bounded number of attempts.
namespace {
void expect_backoff(const mp::SupervisorReport& report, std::size_t attempts,
                    std::vector<std::chrono::milliseconds> delays) {
  ASSERT_EQ(report.history.size(), attempts) << report;
  for (std::size_t k = 0; k + 1 < attempts && k < delays.size(); ++k) {
    auto gap = report.history[k + 1].at - report.history[k].at;
    EXPECT_GE(gap, delays[k]) << "between attempts " << k << " and " << k + 1 << '\n' << report;
  }
}
}  // namespace

TEST(SupervisorBackoff, CrashLoopBacksOffThenFails) {
  mp::Supervisor sup(
      {.max_restarts = 4, .period = 60s, .backoff = {.initial = 100ms, .max = 400ms}});
  sup.add(sh("crasher", "exit 1"));
  auto t0 = std::chrono::steady_clock::now();
  auto report = sup.run();
  EXPECT_EQ(report.reason, mp::StopReason::intensity_exceeded);
  expect_backoff(report, 5, {0ms, 100ms, 200ms, 400ms});
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 700ms);
}

TEST(SupervisorBackoff, ExecFailureLoopBacksOffThenFails) {
  mp::Supervisor sup({.max_restarts = 2, .period = 60s, .backoff = {.initial = 50ms}});
  sup.add(mp::ChildSpec::command("missing", {.argv = {"/nonexistent/program", "x"}}));
  auto report = sup.run();
  EXPECT_EQ(report.reason, mp::StopReason::intensity_exceeded);
  expect_backoff(report, 3, {0ms, 50ms});
  EXPECT_EQ(report.find("missing")->starts, 0);
  EXPECT_NE(
      report.history[0].start_error.find("execve /nonexistent/program: No such file or directory"),
      std::string::npos)
      << report;
}

TEST(SupervisorBackoff, StopRequestDuringTheBackoffWaitEndsRunAtOnce) {
  TempDir dir;
  LineFifo fifo(dir.file("fifo"));
  mp::Supervisor sup({.max_restarts = 100, .backoff = {.initial = 60s, .max = 60s}});
  sup.add(sh("crasher", "echo started > '" + fifo.path() + "'; exit 1"));
  Background bg(sup);
  ASSERT_TRUE(fifo.next());  // the first run
  ASSERT_TRUE(fifo.next());  // the immediate restart; the next one waits 60 s
  auto t0 = std::chrono::steady_clock::now();
  auto& report = bg.finish();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(report.reason, mp::StopReason::stop_requested);
  EXPECT_EQ(report.find("crasher")->starts, 2);
}

// Command launch.
TEST(SupervisorCommand, ExecFailureIsReportedClearly) {
  mp::Supervisor sup;
  sup.add(mp::ChildSpec::command("ghost", {.restart = mp::Restart::temporary},
                                 {.argv = {"no-such-program-anywhere"}}));
  auto report = sup.run();
  EXPECT_EQ(report.reason, mp::StopReason::all_children_ended);
  EXPECT_FALSE(report.ok());
  ASSERT_EQ(report.history.size(), 1U);
  EXPECT_NE(report.history[0].start_error.find("no-such-program-anywhere: not found in PATH"),
            std::string::npos)
      << report;
}

TEST(SupervisorCommand, EnvironmentAndWorkingDirectoryAreHonoured) {
  TempDir dir;
  LineFifo fifo(dir.file("fifo"));
  std::string cwd = dir.file("");
  mp::Supervisor sup;
  sup.add(mp::ChildSpec::command(
      "env", {.restart = mp::Restart::transient},
      {.argv = {"sh", "-c", "echo \"$FOO|$(pwd -P)|$MULTIPROC_GROUP_STOP_FD|$HOME\" > fifo"},
       .env = std::vector<std::string>{"FOO=bar", "PATH=/usr/bin:/bin"},
       .cwd = cwd}));
  sup.add(mp::ChildSpec::command(
      "inherit", {.restart = mp::Restart::transient},
      {.argv = {"sh", "-c", "echo \"inherited:$MP_SUP_TEST_VAR\" > '" + fifo.path() + "'"}}));
  ::setenv("MP_SUP_TEST_VAR", "yes", 1);
  auto report = sup.run();
  EXPECT_EQ(report.reason, mp::StopReason::all_children_ended) << report;
  EXPECT_TRUE(report.ok()) << report;
  std::set<std::string> lines{fifo.next().value_or(""), fifo.next().value_or("")};
  auto real = std::filesystem::canonical(cwd).string();
  EXPECT_EQ(lines.count("bar|" + real + "|3|"), 1U) << *lines.begin() << " / " << *lines.rbegin();
  EXPECT_EQ(lines.count("inherited:yes"), 1U);
}

TEST(SupervisorCommand, GrandchildrenAreGoneAfterStop) {
  TempDir dir;
  LineFifo fifo(dir.file("fifo"));
  mp::Supervisor sup;
  sup.add(sh("parent", "sleep 1000 & echo $! > '" + fifo.path() + "'; wait"));
  pid_t grandchild = 0;
  int pidfd = -1;
  {
    Background bg(sup);
    auto line = fifo.next();
    ASSERT_TRUE(line);
    grandchild = std::stoi(*line);
    pidfd = mp::testing::pidfd_open(grandchild);
    ASSERT_GE(pidfd, 0);
    bg.finish();
  }
  // Killed with its group: gone, or orphaned to this test process (a
  // subreaper) and dead.
  EXPECT_TRUE(mp::testing::wait_readable(pidfd, 5000));
  ::close(pidfd);
  EXPECT_TRUE(mp::testing::gone_or_reaped(grandchild));
}

// Misuse.
TEST(SupervisorUsage, ClearErrors) {
  mp::Supervisor sup;
  sup.add(sh("a", "exit 0"));
  EXPECT_THROW(sup.add(sh("a", "exit 0")), mp::UsageError);
  EXPECT_THROW(mp::ChildSpec::command("x", {}), mp::UsageError);
  EXPECT_THROW(sh("x", "exit 0", {.restart = mp::Restart::permanent, .significant = true}),
               mp::UsageError);
  EXPECT_NO_THROW(sh("x", "exit 0", {.restart = mp::Restart::transient, .significant = true}));
}

// Both kinds of child take (name, options, what to run), options optional.
TEST(SupervisorUsage, OptionsComeSecondAndMayBeLeftOutForBothKinds) {
  auto f = mp::ChildSpec::function(
      "f", [](int) {}, 1);
  EXPECT_EQ(f.options().restart, mp::Restart::permanent);
  EXPECT_FALSE(f.is_command());
  auto g = mp::ChildSpec::function(
      "g", {.restart = mp::Restart::temporary}, [](int) {}, 1);
  EXPECT_EQ(g.options().restart, mp::Restart::temporary);
  auto c = mp::ChildSpec::command("c", {.argv = {"true"}});
  EXPECT_EQ(c.options().restart, mp::Restart::permanent);
  EXPECT_TRUE(c.is_command());
  auto d = mp::ChildSpec::command("d", {.restart = mp::Restart::temporary}, {.argv = {"true"}});
  EXPECT_EQ(d.options().restart, mp::Restart::temporary);
  EXPECT_EQ(d.command()->argv, std::vector<std::string>{"true"});
}

TEST(SupervisorUsage, RunTwiceConcurrentlyAndAddWhileRunningAreRefused) {
  TempDir dir;
  LineFifo fifo(dir.file("fifo"));
  mp::Supervisor sup;
  sup.add(sh("a", sh_announce(fifo.path(), "a")));
  Background bg(sup);
  ASSERT_TRUE(fifo.next());
  EXPECT_THROW(sup.run(), mp::UsageError);
  EXPECT_THROW(sup.add(sh("b", "exit 0")), mp::UsageError);
  EXPECT_EQ(bg.finish().reason, mp::StopReason::stop_requested);
}

TEST(SupervisorUsage, StopRequestedBeforeRunStartsNothing) {
  mp::Supervisor sup;
  sup.add(sh("a", "exec sleep 1000"));
  std::stop_source stop;
  stop.request_stop();
  auto report = sup.run(stop.get_token());
  EXPECT_EQ(report.reason, mp::StopReason::stop_requested);
  EXPECT_EQ(report.find("a")->starts, 0);
  EXPECT_TRUE(report.history.empty());
}
