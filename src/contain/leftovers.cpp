#include "contain/leftovers.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <string_view>
#include <vector>

#include "contain/cgroup_paths.hpp"
#include "contain/descendants.hpp"
#include "sys/syscall.hpp"

namespace multiproc::detail::contain {
namespace {

// Whether `dir` (a cgroup directory) ends in "/multiproc-<parent>/c<N>".
bool is_child_cgroup_of(std::string_view dir, pid_t parent) {
  std::size_t slash = dir.rfind('/');
  if (slash == std::string_view::npos) return false;
  std::string_view leaf = dir.substr(slash + 1);
  if (leaf.size() < 2 || leaf[0] != 'c' ||
      leaf.find_first_not_of("0123456789", 1) != std::string_view::npos) {
    return false;
  }
  return dir.substr(0, slash).ends_with("/multiproc-" + std::to_string(parent));
}

// SIGKILLs `p` and waits until it has exited (bounded); reaps it when it
// is our own child.
bool kill_and_reap(pid_t p) {
  int pidfd = sys::pidfd_open(p);
  if (pidfd < 0) return false;  // gone already
  bool killed = sys::pidfd_send_signal(pidfd, SIGKILL) == 0;
  if (killed) {
    timespec bound{5, 0};
    (void)sys::poll_one(pidfd, POLLIN, &bound);
    siginfo_t info{};
    (void)::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG);
  }
  sys::close_fd(pidfd);
  return killed;
}

int kill_others_in_cgroup(const std::string& dir) {
  int killed = 0;
  pid_t self = ::getpid();
  // A process leaves cgroup.procs when it has exited; one forked meanwhile
  // shows up in the next round.
  for (int round = 0; round < 100; ++round) {
    bool any = false;
    for (pid_t p : pids_in(dir + "/cgroup.procs")) {
      if (p == self) continue;
      any = true;
      if (kill_and_reap(p)) ++killed;
    }
    if (!any) return killed;
  }
  return killed;
}

}  // namespace

int kill_own_leftovers() noexcept {
  try {
    auto dir = own_cgroup_directory();
    if (dir && is_child_cgroup_of(*dir, ::getppid())) return kill_others_in_cgroup(*dir);
    // The fallback: this process leads its group and is a subreaper, so every
    // descendant is below it in /proc; adopted orphans are reaped.
    if (::getpgrp() == ::getpid()) return kill_descendants(::getpid(), kill_and_reap);
  } catch (...) {  // no memory: nothing killed this time
  }
  return 0;
}

}  // namespace multiproc::detail::contain
