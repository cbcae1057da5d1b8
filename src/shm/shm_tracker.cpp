#include "shm/shm_tracker.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <utility>

#include "sys/signal_block.hpp"
#include "sys/syscall.hpp"

namespace multiproc::detail {
namespace {

// Closes every descriptor but `a` and `b`.
void close_all_but(int a, int b) noexcept {
  if (a > b) std::swap(a, b);
  if (a > 0) close_range(0, static_cast<unsigned>(a) - 1, 0);
  if (b > a + 1) close_range(static_cast<unsigned>(a) + 1, static_cast<unsigned>(b) - 1, 0);
  close_range(static_cast<unsigned>(b) + 1, UINT_MAX, 0);
}

// The tracker itself. Async-signal-safe only: it may be the child of a
// multi-threaded process. Every signal is already blocked (inherited).
[[noreturn]] void run_tracker(int read_end, int segment_fd, const char* path) noexcept {
  setsid();
  prctl(PR_SET_NAME, "mp-shm-tracker");
  close_all_but(read_end, segment_fd);
  (void)chdir("/");
  char byte;
  // Nobody writes: the read ends with end-of-file when the last user is gone.
  long n;
  while ((n = read(read_end, &byte, 1)) != 0) {
    if (n < 0 && errno != EINTR) break;
  }
  struct stat ours, named;
  if (fstat(segment_fd, &ours) == 0 && stat(path, &named) == 0 && ours.st_dev == named.st_dev &&
      ours.st_ino == named.st_ino) {
    unlink(path);
  }
  _exit(0);
}

// The middle process of the double fork: starts the tracker, reports its PID
// (or -errno) and exits, so the tracker is reparented and the caller has only
// this short-lived child to reap.
[[noreturn]] void run_middle(int read_end, int segment_fd, const char* path,
                             int report_fd) noexcept {
  pid_t pid = sys::fork_bare();
  if (pid == 0) run_tracker(read_end, segment_fd, path);
  (void)sys::write_all(report_fd, &pid, sizeof pid);
  _exit(0);
}

// Forks the middle process with every signal blocked, so that no handler of
// the caller runs in it or in the tracker. Returns the tracker's PID or -errno.
pid_t fork_tracker(int read_end, int segment_fd, const char* path) noexcept {
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return -errno;
  pid_t middle;
  {
    sys::BlockAllSignals blocked;
    middle = sys::fork_bare();
    if (middle == 0) run_middle(read_end, segment_fd, path, report[1]);
  }
  sys::close_fd(report[1]);
  pid_t tracker = middle;
  if (middle > 0) {
    long n;
    do {
      n = read(report[0], &tracker, sizeof tracker);
    } while (n < 0 && errno == EINTR);
    if (n != sizeof tracker) tracker = -EIO;
    while (waitpid(middle, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  sys::close_fd(report[0]);
  return tracker;
}

}  // namespace

ShmTracker::~ShmTracker() {
  if (write_end && !write_end_is_open()) (void)write_end.release();
}

bool ShmTracker::write_end_is_open() const noexcept {
  struct stat st;
  return write_end && fstat(write_end.get(), &st) == 0 && st.st_dev == device && st.st_ino == inode;
}

int start_shm_tracker(int segment_fd, const char* path, ShmTracker& out) noexcept {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return -errno;
  sys::UniqueFd read_end(pipe_fds[0]);
  sys::UniqueFd write_end(pipe_fds[1]);
  pid_t pid = fork_tracker(read_end.get(), segment_fd, path);
  if (pid < 0) return pid;
  struct stat st;
  if (fstat(write_end.get(), &st) == 0) {
    out.device = st.st_dev;
    out.inode = st.st_ino;
  }
  out.write_end = std::move(write_end);
  out.pid = pid;
  return 0;
}

}  // namespace multiproc::detail
