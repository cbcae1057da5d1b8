// The parent's view of one child: its PID, its pidfd, and how it ended.
// Shared between a Process handle and the registry (active_children and the
// exit handler). Thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "contain/tree.hpp"
#include "multiproc/exit_status.hpp"
#include "process/exception_report.hpp"
#include "sys/deadline.hpp"
#include "sys/unique_fd.hpp"

namespace multiproc::detail {

class ChildState {
 public:
  ChildState(std::string name, bool daemon);
  ~ChildState();
  ChildState(const ChildState&) = delete;
  ChildState& operator=(const ChildState&) = delete;

  // A contained child's tree (before attach): its leftovers are killed when
  // it is reaped, and signal(SIGKILL) kills the whole tree.
  void contain(contain::Tree tree) noexcept { tree_ = std::move(tree); }
  const contain::Tree& tree() const noexcept { return tree_; }
  // Called once, right after the fork succeeded.
  void attach(pid_t pid, sys::UniqueFd pidfd) noexcept;
  // Spawn and forkserver children report an exception on their channel
  // instead of the report page.
  void attach_channel(sys::UniqueFd channel) noexcept { channel_ = std::move(channel); }
  // The child's uncaught exception; call once it ended.
  std::optional<ExceptionInfo> read_exception();

  pid_t pid() const noexcept { return pid_; }
  int pidfd() const noexcept { return pidfd_.get(); }
  const std::string& name() const noexcept { return name_; }
  bool daemon() const noexcept { return daemon_; }
  ExceptionReport& report() noexcept { return report_; }

  // Reaps the child if it ended; true once it has. Never blocks.
  bool try_reap();
  // Waits until the child ended (and reaps it) or the deadline passes.
  bool wait(const sys::Deadline& deadline);
  std::optional<ExitStatus> status() const;
  // Sends `signo` through the pidfd; a no-op once the child was reaped.
  // SIGKILL to a contained child kills its whole tree.
  void signal(int signo);
  // SIGTERM, up to `grace`, then SIGKILL; returns once reaped. Bounded.
  void stop(std::chrono::nanoseconds grace);
  // Closes the pidfd of a reaped child.
  void close_pidfd() noexcept;

 private:
  // waitid(P_PIDFD) with `flags` (WNOHANG or 0); true once reaped.
  bool reap(int flags);
  void reap_blocking();
  // Throws UsageError when used from a process other than the one that forked.
  void require_owner(const char* operation) const;

  const std::string name_;
  const bool daemon_;
  const pid_t owner_;
  pid_t pid_ = 0;
  sys::UniqueFd pidfd_;
  ExceptionReport report_;
  sys::UniqueFd channel_;
  bool channel_read_ = false;
  std::optional<ExceptionInfo> channel_report_;
  mutable std::mutex mu_;
  std::optional<ExitStatus> status_;
  contain::Tree tree_;       // guarded by mu_ once attached
  bool oom_killed_ = false;  // its cgroup's memory.events, read before the tree ended
};

}  // namespace multiproc::detail
