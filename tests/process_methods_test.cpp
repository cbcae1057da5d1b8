// The Process behaviours every start method must share (fork, spawn,
// forkserver). Targets are functions or capture-less lambdas and arguments
// are values or shared objects, so that all three methods can send them.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "helpers/leak_check.hpp"
#include "helpers/pidfd.hpp"
#include "helpers/start_methods.hpp"
#include "multiproc/context.hpp"
#include "multiproc/current_process.hpp"
#include "multiproc/error.hpp"

namespace mp = multiproc;
using namespace std::chrono_literals;

namespace {

class ProcessAcrossMethods : public ::testing::TestWithParam<mp::StartMethod> {
 protected:
  mp::Context ctx() const { return mp::get_context(GetParam()); }
};

int return_code(int code) {
  return code;
}

void throw_runtime_error(std::string message) {
  throw std::runtime_error(message);
}

struct Point {
  int x;
  double y;
};

void sum_arguments(mp::Connection out, std::string s, std::vector<int> v, Point p) {
  long total = static_cast<long>(s.size()) + p.x + static_cast<long>(p.y);
  for (int i : v) total += i;
  out.send(total);
}

void wait_forever(mp::Event never) {
  never.wait();
}

void report_identity(mp::Connection out) {
  out.send(mp::current_process().name);
  out.send(static_cast<int>(::getpid()));
  auto parent = mp::parent_process();
  out.send(parent ? static_cast<int>(parent->pid) : -1);
}

void crash_with_abort() {
  std::abort();
}

// Runs in a forked middle process: starts a grandchild with `method`, reports
// its PID, then waits to be killed.
void start_grandchild(mp::StartMethod method, mp::Connection out, mp::Event never) {
  mp::Process child = mp::get_context(method).Process(wait_forever, never);
  child.start();
  out.send(static_cast<int>(*child.pid()));
  never.wait();
}

// Reaps the orphans a killed middle process left to this subreaper (its
// forkserver zygote, say): they die with it.
void reap_orphans() {
  for (const auto& c : multiproc::testing::children_of(::getpid())) ::waitpid(c.pid, nullptr, 0);
}

}  // namespace

TEST_P(ProcessAcrossMethods, ReturnedIntIsTheExitCode) {
  mp::Process p = ctx().Process(return_code, 7);
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 7);
  EXPECT_FALSE(p.exception().has_value());
}

TEST_P(ProcessAcrossMethods, CapturelessLambdaRuns) {
  mp::Process p = ctx().Process([](int a, int b) { return a * b; }, 6, 7);
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 42);
}

TEST_P(ProcessAcrossMethods, UncaughtExceptionReachesTheParent) {
  mp::Process p = ctx().Process(throw_runtime_error, std::string("disk full"));
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 1);
  ASSERT_TRUE(p.exception().has_value());
  EXPECT_EQ(p.exception()->type, "std::runtime_error");
  EXPECT_EQ(p.exception()->message, "disk full");
  EXPECT_EQ(p.exception()->pid, p.pid());
  // Asking again gives the same answer.
  EXPECT_TRUE(p.exception().has_value());
  EXPECT_TRUE(p.is_alive() == false && p.exception().has_value());
}

TEST_P(ProcessAcrossMethods, ArgumentsArriveIntact) {
  auto [in, out] = mp::Pipe(false);
  mp::Process p = ctx().Process(sum_arguments, std::move(out), std::string("abcd"),
                                std::vector<int>{1, 2, 3}, Point{10, 2.5});
  p.start();
  EXPECT_EQ(in.recv<long>(), 4 + 6 + 10 + 2);
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST_P(ProcessAcrossMethods, TerminateAndKillEndTheChild) {
  mp::Event never;
  mp::Process a = ctx().Process(wait_forever, never);
  mp::Process b = ctx().Process(wait_forever, never);
  a.start();
  b.start();
  a.terminate();
  b.kill();
  a.join();
  b.join();
  EXPECT_EQ(a.exitcode(), -SIGTERM);
  EXPECT_EQ(b.exitcode(), -SIGKILL);
}

TEST_P(ProcessAcrossMethods, AbortIsReportedAsSignal) {
  mp::Process p = ctx().Process(crash_with_abort);
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), -SIGABRT);
}

TEST_P(ProcessAcrossMethods, ChildKnowsItsNameAndParent) {
  auto [in, out] = mp::Pipe(false);
  mp::Process p =
      ctx().Process(mp::ProcessOptions{.name = "worker-7"}, report_identity, std::move(out));
  p.start();
  EXPECT_EQ(in.recv<std::string>(), "worker-7");
  EXPECT_EQ(in.recv<int>(), *p.pid());
  EXPECT_EQ(in.recv<int>(), ::getpid());
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST_P(ProcessAcrossMethods, ManyChildrenAtOnce) {
  std::vector<mp::Process> ps;
  for (int i = 0; i < 16; ++i) ps.push_back(ctx().Process(return_code, i));
  for (auto& p : ps) p.start();
  for (int i = 0; i < 16; ++i) {
    ps[static_cast<std::size_t>(i)].join();
    EXPECT_EQ(ps[static_cast<std::size_t>(i)].exitcode(), i);
  }
}

TEST_P(ProcessAcrossMethods, SentinelIsReadableOnceTheChildEnded) {
  mp::Process p = ctx().Process(return_code, 3);
  p.start();
  ASSERT_TRUE(multiproc::testing::wait_readable(p.sentinel()));
  EXPECT_FALSE(p.is_alive());
  EXPECT_EQ(p.exitcode(), 3);
}

TEST_P(ProcessAcrossMethods, StartsFromAThreadedProcessUnlessFork) {
  mp::Event stop;
  std::thread other([&stop] { stop.wait(); });
  mp::Process p = ctx().Process(return_code, 5);
  if (GetParam() == mp::StartMethod::fork) {
    EXPECT_THROW(p.start(), mp::ForkUnsafeError);
  } else {
    p.start();
    p.join();
    EXPECT_EQ(p.exitcode(), 5);
  }
  stop.set();
  other.join();
}

TEST_P(ProcessAcrossMethods, StartsFromAnotherThread) {
  mp::Process p = ctx().Process(return_code, 9);
  std::thread starter([&] {
    try {
      p.start();
    } catch (const mp::ForkUnsafeError&) {
      // fork refuses: this process has two threads now
    }
  });
  starter.join();
  if (GetParam() == mp::StartMethod::fork) {
    EXPECT_FALSE(p.pid().has_value());
  } else {
    p.join();
    EXPECT_EQ(p.exitcode(), 9);
  }
}

TEST_P(ProcessAcrossMethods, CapturingLambdaIsRefusedUnlessFork) {
  int captured = 4;
  mp::Process p = ctx().Process([captured] { return captured; });
  if (GetParam() == mp::StartMethod::fork) {
    p.start();
    p.join();
    EXPECT_EQ(p.exitcode(), 4);
  } else {
    try {
      p.start();
      FAIL() << "a capturing lambda was started with " << mp::to_string(GetParam());
    } catch (const mp::UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("capture-less lambda"), std::string::npos) << e.what();
    }
  }
}

TEST_P(ProcessAcrossMethods, ChildDiesWithItsParent) {
  auto [in, out] = mp::Pipe(false);
  mp::Event never;
  mp::Process middle(start_grandchild, GetParam(), std::move(out), never);
  middle.start();
  int pidfd = multiproc::testing::pidfd_open(in.recv<int>());
  ASSERT_GE(pidfd, 0);
  middle.kill();
  middle.join();
  // RELIABILITY 15: the grandchild is gone within a second (generous here).
  EXPECT_EQ(multiproc::testing::wait_orphan(pidfd, 10'000), -SIGKILL);
  ::close(pidfd);
  reap_orphans();
}

TEST_P(ProcessAcrossMethods, IgnoreSigintHoldsFromTheFirstInstruction) {
  mp::Event go;
  mp::Process p = ctx().Process(mp::ProcessOptions{.ignore_sigint = true}, wait_forever, go);
  p.start();
  ASSERT_EQ(::kill(*p.pid(), SIGINT), 0);  // at once: maybe before the child's own code runs
  go.set();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

INSTANTIATE_TEST_SUITE_P(Methods, ProcessAcrossMethods, multiproc::testing::kAllStartMethods,
                         multiproc::testing::start_method_name);
