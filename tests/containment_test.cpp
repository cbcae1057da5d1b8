// Containment (issue 17, docs/containment.md): a contained child's whole
// process tree ends with it. Each test starts a "helper" the way a task or a
// child would (a double fork, setsid when asked), so that the helper is
// nobody's direct child, then checks that the helper ends when it must.
//
// A killed helper is orphaned to this test process (a child subreaper, see
// helpers/test_main.cpp) or to init; ends() reaps it when it is ours.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include "contain/cgroup_paths.hpp"
#include "contain/memory_events.hpp"
#include "contain/session.hpp"
#include "helpers/leak_check.hpp"
#include "helpers/pidfd.hpp"
#include "helpers/start_methods.hpp"
#include "helpers/supervisor_helpers.hpp"
#include "multiproc/multiproc.hpp"

namespace mp = multiproc;
namespace contain = multiproc::detail::contain;
using namespace std::chrono_literals;

namespace {

// Starts a helper that outlives its starter unless contained: the
// grandchild of a double fork (the middle process exits at once), which
// leaves the session first when `own_session`, then waits for a signal.
// Returns its PID.
pid_t start_helper(bool own_session) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return -1;
  pid_t middle = ::fork();
  if (middle == 0) {
    if (::fork() == 0) {
      if (own_session) ::setsid();
      pid_t me = ::getpid();
      (void)::write(p[1], &me, sizeof me);
      for (;;) ::pause();
    }
    ::_exit(0);
  }
  ::close(p[1]);
  pid_t helper = -1;
  if (::read(p[0], &helper, sizeof helper) != sizeof helper) helper = -1;
  ::close(p[0]);
  ::waitpid(middle, nullptr, 0);
  return helper;
}

// A pidfd on `pid`, which must be running.
int watch(pid_t pid) {
  int fd = mp::testing::pidfd_open(pid);
  EXPECT_GE(fd, 0) << "helper " << pid << " was gone before it could be watched";
  return fd;
}

// Whether the process behind `pidfd` ends within `timeout` (generous: the
// test's own timeout is the real bound); reaps it when it is ours. Closes
// `pidfd`.
bool ends(int pidfd, std::chrono::milliseconds timeout = 30s) {
  if (pidfd < 0) return false;
  bool ended = mp::testing::wait_readable(pidfd, static_cast<int>(timeout.count()));
  if (ended) {
    siginfo_t info{};
    (void)::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG);
  }
  ::close(pidfd);
  return ended;
}

// Kills and reaps a helper that was meant to survive.
void kill_survivor(int pidfd) {
  mp::testing::pidfd_kill(pidfd);
  EXPECT_TRUE(ends(pidfd));
}

// After a parent of contained trees died: its guardian, adopted by this
// subreaper test process, ends once it has killed the parent's trees and
// removed its session. Waits for it, reaps it, and checks the session is
// gone.
// Every other process the dead parent left to this subreaper (its workers
// and zygote, which die with it) is reaped too.
void expect_guardian_cleaned_up_after(pid_t dead_parent) {
  for (const auto& c : mp::testing::children_of(::getpid())) {
    EXPECT_TRUE(ends(mp::testing::pidfd_open(c.pid)))
        << c.command << " (pid " << c.pid << ") still runs";
  }
  auto own = contain::own_cgroup_directory();
  ASSERT_TRUE(own);
  std::string session = *own + "/multiproc-" + std::to_string(dead_parent);
  EXPECT_FALSE(std::filesystem::exists(session)) << session << " was left behind";
}

bool cgroups_in_force() {
  return mp::containment_mechanism() == mp::Containment::cgroup;
}

// ---- the parsers, on recorded files ------------------------------------

TEST(CgroupPaths, FindsTheCgroup2MountOnAHybridHost) {
  // This project's build host: v1 controllers, cgroup2 at .../unified.
  std::string mountinfo =
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
  EXPECT_EQ(contain::cgroup2_mount(mountinfo), "/sys/fs/cgroup/unified");
}

TEST(CgroupPaths, FindsTheCgroup2MountOnAPureV2HostWithOptionalFields) {
  std::string mountinfo =
      "24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
      "28 24 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 master:1 - cgroup2 "
      "cgroup2 rw,nsdelegate,memory_recursiveprot\n";
  EXPECT_EQ(contain::cgroup2_mount(mountinfo), "/sys/fs/cgroup");
}

TEST(CgroupPaths, DecodesOctalEscapesAndReportsNoMount) {
  EXPECT_EQ(contain::cgroup2_mount("1 2 0:3 / /mnt/my\\040cg rw - cgroup2 none rw\n"),
            "/mnt/my cg");
  EXPECT_EQ(contain::cgroup2_mount("1 2 0:3 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"),
            std::nullopt);
  EXPECT_EQ(contain::cgroup2_mount(""), std::nullopt);
}

TEST(CgroupPaths, ReadsTheV2LineOfProcSelfCgroup) {
  EXPECT_EQ(contain::cgroup2_path("9:name=systemd:/\n4:memory:/a/b\n0::/\n"), "/");
  EXPECT_EQ(contain::cgroup2_path("0::/user.slice/user-1000.slice/session-2.scope\n"),
            "/user.slice/user-1000.slice/session-2.scope");
  EXPECT_EQ(contain::cgroup2_path("4:memory:/a\n"), std::nullopt);      // v1 only
  EXPECT_EQ(contain::cgroup2_path("0::/x (deleted)\n"), std::nullopt);  // gone
  EXPECT_EQ(contain::cgroup2_path("0::/../../other\n"), std::nullopt);  // outside our namespace
}

TEST(MemoryEvents, CountsOomKillsFromARecordedFile) {
  auto e =
      contain::parse_memory_events("low 0\nhigh 0\nmax 41\noom 2\noom_kill 1\noom_group_kill 0\n");
  EXPECT_EQ(e.max, 41u);
  EXPECT_EQ(e.oom, 2u);
  EXPECT_EQ(e.oom_kill, 1u);
  auto none = contain::parse_memory_events("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
  EXPECT_EQ(none.oom_kill, 0u);
  auto garbage = contain::parse_memory_events("oom_kill x\noom_kill\n\nmax 3junk\n");
  EXPECT_EQ(garbage.oom_kill, 0u);
  EXPECT_EQ(garbage.max, 0u);
}

TEST(ContainmentMechanism, IsNamedAndFixed) {
  mp::Containment c = mp::containment_mechanism();
  EXPECT_EQ(mp::containment_mechanism(), c);
  EXPECT_TRUE(mp::to_string(c) == "cgroup" || mp::to_string(c) == "process_group" ||
              mp::to_string(c) == "none");
  // Where the library may make cgroups below its own (root on this
  // project's machines), it does.
  auto own = contain::own_cgroup_directory();
  if (own && ::geteuid() == 0 && std::getenv("MULTIPROC_CONTAINMENT") == nullptr) {
    EXPECT_EQ(c, mp::Containment::cgroup) << "own cgroup " << *own;
  }
}

// ---- Process -----------------------------------------------------------

class ProcessContainment : public ::testing::TestWithParam<mp::StartMethod> {
 protected:
  mp::ProcessOptions options(bool contain) {
    return {.start_method = GetParam(), .contain = contain};
  }
};

void start_helper_then_wait(mp::Queue<int> q, bool own_session) {
  q.put(start_helper(own_session));
  for (;;) ::pause();
}

void start_helper_then_return(mp::Queue<int> q) {
  q.put(start_helper(false));
}

// A contained child with a setsid'd helper, ended by `end` (kill or
// terminate) and joined: the helper must end too.
void expect_helper_ends_with_child(mp::ProcessOptions options, void (*end)(mp::Process&)) {
  mp::Queue<int> q;
  mp::Process p(std::move(options), start_helper_then_wait, q, true);
  p.start();
  auto helper = q.get(60s);
  ASSERT_TRUE(helper);
  int pidfd = watch(*helper);
  end(p);
  p.join();
  EXPECT_TRUE(ends(pidfd));
}

TEST_P(ProcessContainment, KillEndsASetsidHelper) {
  expect_helper_ends_with_child(options(true), [](mp::Process& p) { p.kill(); });
}

TEST_P(ProcessContainment, TerminateEndsTheTreeWhenTheChildIsReaped) {
  expect_helper_ends_with_child(options(true), [](mp::Process& p) { p.terminate(); });
}

TEST_P(ProcessContainment, AChildThatEndsNormallyTakesItsDoubleForkedHelperAlong) {
  mp::Queue<int> q;
  mp::Process p(options(true), start_helper_then_return, q);
  p.start();
  auto helper = q.get(60s);
  ASSERT_TRUE(helper);
  int pidfd = watch(*helper);
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  if (cgroups_in_force()) {
    // join() returns once the cgroup is empty: the helper has exited then.
    EXPECT_TRUE(mp::testing::wait_readable(pidfd, 0));
  }
  EXPECT_TRUE(ends(pidfd));
}

TEST_P(ProcessContainment, WithoutContainAHelperOutlivesItsChild) {
  mp::Queue<int> q;
  mp::Process p(options(false), start_helper_then_return, q);
  p.start();
  auto helper = q.get(60s);
  ASSERT_TRUE(helper);
  int pidfd = watch(*helper);
  p.join();
  EXPECT_FALSE(mp::testing::wait_readable(pidfd, 200)) << "the default must leave it alone";
  kill_survivor(pidfd);
}

INSTANTIATE_TEST_SUITE_P(Methods, ProcessContainment, mp::testing::kAllStartMethods,
                         mp::testing::start_method_name);

// ---- Pool --------------------------------------------------------------

std::optional<mp::Queue<int>> g_helpers;
void remember_helper_queue(mp::Queue<int> q) {
  g_helpers.emplace(std::move(q));
}

int helper_then_sleep(int own_session) {
  g_helpers->put(start_helper(own_session != 0));
  std::this_thread::sleep_for(60s);
  return 0;
}

int helper_then_return(int own_session) {
  g_helpers->put(start_helper(own_session != 0));
  return 7;
}

class PoolContainment : public ::testing::TestWithParam<mp::StartMethod> {
 protected:
  mp::PoolOptions options() {
    mp::PoolOptions o;
    o.processes = 1;
    o.start_method = GetParam();
    o.initializer = mp::Initializer(remember_helper_queue, helpers);
    return o;
  }
  int next_helper() {
    auto pid = helpers.get(60s);
    EXPECT_TRUE(pid);
    return pid ? watch(*pid) : -1;
  }
  mp::Queue<int> helpers;
};

TEST_P(PoolContainment, ATaskThatTimesOutTakesItsHelperAlong) {
  auto o = options();
  o.task_timeout = 3s;
  mp::Pool pool(o);
  auto r = pool.apply_async(helper_then_sleep, 0);
  int pidfd = next_helper();
  EXPECT_THROW(r.get(120s), mp::TaskTimeoutError);
  EXPECT_TRUE(ends(pidfd));
  EXPECT_EQ(pool.apply(helper_then_return, 0), 7);  // the pool goes on
  kill_survivor(next_helper());                     // kill_task_leftovers is off: that one stays
}

TEST_P(PoolContainment, ACancelledTaskTakesItsSetsidHelperAlong) {
  mp::Pool pool(options());
  auto r = pool.apply_async(helper_then_sleep, 1);
  int pidfd = next_helper();
  EXPECT_TRUE(r.cancel());
  EXPECT_TRUE(ends(pidfd));
}

int helper_then_crash(int own_session) {
  g_helpers->put(start_helper(own_session != 0));
  ::raise(SIGSEGV);
  return 0;
}

TEST_P(PoolContainment, ATaskThatCrashesItsWorkerTakesItsHelperAlong) {
  mp::Pool pool(options());
  auto r = pool.apply_async(helper_then_crash, 1);
  int pidfd = next_helper();
  EXPECT_THROW(r.get(120s), mp::WorkerLost);
  EXPECT_TRUE(ends(pidfd));
}

TEST_P(PoolContainment, ARecycledWorkerTakesItsTasksDoubleForkedHelperAlong) {
  auto o = options();
  o.maxtasksperchild = 1;
  mp::Pool pool(o);
  EXPECT_EQ(pool.apply(helper_then_return, 0), 7);
  EXPECT_TRUE(ends(next_helper()));  // its worker retired after that task
}

TEST_P(PoolContainment, TerminateEndsEveryTasksHelpers) {
  mp::Pool pool(options());
  auto r = pool.apply_async(helper_then_sleep, 1);
  int pidfd = next_helper();
  pool.terminate();
  EXPECT_TRUE(ends(pidfd));
}

TEST_P(PoolContainment, KillTaskLeftoversEndsAHelperBeforeTheResultArrives) {
  auto o = options();
  o.kill_task_leftovers = true;
  mp::Pool pool(o);
  EXPECT_EQ(pool.apply(helper_then_return, 1), 7);
  auto pid = helpers.get(60s);
  ASSERT_TRUE(pid);
  // Gone already: pidfd_open fails, or the process has ended.
  int pidfd = mp::testing::pidfd_open(*pid);
  if (pidfd >= 0) {
    EXPECT_TRUE(ends(pidfd, 0ms)) << "helper " << *pid << " still runs";
  }
}

TEST_P(PoolContainment, WithoutContainATasksHelperOutlivesThePool) {
  auto o = options();
  o.contain = false;
  int pidfd = -1;
  {
    mp::Pool pool(o);
    EXPECT_EQ(pool.apply(helper_then_return, 0), 7);
    pidfd = next_helper();
  }
  EXPECT_FALSE(mp::testing::wait_readable(pidfd, 200));
  kill_survivor(pidfd);
}

// The parent SIGKILLed while a task's helper runs: the guardian ends it.
void pool_parent(mp::Queue<int> helpers, mp::StartMethod method) {
  mp::PoolOptions o;
  o.processes = 1;
  o.start_method = method;
  o.initializer = mp::Initializer(remember_helper_queue, helpers);
  mp::Pool pool(o);
  auto r = pool.apply_async(helper_then_sleep, 1);
  r.wait();
}

TEST_P(PoolContainment, AParentKilledWithSigkillTakesItsTasksHelpersAlong) {
  if (!cgroups_in_force()) GTEST_SKIP() << "the guardian needs cgroups";
  // The parent is a fork child of this test: single-threaded, so it may
  // make a fork Pool too.
  mp::Process parent({.start_method = mp::StartMethod::fork}, pool_parent, helpers, GetParam());
  parent.start();
  int pidfd = next_helper();
  pid_t dead = *parent.pid();
  parent.kill();
  parent.join();
  EXPECT_TRUE(ends(pidfd));
  expect_guardian_cleaned_up_after(dead);
}

INSTANTIATE_TEST_SUITE_P(Methods, PoolContainment, mp::testing::kAllStartMethods,
                         mp::testing::start_method_name);

// ---- Supervisor --------------------------------------------------------

mp::ChildSpec sh(const std::string& name, const std::string& script) {
  return mp::ChildSpec::command(name, {}, {.argv = {"/bin/sh", "-c", script}});
}

// A command that starts a setsid'd sleep, says its PID, then waits.
std::string setsid_grandchild(const std::string& fifo) {
  return "setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo $! > '" + fifo + "'; wait";
}

TEST(SupervisorContainment, ASetsidGrandchildDiesOnRestartAndOnStop) {
  mp::testing::TempDir dir;
  mp::testing::LineFifo fifo(dir.file("fifo"));
  mp::Supervisor sup;
  sup.add(sh("parent", "echo $$ > '" + fifo.path() + "'; " + setsid_grandchild(fifo.path())));
  mp::testing::Background bg(sup);
  auto leader = fifo.next();
  auto first = fifo.next();
  ASSERT_TRUE(leader && first);
  int first_fd = watch(std::stoi(*first));
  // Kill the command itself: the supervisor restarts it; its grandchild,
  // out of its process group (setsid), must go with it.
  int leader_fd = watch(std::stoi(*leader));
  mp::testing::pidfd_kill(leader_fd);
  ::close(leader_fd);
  EXPECT_TRUE(ends(first_fd));
  auto again = fifo.next();
  auto second = fifo.next();
  ASSERT_TRUE(again && second);
  int second_fd = watch(std::stoi(*second));
  bg.finish();
  EXPECT_TRUE(ends(second_fd));
}

void run_supervisor(std::string fifo) {
  mp::Supervisor sup;
  sup.add(sh("parent", "echo $$ > '" + fifo + "'; " + setsid_grandchild(fifo)));
  sup.run();
}

TEST(SupervisorContainment, ASupervisorKilledWithSigkillTakesTheGrandchildAlong) {
  if (!cgroups_in_force()) GTEST_SKIP() << "the guardian needs cgroups";
  mp::testing::TempDir dir;
  mp::testing::LineFifo fifo(dir.file("fifo"));
  mp::Process supervisor({.start_method = mp::StartMethod::fork}, run_supervisor, fifo.path());
  supervisor.start();
  auto command = fifo.next();
  auto grandchild = fifo.next();
  ASSERT_TRUE(command && grandchild);
  int command_fd = watch(std::stoi(*command));
  int pidfd = watch(std::stoi(*grandchild));
  pid_t dead = *supervisor.pid();
  supervisor.kill();
  supervisor.join();
  EXPECT_TRUE(ends(command_fd));
  EXPECT_TRUE(ends(pidfd));
  expect_guardian_cleaned_up_after(dead);
}

// ---- the fallback, forced ----------------------------------------------

// In a fork child (which decides its own mechanism): the fallback forced
// on, a contained grandchild's setsid helper is killed with it.
void fallback_kill(mp::Queue<int> report) {
  ::setenv("MULTIPROC_CONTAINMENT", "process_group", 1);
  int ok = mp::containment_mechanism() == mp::Containment::process_group ? 1 : 0;
  mp::Queue<int> q;
  mp::Process p({.start_method = mp::StartMethod::fork, .contain = true}, start_helper_then_wait, q,
                true);
  p.start();
  auto helper = q.get(60s);
  int pidfd = helper ? mp::testing::pidfd_open(*helper) : -1;
  p.kill();
  p.join();
  bool gone = pidfd >= 0 && mp::testing::wait_readable(pidfd, 30000);
  report.put(ok);
  report.put(gone ? 1 : 0);
  report.put(helper.value_or(0));
}

TEST(ContainmentFallback, ProcessGroupAndSubreaperEndASetsidHelper) {
  mp::Queue<int> report;
  mp::Process child({.start_method = mp::StartMethod::fork}, fallback_kill, report);
  child.start();
  auto mechanism_ok = report.get(120s);
  auto gone = report.get(120s);
  auto helper = report.get(120s);
  child.join();
  // Killed, it was orphaned to this test process: reap it.
  if (helper && *helper > 0) {
    int pidfd = mp::testing::pidfd_open(*helper);
    if (pidfd >= 0) {
      EXPECT_TRUE(ends(pidfd));
    }
  }
  EXPECT_EQ(child.exitcode(), 0);
  EXPECT_EQ(mechanism_ok, 1) << "MULTIPROC_CONTAINMENT=process_group was not honoured";
  EXPECT_EQ(gone, 1);
}

}  // namespace
