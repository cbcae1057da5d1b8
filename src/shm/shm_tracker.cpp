#include "shm/shm_tracker.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "sys/detached_helper.hpp"
#include "sys/syscall.hpp"

namespace multiproc::detail {
namespace {

struct TrackerArgs {
  int read_end;
  int segment_fd;
  const char* path;
};

// The tracker itself (a detached helper: async-signal-safe only, every
// signal blocked).
void run_tracker(void* arg) noexcept {
  const auto& a = *static_cast<const TrackerArgs*>(arg);
  int keep[2] = {std::min(a.read_end, a.segment_fd), std::max(a.read_end, a.segment_fd)};
  sys::close_all_except(0, keep, 2);
  (void)chdir("/");
  char byte;
  // Nobody writes: the read ends with end-of-file when the last user is gone.
  long n;
  while ((n = read(a.read_end, &byte, 1)) != 0) {
    if (n < 0 && errno != EINTR) break;
  }
  struct stat ours, named;
  if (fstat(a.segment_fd, &ours) == 0 && stat(a.path, &named) == 0 && ours.st_dev == named.st_dev &&
      ours.st_ino == named.st_ino) {
    unlink(a.path);
  }
  _exit(0);
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
  TrackerArgs args{read_end.get(), segment_fd, path};
  pid_t pid = sys::start_detached_helper("mp-shm-tracker", run_tracker, &args);
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
