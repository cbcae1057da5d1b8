// The two kinds of RunningChild: a function child (an mp::Process) and an
// external command (a process group led by the command).
#include "supervisor/running_child.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>

#include "contain/tree.hpp"
#include "multiproc/error.hpp"
#include "multiproc/process.hpp"
#include "signals/kill_list.hpp"
#include "supervisor/command_launch.hpp"
#include "sys/exit_status.hpp"
#include "sys/syscall.hpp"

namespace multiproc::detail {

namespace {

class FunctionChild final : public RunningChild {
 public:
  explicit FunctionChild(Process process) : process_(std::move(process)) {}
  pid_t pid() const noexcept override { return process_.pid().value_or(0); }
  int pollfd() const noexcept override { return process_.sentinel(); }
  std::optional<ExitStatus> try_reap() override {
    if (process_.is_alive()) return std::nullopt;
    return process_.exit_status();
  }
  void terminate() noexcept override {
    try {
      process_.terminate();
    } catch (...) {  // a reaped child: nothing to signal
    }
  }
  void kill() noexcept override {
    try {
      process_.kill();
    } catch (...) {
    }
  }

 private:
  Process process_;
};

class CommandChild final : public RunningChild {
 public:
  CommandChild(LaunchedCommand launched, contain::Tree tree)
      : pid_(launched.pid), pidfd_(std::move(launched.pidfd)), tree_(std::move(tree)) {
    tree_.attach(pid_);
    kill_list_add_group(pid_);
  }
  ~CommandChild() override {
    if (!reaped_) {
      kill();
      siginfo_t info{};
      (void)sys::waitid_pidfd(pidfd_.get(), &info, WEXITED);
      kill_list_remove_group(pid_);
      tree_.end();
    }
  }
  pid_t pid() const noexcept override { return pid_; }
  int pollfd() const noexcept override { return pidfd_.get(); }
  std::optional<ExitStatus> try_reap() override {
    if (reaped_) return status_;
    timespec zero{};
    if (sys::poll_one(pidfd_.get(), POLLIN, &zero) != 1) return std::nullopt;
    // The leader is a zombie: its PID, and so its group's ID, cannot be
    // reused yet. Kill what it left in its group and its tree, then reap it.
    (void)::kill(-pid_, SIGKILL);
    tree_.end();
    siginfo_t info{};
    if (sys::waitid_pidfd(pidfd_.get(), &info, WEXITED | WNOHANG) < 0 || info.si_pid == 0)
      return std::nullopt;
    kill_list_remove_group(pid_);
    reaped_ = true;
    status_ = sys::exit_status_from(info);
    return status_;
  }
  void terminate() noexcept override { signal_group(SIGTERM); }
  void kill() noexcept override { signal_group(SIGKILL); }

 private:
  void signal_group(int signo) noexcept {
    if (reaped_) return;
    if (signo == SIGKILL) tree_.kill();
    // Until we reap the leader, its PID is the group's ID and cannot be reused.
    if (::kill(-pid_, signo) != 0) (void)sys::pidfd_send_signal(pidfd_.get(), signo);
  }

  pid_t pid_ = 0;
  sys::UniqueFd pidfd_;
  contain::Tree tree_;
  bool reaped_ = false;
  std::optional<ExitStatus> status_;
};

StartResult start_function(const ChildSpec& spec) {
  StartResult out;
  try {
    ProcessOptions options = spec.options().process;
    options.parent_decides_signals = true;
    options.contain = options.contain || spec.options().contain;
    if (options.name.empty()) options.name = spec.name();
    Process p(std::move(options), spec.make_target());
    p.start();
    out.child = std::make_unique<FunctionChild>(std::move(p));
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

StartResult start_command(const ChildSpec& spec, int group_stop_fd) {
  StartResult out;
  try {
    contain::Tree tree = spec.options().contain ? contain::Tree::make() : contain::Tree();
    LaunchedCommand launched = launch_command(*spec.command(), group_stop_fd, tree.cgroup_fd());
    if (!launched.error.empty()) {
      out.error = std::move(launched.error);
      tree.end();  // nothing ran in it: back to the session
    } else {
      out.child = std::make_unique<CommandChild>(std::move(launched), std::move(tree));
    }
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

}  // namespace

StartResult start_child(const ChildSpec& spec, int group_stop_fd) {
  return spec.is_command() ? start_command(spec, group_stop_fd) : start_function(spec);
}

}  // namespace multiproc::detail
