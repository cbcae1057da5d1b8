// pidfd system calls for tests (glibc 2.36's <sys/pidfd.h> lacks extern "C").
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace multiproc::testing {

inline int pidfd_open(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}
inline int pidfd_kill(int pidfd) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0));
}

// Whether `fd` became readable within `timeout_ms` (generous by default: the
// test's own timeout is the real bound).
inline bool wait_readable(int fd, int timeout_ms = 60000) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

// Waits for an orphaned grandchild through its pidfd and reaps it: the test
// process is a subreaper, so an orphan comes back to it. Returns its exit
// code (-N for signal N), -1 if it did not end within `timeout_ms`, -2 if it
// could not be reaped.
inline int wait_orphan(int pidfd, int timeout_ms) {
  if (!wait_readable(pidfd, timeout_ms)) return -1;
  siginfo_t info{};
  if (::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED) != 0) return -2;
  return info.si_code == CLD_EXITED ? info.si_status : -info.si_status;
}

}  // namespace multiproc::testing
