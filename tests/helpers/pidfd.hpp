// pidfd system calls for tests (glibc 2.36's <sys/pidfd.h> lacks extern "C").
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
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

}  // namespace multiproc::testing
