#include "sys/detached_helper.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "sys/signal_block.hpp"
#include "sys/syscall.hpp"

namespace multiproc::sys {
namespace {

// The middle process: forks the helper, reports its PID (or -errno), exits.
[[noreturn]] void run_middle(const char* name, HelperBody body, void* arg, int report_fd) noexcept {
  pid_t pid = fork_bare();
  if (pid == 0) {
    setsid();
    prctl(PR_SET_NAME, name);
    close_fd(report_fd);
    body(arg);
    _exit(0);
  }
  (void)write_all(report_fd, &pid, sizeof pid);
  _exit(0);
}

}  // namespace

pid_t start_detached_helper(const char* name, HelperBody body, void* arg) noexcept {
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return -errno;
  pid_t middle;
  {
    // No handler of the caller may run in the middle process or the helper.
    BlockAllSignals blocked;
    middle = fork_bare();
    if (middle == 0) run_middle(name, body, arg, report[1]);
  }
  close_fd(report[1]);
  pid_t helper = middle;
  if (middle > 0) {
    long n;
    do {
      n = read(report[0], &helper, sizeof helper);
    } while (n < 0 && errno == EINTR);
    if (n != sizeof helper) helper = -EIO;
    while (waitpid(middle, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  close_fd(report[0]);
  return helper;
}

}  // namespace multiproc::sys
