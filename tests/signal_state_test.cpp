// The signal state a child starts with, under every start method
// (RELIABILITY 19, docs/start-methods.md): an empty mask and every
// disposition 1..64 at its default, whatever the parent blocked, ignored or
// handled, glibc's internal signals 32 and 33 included — for Process
// children, supervised function children and commands. Pool workers and
// supervised function children differ on purpose, and only as documented
// (docs/signals.md): SIGINT and SIGHUP ignored, SIGTERM handled (the parent
// decides).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "helpers/start_methods.hpp"
#include "helpers/supervisor_helpers.hpp"
#include "multiproc/multiproc.hpp"

namespace mp = multiproc;
using mp::testing::Background;
using mp::testing::LineFifo;
using mp::testing::TempDir;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t bit(int signo) {
  return std::uint64_t{1} << (signo - 1);
}
// glibc's own handlers for its internal signals may be installed in any
// process; an *ignored* 32 or 33 never may.
constexpr std::uint64_t kGlibcInternal = bit(32) | bit(33);

// "SigBlk", "SigIgn", "SigCgt" of /proc/self/status, as "blk ign cgt" in hex.
std::string signal_state() {
  std::ifstream f("/proc/self/status");
  std::string line, out;
  for (const char* field : {"SigBlk:", "SigIgn:", "SigCgt:"}) {
    f.clear();
    f.seekg(0);
    while (std::getline(f, line)) {
      if (line.rfind(field, 0) == 0) out += line.substr(std::string(field).size() + 1) + " ";
    }
  }
  return out;
}

struct State {
  std::uint64_t blocked = 0, ignored = 0, caught = 0;
};

State parse(const std::string& text) {
  std::istringstream in(text);
  State s;
  in >> std::hex >> s.blocked >> s.ignored >> s.caught;
  return s;
}

void report_state(mp::Connection out) {
  out.send(signal_state());
}

// Reports, then asks the supervisor to stop: run() returns on the test's
// own thread, which must stay the only one for the fork start method.
void report_state_then_stop(std::string fifo, mp::GroupStop group) {
  mp::testing::say(fifo, signal_state());
  group.request("reported");
  ::pause();
}

// The parent's signal state made as hostile as it gets: signals blocked,
// ignored (32 and 33 too, as glibc's posix_spawn leaves them in a program it
// started) and handled. Put back by the destructor.
struct HostileParent {
  struct KernelSigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)();
    std::uint64_t mask;
  };
  sigset_t old_mask{};
  struct sigaction old_usr1 {
  }, old_usr2{};
  KernelSigaction old32{}, old33{};

  static void on_usr1(int) {}

  HostileParent() {
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &block, &old_mask);
    struct sigaction ignore {
    }, handle{};
    ignore.sa_handler = SIG_IGN;
    handle.sa_handler = on_usr1;
    sigaction(SIGUSR2, &ignore, &old_usr2);
    sigaction(SIGUSR1, &handle, &old_usr1);
    KernelSigaction ign{};
    ign.handler = SIG_IGN;
    syscall(SYS_rt_sigaction, 32, &ign, &old32, sizeof ign.mask);
    syscall(SYS_rt_sigaction, 33, &ign, &old33, sizeof ign.mask);
  }
  ~HostileParent() {
    syscall(SYS_rt_sigaction, 32, &old32, nullptr, sizeof old32.mask);
    syscall(SYS_rt_sigaction, 33, &old33, nullptr, sizeof old33.mask);
    sigaction(SIGUSR1, &old_usr1, nullptr);
    sigaction(SIGUSR2, &old_usr2, nullptr);
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  }
  HostileParent(const HostileParent&) = delete;
  HostileParent& operator=(const HostileParent&) = delete;
};

void expect_clean(const State& s) {
  EXPECT_EQ(s.blocked, 0u);
  EXPECT_EQ(s.ignored, 0u) << std::hex << s.ignored;
  EXPECT_EQ(s.caught & ~kGlibcInternal, 0u) << std::hex << s.caught;
}

// Pool workers and supervised function children: the parent decides.
void expect_parent_decides(const State& s) {
  EXPECT_EQ(s.blocked, 0u);
  EXPECT_EQ(s.ignored, bit(SIGINT) | bit(SIGHUP)) << std::hex << s.ignored;
  EXPECT_EQ(s.caught & ~kGlibcInternal, bit(SIGTERM)) << std::hex << s.caught;
}

class SignalState : public ::testing::TestWithParam<mp::StartMethod> {};

}  // namespace

TEST_P(SignalState, ProcessChildStartsClean) {
  HostileParent hostile;
  auto [in, out] = mp::Pipe(false);
  mp::Process p = mp::get_context(GetParam()).Process(report_state, std::move(out));
  p.start();
  std::string state = in.recv<std::string>(60s).value_or("");
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  expect_clean(parse(state));
}

TEST_P(SignalState, PoolWorkerLeavesGroupSignalsToTheParent) {
  HostileParent hostile;
  mp::Pool pool({.processes = 1, .start_method = GetParam()});
  expect_parent_decides(parse(pool.apply(signal_state)));
}

TEST_P(SignalState, SupervisedFunctionChildLeavesGroupSignalsToTheParent) {
  HostileParent hostile;
  TempDir dir;
  LineFifo fifo(dir.file("fifo"));
  mp::Supervisor sup;
  sup.add(mp::ChildSpec::function("probe", {.process = {.start_method = GetParam()}},
                                  report_state_then_stop, fifo.path(), sup.group_stop()));
  EXPECT_EQ(sup.run().reason, mp::StopReason::group_stop_requested);
  auto line = fifo.next(5s);  // already written: the child wrote before its request
  ASSERT_TRUE(line.has_value());
  expect_parent_decides(parse(*line));
}

TEST(SignalState, SupervisedCommandStartsClean) {
  HostileParent hostile;
  TempDir dir;
  LineFifo fifo(dir.file("fifo"));
  mp::Supervisor sup;
  // The shell's own state ($$ is the command itself), before it runs anything.
  std::string script =
      "set -- $(sed -n 's/^Sig\\(Blk\\|Ign\\|Cgt\\):\\t//p' /proc/$$/status); "
      "echo \"$1 $2 $3\" > '" +
      fifo.path() + "'; exec sleep 600";
  sup.add(mp::ChildSpec::command("probe", {.argv = {"/bin/sh", "-c", script}}));
  Background bg(sup);
  auto line = fifo.next();
  ASSERT_TRUE(line.has_value());
  State s = parse(*line);
  EXPECT_EQ(s.blocked, 0u);
  EXPECT_EQ(s.ignored, 0u) << std::hex << s.ignored;
}

INSTANTIATE_TEST_SUITE_P(Methods, SignalState, multiproc::testing::kAllStartMethods,
                         multiproc::testing::start_method_name);
