#include "process/child_state.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "multiproc/error.hpp"
#include "signals/kill_list.hpp"
#include "start/task_message.hpp"
#include "sys/exit_status.hpp"

namespace multiproc::detail {

ChildState::ChildState(std::string name, bool daemon)
    : name_(std::move(name)), daemon_(daemon), owner_(::getpid()) {}

ChildState::~ChildState() {
  // In a forked child this is a copy of a sibling's state: its descriptor
  // number was closed at fork and may name something else now.
  if (::getpid() != owner_) {
    (void)pidfd_.release();
    (void)channel_.release();
    return;
  }
  kill_list_remove_pidfd(pidfd_.get());
}

void ChildState::attach(pid_t pid, sys::UniqueFd pidfd) noexcept {
  pid_ = pid;
  tree_.attach(pid);
  pidfd_ = std::move(pidfd);
  kill_list_add_pidfd(pidfd_.get());
}

std::optional<ExceptionInfo> ChildState::read_exception() {
  if (channel_read_) return channel_report_;
  if (!channel_) return report_.read(pid_);
  // The child has ended, so what it wrote is all there: read without waiting.
  std::string bytes;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::recv(channel_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || bytes.size() > (std::size_t{1} << 20)) break;
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
  channel_.reset();
  channel_read_ = true;
  channel_report_ =
      parse_exception_report(std::as_bytes(std::span(bytes.data(), bytes.size())), pid_);
  return channel_report_;
}

void ChildState::require_owner(const char* operation) const {
  if (::getpid() != owner_) {
    throw UsageError(std::string(operation) + ": process '" + name_ + "' (pid " +
                     std::to_string(pid_) + ") is not a child of this process (pid " +
                     std::to_string(::getpid()) + ")");
  }
}

bool ChildState::try_reap() {
  return reap(WNOHANG);
}

void ChildState::reap_blocking() {
  reap(0);
}

bool ChildState::reap(int flags) {
  {
    std::lock_guard lock(mu_);
    if (status_) return true;
    require_owner("reaping");
  }
  // Not under mu_: a blocking wait must not hold up signal() from another
  // thread. A signal sent through the pidfd after this reaps gets ESRCH; it
  // can never reach a process that reused the PID.
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  bool contained = false;
  {
    std::lock_guard lock(mu_);
    contained = tree_.mechanism() != Containment::none;
  }
  int r = 0;
  if (contained) {
    // Ended, not yet reaped: its tree goes first, while its PID (and so its
    // process group's) cannot name another process.
    r = sys::waitid_pidfd(pidfd_.get(), &info, WEXITED | WNOWAIT | flags);
    if (r == 0 && info.si_pid != 0) {
      std::lock_guard lock(mu_);
      oom_killed_ = tree_.oom_killed();
      tree_.end();
    }
  }
  if (r == 0 && (!contained || info.si_pid != 0)) {
    std::memset(&info, 0, sizeof info);
    r = sys::waitid_pidfd(pidfd_.get(), &info, WEXITED | flags);
  }
  std::lock_guard lock(mu_);
  if (status_) return true;  // another thread reaped it first
  if (r < 0) {
    std::string op = "waitid (pid " + std::to_string(pid_) + ")";
    if (r == -ECHILD) op += " — was SIGCHLD ignored, or the child reaped by a waitpid(-1)?";
    throw SystemError(op, -r);
  }
  if (info.si_pid == 0) return false;  // WNOHANG, still running
  status_ = sys::exit_status_from(info);
  status_->oom_killed = oom_killed_ && status_->killed() && status_->value == SIGKILL;
  return true;
}

bool ChildState::wait(const sys::Deadline& deadline) {
  if (deadline.is_never()) {
    reap_blocking();
    return true;
  }
  for (;;) {
    if (try_reap()) return true;
    timespec ts;
    int r = sys::poll_one(pidfd_.get(), POLLIN, deadline.remaining(ts));
    if (r == 0) return try_reap();
    if (r < 0 && r != -EINTR) {
      throw SystemError("poll (pidfd of pid " + std::to_string(pid_) + ")", -r);
    }
  }
}

std::optional<ExitStatus> ChildState::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

void ChildState::signal(int signo) {
  std::lock_guard lock(mu_);
  if (status_) return;  // reaped: the PID may belong to another process now
  require_owner("sending a signal");
  if (signo == SIGKILL) tree_.kill();  // the child is in its tree
  int r = sys::pidfd_send_signal(pidfd_.get(), signo);
  // ESRCH: it ended and waits to be reaped; nothing to signal.
  if (r < 0 && r != -ESRCH) {
    throw SystemError(
        "pidfd_send_signal(" + signal_name(signo) + ", pid " + std::to_string(pid_) + ")", -r);
  }
}

void ChildState::stop(std::chrono::nanoseconds grace) {
  if (try_reap()) return;
  signal(SIGTERM);
  if (wait(sys::Deadline::after(grace))) return;
  signal(SIGKILL);
  wait(sys::Deadline::never());  // SIGKILL cannot be caught: this ends promptly
}

}  // namespace multiproc::detail

namespace multiproc::detail {
void ChildState::close_pidfd() noexcept {
  std::lock_guard lock(mu_);
  if (!status_) return;
  kill_list_remove_pidfd(pidfd_.get());
  pidfd_.reset();
}
}  // namespace multiproc::detail
