// cpu_count(), process_cpu_count() and ParentProcess::join(): what Python's
// module-level helpers tell a process about its host and its parent.
#include <poll.h>
#include <sched.h>
#include <unistd.h>

#include <string>

#include "multiproc/current_process.hpp"
#include "multiproc/error.hpp"
#include "sys/deadline.hpp"
#include "sys/syscall.hpp"
#include "sys/unique_fd.hpp"

namespace multiproc {

unsigned cpu_count() noexcept {
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1U;
}

unsigned process_cpu_count() noexcept {
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<unsigned>(n);
  }
  return cpu_count();
}

bool ParentProcess::join(std::chrono::nanoseconds timeout) const {
  if (::getppid() != pid) return true;
  int fd = sys::pidfd_open(pid);
  if (fd == -ESRCH) return true;
  if (fd < 0)
    throw SystemError("parent_process().join: pidfd_open (pid " + std::to_string(pid) + ")", -fd);
  sys::UniqueFd pidfd(fd);
  // Opened while getppid() may already have changed: if it no longer names
  // `pid`, the parent ended and the PID may belong to someone else now.
  if (::getppid() != pid) return true;
  sys::Deadline deadline = sys::Deadline::after(timeout);
  for (;;) {
    timespec left;
    int r = sys::poll_one(pidfd.get(), POLLIN, deadline.remaining(left));
    if (r == 1) return true;
    if (r == 0) return false;
    if (r != -EINTR) throw SystemError("parent_process().join: poll", -r);
  }
}

}  // namespace multiproc
