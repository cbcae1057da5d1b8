// Helpers for the supervisor tests: a temporary directory, a FIFO that
// children (functions or shell commands) write lines to, and a supervisor
// running on a background thread that is always stopped and joined.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "multiproc/supervisor.hpp"

namespace multiproc::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "mp-sup-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A FIFO children write lines to (by path, so it crosses every start method
// and works from a shell: `echo ready > "$FIFO"`). This side keeps a writer
// open so that a child closing its end is never an end of file.
class LineFifo {
 public:
  explicit LineFifo(std::string path) : path_(std::move(path)) {
    if (::mkfifo(path_.c_str(), 0600) != 0) throw std::runtime_error("mkfifo failed");
    read_ = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    write_ = ::open(path_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (read_ < 0 || write_ < 0) throw std::runtime_error("opening the fifo failed");
  }
  ~LineFifo() {
    ::close(read_);
    ::close(write_);
  }
  LineFifo(const LineFifo&) = delete;
  LineFifo& operator=(const LineFifo&) = delete;
  const std::string& path() const { return path_; }

  // The next line, waiting at most `timeout` (generous: the test's own
  // timeout is the real bound); nullopt on timeout.
  std::optional<std::string> next(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{read_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[512];
      ssize_t n = ::read(read_, buf, sizeof buf);
      if (n > 0) buffer_.append(buf, static_cast<std::size_t>(n));
    }
  }

 private:
  std::string path_;
  int read_ = -1;
  int write_ = -1;
  std::string buffer_;
};

// Writes one line to the FIFO at `path` (in a child).
inline void say(const std::string& path, const std::string& line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  std::string l = line + "\n";
  (void)::write(fd, l.data(), l.size());
  ::close(fd);
}

// Whether the process `pid`, a grandchild that the supervisor's stop
// killed, is gone: either its own parent reaped it (no such process), or it
// was orphaned to this test process (a child subreaper), which reaps it now.
inline ::testing::AssertionResult gone_or_reaped(pid_t pid) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    if (errno == ESRCH) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "pidfd_open(" << pid << ") failed: errno " << errno;
  }
  pollfd p{pidfd, POLLIN, 0};
  bool ended = ::poll(&p, 1, 5000) == 1;
  siginfo_t info{};
  if (ended) ::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED);
  ::close(pidfd);
  if (!ended) return ::testing::AssertionFailure() << "pid " << pid << " still runs";
  return ::testing::AssertionSuccess();
}

// Runs sup.run() on a thread; the destructor requests a stop and joins, so
// a failed assertion never leaves children behind.
class Background {
 public:
  explicit Background(Supervisor& sup) : sup_(sup), thread_([this] { report_ = sup_.run(); }) {}
  ~Background() { finish(); }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  // Requests the stop and waits for run() to return.
  SupervisorReport& finish() {
    if (thread_.joinable()) {
      sup_.request_stop();
      thread_.join();
    }
    return report_;
  }
  // Waits for run() to return by itself.
  SupervisorReport& join() {
    if (thread_.joinable()) thread_.join();
    return report_;
  }

 private:
  Supervisor& sup_;
  SupervisorReport report_;
  std::thread thread_;
};

}  // namespace multiproc::testing
