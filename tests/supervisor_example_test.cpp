// Drives examples/supervisor (the seed program) through its scenarios:
// (a) the watched file appears: exit 0, the watcher asked;
// (b) SIGTERM to the program: exit 0;
// (c) SIGKILL of the logger subtask: exit 1, or with --restart a new logger
//     and then the file stops everything (exit 0);
// (d) SIGKILL of the program: no subtask is left.
// Every wait is on the example's output lines or on a pidfd, never a sleep.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "helpers/pidfd.hpp"
#include "helpers/supervisor_helpers.hpp"

namespace mpt = multiproc::testing;
using namespace std::chrono_literals;

namespace {

// The example, started with its stdout and stderr on a pipe.
class ExampleRun {
 public:
  explicit ExampleRun(std::vector<std::string> args) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    std::vector<std::string> all{MP_SUPERVISOR_EXAMPLE};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);  // a job of its own, as a shell starts it: Ctrl-C reaches the group
      ::dup2(fds[1], 1);
      ::dup2(fds[1], 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
    pidfd_ = mpt::pidfd_open(pid_);
  }
  ~ExampleRun() {
    if (pidfd_ >= 0) {
      mpt::pidfd_kill(pidfd_);
      wait_exit();
    }
    ::close(out_);
  }
  ExampleRun(const ExampleRun&) = delete;
  ExampleRun& operator=(const ExampleRun&) = delete;

  pid_t pid() const { return pid_; }

  // Reads lines until one contains `needle`; returns it (nullopt at end of
  // output or after a generous timeout).
  std::optional<std::string> line_with(const std::string& needle) {
    auto deadline = std::chrono::steady_clock::now() + 60s;
    for (;;) {
      auto nl = pending_.find('\n');
      while (nl != std::string::npos) {
        std::string line = pending_.substr(0, nl);
        pending_.erase(0, nl + 1);
        if (line.find(needle) != std::string::npos) return line;
        nl = pending_.find('\n');
      }
      if (!read_more(deadline)) return std::nullopt;
    }
  }

  // Reads lines until both subtasks said they started (in either order);
  // returns {logger's PID, watcher's PID}, 0 for one that did not.
  std::pair<pid_t, pid_t> started() {
    pid_t logger = 0;
    pid_t watcher = 0;
    while (logger == 0 || watcher == 0) {
      auto line = line_with(": started, pid");
      if (!line) break;
      (line->rfind("logger:", 0) == 0 ? logger : watcher) = pid_in(line);
    }
    return {logger, watcher};
  }

  // The PID in a line "...pid N...".
  static pid_t pid_in(const std::optional<std::string>& line) {
    if (!line) return 0;
    auto at = line->find("pid ");
    return at == std::string::npos ? 0 : std::stoi(line->substr(at + 4));
  }

  // Waits for the example to exit; its exit code (-N for signal N).
  int wait_exit() {
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (read_more(deadline)) {
    }
    int code = mpt::wait_orphan(pidfd_, 60000);
    ::close(pidfd_);
    pidfd_ = -1;
    return code;
  }
  // Everything read so far.
  const std::string& output() const { return all_; }

 private:
  bool read_more(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !mpt::wait_readable(out_, static_cast<int>(left.count())))
      return false;
    char buf[4096];
    ssize_t n = ::read(out_, buf, sizeof buf);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<std::size_t>(n));
    all_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = 0;
  int pidfd_ = -1;
  int out_ = -1;
  std::string pending_;
  std::string all_;
};

void touch(const std::string& path) {
  std::ofstream(path) << "done\n";
}

}  // namespace

TEST(SupervisorExample, FileAppearsAndTheWatcherStopsEveryone) {
  mpt::TempDir dir;
  ExampleRun run({dir.file("flag")});
  auto [logger, watcher] = run.started();
  ASSERT_GT(logger, 0);
  ASSERT_GT(watcher, 0);
  touch(dir.file("flag"));
  EXPECT_EQ(run.wait_exit(), 0) << run.output();
  EXPECT_NE(run.output().find("group stop requested by watcher"), std::string::npos)
      << run.output();
}

TEST(SupervisorExample, SigtermToTheProgramStopsGracefully) {
  mpt::TempDir dir;
  ExampleRun run({dir.file("flag")});
  auto [logger, watcher] = run.started();
  ASSERT_GT(logger, 0);
  ASSERT_GT(watcher, 0);
  ASSERT_EQ(::kill(run.pid(), SIGTERM), 0);
  EXPECT_EQ(run.wait_exit(), 0) << run.output();
  EXPECT_NE(run.output().find("supervisor: stop requested (ok)"), std::string::npos)
      << run.output();
}

// Ctrl-C reaches the whole process group: the subtasks ignore it, the
// supervisor stops them in order.
TEST(SupervisorExample, CtrlCToTheWholeGroupStopsGracefully) {
  mpt::TempDir dir;
  ExampleRun run({dir.file("flag")});
  auto [logger, watcher] = run.started();
  ASSERT_GT(logger, 0);
  ASSERT_GT(watcher, 0);
  ASSERT_EQ(::kill(-run.pid(), SIGINT), 0);
  EXPECT_EQ(run.wait_exit(), 0) << run.output();
  EXPECT_NE(run.output().find("supervisor: stop requested (ok)"), std::string::npos)
      << run.output();
  EXPECT_NE(run.output().find("SIGINT: stopping"), std::string::npos) << run.output();
}

TEST(SupervisorExample, KilledSubtaskBringsEverythingDown) {
  mpt::TempDir dir;
  ExampleRun run({dir.file("flag")});
  auto [logger, watcher] = run.started();
  ASSERT_GT(logger, 0);
  ASSERT_GT(watcher, 0);
  int fd = mpt::pidfd_open(logger);
  ASSERT_GE(fd, 0);
  mpt::pidfd_kill(fd);
  ::close(fd);
  EXPECT_EQ(run.wait_exit(), 1) << run.output();
  EXPECT_NE(run.output().find("significant child exited: logger"), std::string::npos)
      << run.output();
}

TEST(SupervisorExample, WithRestartAKilledSubtaskIsRestarted) {
  mpt::TempDir dir;
  ExampleRun run({dir.file("flag"), "--restart"});
  auto [logger, watcher] = run.started();
  ASSERT_GT(logger, 0);
  ASSERT_GT(watcher, 0);
  int fd = mpt::pidfd_open(logger);
  ASSERT_GE(fd, 0);
  mpt::pidfd_kill(fd);
  ::close(fd);
  pid_t again = ExampleRun::pid_in(run.line_with("logger: started"));
  EXPECT_GT(again, 0);
  EXPECT_NE(again, logger);
  touch(dir.file("flag"));
  EXPECT_EQ(run.wait_exit(), 0) << run.output();
  EXPECT_NE(run.output().find("group stop requested by watcher"), std::string::npos)
      << run.output();
}

TEST(SupervisorExample, SigkilledProgramLeavesNoSubtask) {
  mpt::TempDir dir;
  ExampleRun run({dir.file("flag")});
  auto [logger, watcher] = run.started();
  ASSERT_GT(logger, 0);
  ASSERT_GT(watcher, 0);
  int logger_fd = mpt::pidfd_open(logger);
  int watcher_fd = mpt::pidfd_open(watcher);
  ASSERT_GE(logger_fd, 0);
  ASSERT_GE(watcher_fd, 0);
  ASSERT_EQ(::kill(run.pid(), SIGKILL), 0);
  EXPECT_EQ(run.wait_exit(), -SIGKILL);
  // Orphaned to this test process (a subreaper): both must die at once.
  EXPECT_EQ(mpt::wait_orphan(logger_fd, 5000), -SIGKILL);
  EXPECT_EQ(mpt::wait_orphan(watcher_fd, 5000), -SIGKILL);
  ::close(logger_fd);
  ::close(watcher_fd);
}
