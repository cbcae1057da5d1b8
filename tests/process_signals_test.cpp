// Process: terminate, kill, stop, and the child's signal state.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "helpers/test_pipe.hpp"
#include "multiproc/multiproc.hpp"

namespace mp = multiproc;
using mp::testing::TestPipe;
using namespace std::chrono_literals;

namespace {

// Blocks until the test writes to (or closes) the pipe: a child that is
// guaranteed to be running while the test acts on it.
void wait_for_release(const TestPipe& ready, int gate_fd) {
  ready.write("r");
  char c;
  while (read(gate_fd, &c, 1) < 0 && errno == EINTR) {
  }
}

void ignore_sigterm_then_wait(const TestPipe& ready, int gate_fd) {
  signal(SIGTERM, SIG_IGN);
  wait_for_release(ready, gate_fd);
  pause();
}

// "SigBlk", "SigIgn" or "SigCgt" of /proc/self/status as a 64-bit mask.
unsigned long long signal_mask(const std::string& field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(field + ":", 0) == 0)
      return std::stoull(line.substr(field.size() + 1), nullptr, 16);
  }
  return ~0ull;
}

void on_sigusr1(int) {}

}  // namespace

TEST(ProcessSignals, TerminateEndsASleepingChildWithSigterm) {
  TestPipe ready, gate;
  mp::Process p(
      mp::ProcessOptions{.pass_fds = {gate.read_fd()}},
      [](const TestPipe& r, int g) {
        wait_for_release(r, g);
        pause();
      },
      std::ref(ready), gate.read_fd());
  p.start();
  ASSERT_EQ(ready.read_some(1), "r");
  EXPECT_TRUE(p.is_alive());
  p.terminate();
  p.join();
  EXPECT_EQ(p.exitcode(), -SIGTERM);
  EXPECT_EQ(p.exit_status()->describe(), "killed by signal 15 (SIGTERM)");
}

TEST(ProcessSignals, KillEndsAChildThatIgnoresSigterm) {
  TestPipe ready, gate;
  mp::Process p(mp::ProcessOptions{.pass_fds = {gate.read_fd()}}, ignore_sigterm_then_wait,
                std::ref(ready), gate.read_fd());
  p.start();
  ASSERT_EQ(ready.read_some(1), "r");
  p.terminate();
  gate.close_write();
  EXPECT_FALSE(p.join(50ms));  // SIGTERM is ignored: still running
  p.kill();
  p.join();
  EXPECT_EQ(p.exitcode(), -SIGKILL);
}

TEST(ProcessSignals, StopEscalatesToSigkillAfterTheGracePeriod) {
  TestPipe ready, gate;
  mp::Process p(mp::ProcessOptions{.pass_fds = {gate.read_fd()}}, ignore_sigterm_then_wait,
                std::ref(ready), gate.read_fd());
  p.start();
  ASSERT_EQ(ready.read_some(1), "r");
  gate.close_write();
  p.stop(100ms);
  EXPECT_EQ(p.exitcode(), -SIGKILL);
  EXPECT_FALSE(p.is_alive());
}

TEST(ProcessSignals, StopOfAChildThatHonoursSigtermEndsWithSigterm) {
  mp::Process p([] { pause(); });
  p.start();
  p.stop(10s);
  EXPECT_EQ(p.exitcode(), -SIGTERM);
}

TEST(ProcessSignals, TerminateAndKillAfterTheEndAreNoOps) {
  mp::Process p([] { return 7; });
  p.start();
  p.join();
  p.terminate();
  p.kill();
  p.stop();
  EXPECT_EQ(p.exitcode(), 7);
}

TEST(ProcessSignals, ChildStartsWithEmptyMaskAndDefaultDispositions) {
  // The parent blocks and ignores signals, and handles one: none of it may
  // reach the child (in Python the blocked set is inherited, and terminate()
  // then does nothing).
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigprocmask(SIG_BLOCK, &block, &old);
  auto old_usr2 = signal(SIGUSR2, SIG_IGN);
  auto old_usr1 = signal(SIGUSR1, on_sigusr1);

  TestPipe pipe;
  mp::Process p(
      [](const TestPipe& out) {
        out.write(std::to_string(signal_mask("SigBlk")) + " " +
                  std::to_string(signal_mask("SigIgn")) + " " +
                  std::to_string(signal_mask("SigCgt") & (1ull << (SIGUSR1 - 1))));
      },
      std::ref(pipe));
  p.start();
  p.join();

  sigprocmask(SIG_SETMASK, &old, nullptr);
  signal(SIGUSR2, old_usr2);
  signal(SIGUSR1, old_usr1);
  EXPECT_EQ(pipe.read_all(), "0 0 0");
  EXPECT_EQ(p.exitcode(), 0);
}

TEST(ProcessSignals, GlibcInternalSignalsIgnoredByAnAncestorAreResetToo) {
  // An ancestor may exec us with signals 32 and 33 ignored; glibc's own
  // sigaction refuses to touch them, so the child must reset them another way.
  struct KernelSigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)();
    unsigned long long mask;
  };
  KernelSigaction ignore{}, old32{}, old33{};
  ignore.handler = SIG_IGN;
  ASSERT_EQ(syscall(SYS_rt_sigaction, 32, &ignore, &old32, sizeof ignore.mask), 0);
  ASSERT_EQ(syscall(SYS_rt_sigaction, 33, &ignore, &old33, sizeof ignore.mask), 0);
  ASSERT_EQ(signal_mask("SigIgn") & 0x180000000ull, 0x180000000ull);

  TestPipe pipe;
  mp::Process p([](const TestPipe& out) { out.write(std::to_string(signal_mask("SigIgn"))); },
                std::ref(pipe));
  p.start();
  p.join();
  syscall(SYS_rt_sigaction, 32, &old32, nullptr, sizeof ignore.mask);
  syscall(SYS_rt_sigaction, 33, &old33, nullptr, sizeof ignore.mask);
  EXPECT_EQ(pipe.read_all(), "0");
}

TEST(ProcessSignals, TerminateWorksEvenWhenTheParentBlockedSigterm) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &old);
  mp::Process p([] { pause(); });
  p.start();
  p.terminate();
  p.join();
  sigprocmask(SIG_SETMASK, &old, nullptr);
  EXPECT_EQ(p.exitcode(), -SIGTERM);
}
