// Ported from CPython's Lib/test/_test_multiprocessing.py, class _TestProcess
// (line numbers: CPython 3.11.2, Debian's libpython3.11-testsuite; tests
// added to CPython later are named with their version). Only what is
// language-independent: the Python object model (weakrefs, subclassing,
// authkey) has no C++ counterpart (docs/python-compatibility.md).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>

#include "helpers/leak_check.hpp"
#include "helpers/start_methods.hpp"
#include "multiproc/context.hpp"
#include "multiproc/current_process.hpp"
#include "multiproc/error.hpp"

namespace mp = multiproc;
using namespace std::chrono_literals;

namespace {

class TestProcess : public ::testing::TestWithParam<mp::StartMethod> {
 protected:
  mp::Context ctx() const { return mp::get_context(GetParam()); }
};

void wait_for_release(mp::Event go) {
  go.wait();
}

// _TestProcess.test_close, line 589: every method of a closed Process but
// close() itself raises (Python: ValueError; here UsageError).
TEST_P(TestProcess, test_close) {
  mp::Event go;
  mp::Process p = ctx().Process(mp::ProcessOptions{.daemon = true}, wait_for_release, go);
  p.start();
  EXPECT_TRUE(p.is_alive());
  EXPECT_THROW(p.close(), mp::UsageError);  // still alive: cannot close
  go.set();
  p.join();
  EXPECT_FALSE(p.is_alive());
  EXPECT_EQ(p.exitcode(), 0);
  p.close();
  EXPECT_THROW(p.is_alive(), mp::UsageError);
  EXPECT_THROW(p.join(), mp::UsageError);
  EXPECT_THROW(p.join(1s), mp::UsageError);
  EXPECT_THROW(p.terminate(), mp::UsageError);
  EXPECT_THROW(p.kill(), mp::UsageError);
  EXPECT_THROW(p.interrupt(), mp::UsageError);
  EXPECT_THROW(p.exitcode(), mp::UsageError);
  EXPECT_THROW(p.exit_status(), mp::UsageError);
  EXPECT_THROW(p.pid(), mp::UsageError);
  EXPECT_THROW(p.sentinel(), mp::UsageError);
  EXPECT_THROW(p.start(), mp::UsageError);
  try {
    p.is_alive();
  } catch (const mp::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("is closed"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(p.closed());
  p.close();                       // a second close is harmless, as in Python
  EXPECT_FALSE(p.name().empty());  // name and daemon stay readable
  EXPECT_TRUE(p.daemon());
}

void report_current(mp::Connection out) {
  mp::CurrentProcess self = mp::current_process();
  out.send(self.is_alive());
  out.send(self.exitcode().has_value());
  out.send(self.name);
}

// _TestProcess.test_current, line 247: current_process() is alive and has no
// exit code, in the main process and in a child.
TEST_P(TestProcess, test_current) {
  mp::CurrentProcess self = mp::current_process();
  EXPECT_TRUE(self.is_alive());
  EXPECT_FALSE(self.exitcode().has_value());
  EXPECT_EQ(self.name, "MainProcess");
  auto [r, w] = mp::Pipe(false);
  mp::Process p = ctx().Process(report_current, std::move(w));
  p.start();
  EXPECT_TRUE(r.recv<bool>());
  EXPECT_FALSE(r.recv<bool>());
  EXPECT_EQ(r.recv<std::string>(), p.name());
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

void report_parent_status(mp::Connection out) {
  out.send(static_cast<int>(::getpid()));
  out.send(std::string(mp::parent_process()->is_alive() ? "alive" : "not alive"));
  bool ended = mp::parent_process()->join(60s);
  out.send(std::string(ended && !mp::parent_process()->is_alive() ? "not alive" : "alive"));
}

void create_grandchild(mp::Connection out, mp::Event never) {
  // The default start method here is the one that started this process.
  mp::Process p(mp::ProcessOptions{.die_with_parent = false}, report_parent_status, std::move(out));
  p.start();
  never.wait();
}

// _TestProcess.test_parent_process, line 342: a grandchild sees its parent
// alive, then (parent_process().join(timeout)) sees it die.
TEST_P(TestProcess, test_parent_process) {
  auto [r, w] = mp::Pipe(false);
  mp::Event never;
  mp::Process p = ctx().Process(create_grandchild, std::move(w), never);
  p.start();
  ASSERT_TRUE(r.poll(60s));
  const auto grandchild = static_cast<pid_t>(r.recv<int>());
  EXPECT_EQ(r.recv<std::string>(), "alive");
  p.terminate();
  p.join();
  ASSERT_TRUE(r.poll(60s));
  EXPECT_EQ(r.recv<std::string>(), "not alive");
  // The orphaned grandchild (and a forkserver child's own zygote) come back
  // to this process, the test main's subreaper: reap them.
  ::waitpid(grandchild, nullptr, 0);
  for (const auto& c : mp::testing::children_of(::getpid())) ::waitpid(c.pid, nullptr, 0);
}

// _TestProcess.test_parent_process_attributes, line 322: no parent in the
// main process.
TEST(TestProcessMain, test_parent_process_attributes) {
  EXPECT_FALSE(mp::parent_process().has_value());
}

// _TestProcess.test_cpu_count, line 511.
TEST(TestProcessMain, test_cpu_count) {
  EXPECT_GE(mp::cpu_count(), 1U);
  EXPECT_GE(mp::process_cpu_count(), 1U);
  EXPECT_LE(mp::process_cpu_count(), mp::cpu_count());
}

void wait_for_sigint(mp::Event never) {
  never.wait();
}

// _TestProcess.test_interrupt (CPython 3.14): interrupt() sends SIGINT; a
// child that does not handle it dies of it.
TEST_P(TestProcess, test_interrupt) {
  mp::Event never;
  mp::Process p = ctx().Process(wait_for_sigint, never);
  p.start();
  p.interrupt();
  ASSERT_TRUE(p.join(60s));
  EXPECT_EQ(p.exitcode(), -SIGINT);
}

// _TestProcess.test_terminate / test_kill, lines 501 and 506 (the exit codes).
TEST_P(TestProcess, test_terminate_and_kill) {
  mp::Event never;
  mp::Process a = ctx().Process(wait_for_sigint, never);
  mp::Process b = ctx().Process(wait_for_sigint, never);
  a.start();
  b.start();
  a.terminate();
  b.kill();
  a.join();
  b.join();
  EXPECT_EQ(a.exitcode(), -SIGTERM);
  EXPECT_EQ(b.exitcode(), -SIGKILL);
}

INSTANTIATE_TEST_SUITE_P(Methods, TestProcess, mp::testing::kAllStartMethods,
                         mp::testing::start_method_name);

}  // namespace
