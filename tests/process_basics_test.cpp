// Process: running a callable, exit codes, exceptions, names, misuse.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>

#include "helpers/test_pipe.hpp"
#include "multiproc/multiproc.hpp"

namespace mp = multiproc;
using mp::testing::TestPipe;
using namespace std::chrono_literals;

namespace {

void greet(const TestPipe& out, const std::string& who, int times) {
  for (int i = 0; i < times; ++i) out.write("hello " + who + "\n");
}

[[noreturn]] void segfault() {
  // A real invalid access (not a null dereference, which UBSan would report).
  void* page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  *static_cast<volatile int*>(page) = 1;
  std::abort();
}

struct CustomError {};

}  // namespace

TEST(ProcessBasics, RunsCallableWithArgumentsInAnotherProcess) {
  TestPipe pipe;
  mp::Process p(greet, std::ref(pipe), std::string("bob"), 2);
  p.start();
  ASSERT_TRUE(p.pid().has_value());
  EXPECT_NE(*p.pid(), getpid());
  p.join();
  EXPECT_EQ(pipe.read_all(), "hello bob\nhello bob\n");
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_FALSE(p.exception().has_value());
}

TEST(ProcessBasics, ChildWorksOnACopyOfTheParentMemory) {
  int value = 1;
  mp::Process p([&value] {
    value = 2;
    return value == 2 ? 0 : 1;
  });
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(value, 1);
}

TEST(ProcessBasics, EveryExitCodeFrom0To255IsReportedExactly) {
  for (int code = 0; code <= 255; ++code) {
    mp::Process p([](int c) { return c; }, code);
    p.start();
    p.join();
    ASSERT_EQ(p.exitcode(), code);
    ASSERT_TRUE(p.exit_status()->exited());
  }
}

TEST(ProcessBasics, ExitCallInsideTheChildIsItsExitCode) {
  mp::Process p([] { std::exit(3); });
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 3);
}

TEST(ProcessBasics, DeathBySignalIsMinusTheSignalNumber) {
  struct Case {
    std::function<void()> body;
    int signo;
  };
  Case cases[] = {{segfault, SIGSEGV},
                  {[] { std::abort(); }, SIGABRT},
                  {[] { raise(SIGKILL); }, SIGKILL},
                  {[] { raise(SIGTERM); }, SIGTERM}};
  for (auto& c : cases) {
    mp::Process p(c.body);
    p.start();
    p.join();
    EXPECT_EQ(p.exitcode(), -c.signo) << mp::signal_name(c.signo);
    EXPECT_TRUE(p.exit_status()->killed());
  }
}

TEST(ProcessBasics, UncaughtExceptionReachesTheParent) {
  mp::Process p([] { throw std::runtime_error("disk full"); });
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 1);
  ASSERT_TRUE(p.exception().has_value());
  EXPECT_EQ(p.exception()->type, "std::runtime_error");
  EXPECT_EQ(p.exception()->message, "disk full");
  EXPECT_EQ(p.exception()->pid, *p.pid());
  EXPECT_EQ(p.exception()->describe(),
            "std::runtime_error in pid " + std::to_string(*p.pid()) + ": disk full");
}

TEST(ProcessBasics, NonStandardExceptionIsReportedByItsType) {
  mp::Process p([] { throw CustomError{}; });
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 1);
  ASSERT_TRUE(p.exception().has_value());
  EXPECT_NE(p.exception()->type.find("CustomError"), std::string::npos) << p.exception()->type;
  EXPECT_EQ(p.exception()->message, "");
}

TEST(ProcessBasics, VeryLongExceptionMessageIsTruncatedNotLost) {
  mp::Process p([] { throw std::length_error(std::string(100000, 'x')); });
  p.start();
  p.join();
  ASSERT_TRUE(p.exception().has_value());
  EXPECT_EQ(p.exception()->type, "std::length_error");
  EXPECT_GT(p.exception()->message.size(), 1000u);
  EXPECT_LT(p.exception()->message.size(), 4096u);
}

TEST(ProcessBasics, MisuseIsAClearError) {
  mp::Process p([] {});
  EXPECT_THROW(p.join(), mp::UsageError);
  EXPECT_THROW(p.terminate(), mp::UsageError);
  EXPECT_THROW(p.sentinel(), mp::UsageError);
  EXPECT_FALSE(p.is_alive());
  EXPECT_EQ(p.exitcode(), std::nullopt);
  EXPECT_EQ(p.pid(), std::nullopt);
  p.start();
  try {
    p.start();
    ADD_FAILURE() << "second start() did not throw";
  } catch (const mp::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("already started"), std::string::npos) << e.what();
  }
  EXPECT_THROW(p.set_daemon(true), mp::UsageError);
  p.join();
  p.join();  // joining again is harmless, as in Python
  EXPECT_EQ(p.exitcode(), 0);
  p.close();
  EXPECT_THROW(p.exitcode(), mp::UsageError);  // Python: ValueError, process object is closed
  EXPECT_THROW(p.start(), mp::UsageError);
  EXPECT_THROW(p.sentinel(), mp::UsageError);
}

TEST(ProcessBasics, CloseOfARunningProcessIsRefused) {
  TestPipe gate;
  mp::Process p(
      mp::ProcessOptions{.pass_fds = {gate.read_fd()}},
      [](int fd) {
        char c;
        return static_cast<int>(read(fd, &c, 1));
      },
      gate.read_fd());
  p.start();
  EXPECT_THROW(p.close(), mp::UsageError);
  gate.close_write();  // the child's read sees end-of-file and it exits
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST(ProcessBasics, NamesFollowPythonsScheme) {
  mp::Process a([] {});
  mp::Process b(mp::ProcessOptions{.name = "worker"}, [] {});
  EXPECT_EQ(a.name().rfind("Process-", 0), 0u) << a.name();
  EXPECT_EQ(b.name(), "worker");
  EXPECT_EQ(mp::current_process().name, "MainProcess");
  EXPECT_EQ(mp::current_process().pid, getpid());
  EXPECT_FALSE(mp::parent_process().has_value());
}

TEST(ProcessBasics, ChildKnowsItsNameAndParent) {
  TestPipe pipe;
  mp::Process p(
      mp::ProcessOptions{.name = "worker", .daemon = true},
      [](const TestPipe& out) {
        auto self = mp::current_process();
        auto parent = mp::parent_process();
        out.write(self.name + "|" + (self.daemon ? "daemon" : "-") + "|" +
                  (parent ? parent->name + "|" + std::to_string(parent->pid) + "|" +
                                (parent->is_alive() ? "alive" : "dead")
                          : "none"));
      },
      std::ref(pipe));
  p.start();
  p.join();
  EXPECT_EQ(pipe.read_all(), "worker|daemon|MainProcess|" + std::to_string(getpid()) + "|alive");
}

TEST(ProcessBasics, GrandchildrenAreNumberedBelowTheirParent) {
  TestPipe pipe;
  mp::Process p(
      [](const TestPipe& out) {
        std::string own = mp::current_process().name;
        mp::Process inner([] {});
        out.write(own + " " + inner.name());
        inner.start();
        inner.join();
      },
      std::ref(pipe));
  p.start();
  p.join();
  std::string seen = pipe.read_all();
  std::string own = seen.substr(0, seen.find(' '));
  EXPECT_EQ(seen, own + " " + own + ":1");
}

TEST(ProcessBasics, MovedHandleKeepsControlOfTheChild) {
  mp::Process a([] { pause(); });
  a.start();
  mp::Process b = std::move(a);
  b.kill();
  b.join();
  EXPECT_EQ(b.exitcode(), -SIGKILL);
}
