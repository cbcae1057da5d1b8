#include "sys/child_pidfd.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>

#include "sys/syscall.hpp"

namespace multiproc::sys {

int open_child_pidfd(pid_t pid) noexcept {
  int pidfd = pidfd_open(pid);
  if (pidfd >= 0) return pidfd;
  ::kill(pid, SIGKILL);
  siginfo_t info;
  while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED) < 0 && errno == EINTR) {
  }
  return pidfd;
}

}  // namespace multiproc::sys
