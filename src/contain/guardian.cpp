#include "contain/guardian.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>

#include "contain/cgroup_dir.hpp"
#include "sys/deadline.hpp"
#include "sys/detached_helper.hpp"
#include "sys/syscall.hpp"

namespace multiproc::detail::contain {
namespace {

struct GuardianArgs {
  int parent;   // pidfd of the process the guardian outlives
  int own_dir;  // holds the session directory
  int session;
  const char* session_name;
};

// Waits until `pidfd`'s process has ended: true then. EINTR cannot happen
// (every signal is blocked) but is retried anyway; any other failure means
// the guardian cannot tell, and it must then leave the trees alone.
bool wait_for_exit(int pidfd) noexcept {
  for (;;) {
    int r = sys::poll_one(pidfd, POLLIN, nullptr);
    if (r == 1) return true;
    if (r != -EINTR) return false;
  }
}

void run_guardian(void* arg) noexcept {
  const auto a = *static_cast<const GuardianArgs*>(arg);
  // Only its three descriptors stay open.
  int keep[3] = {a.parent, a.own_dir, a.session};
  std::sort(std::begin(keep), std::end(keep));
  sys::close_all_except(0, keep, 3);
  (void)chdir("/");

  if (!wait_for_exit(a.parent)) _exit(1);
  if (write_cgroup_file(a.session, "cgroup.kill", "1") == 0) {
    (void)wait_cgroup_empty(a.session, sys::Deadline::after(std::chrono::seconds(10)));
  }
  (void)remove_subdirectories(a.session);
  (void)::unlinkat(a.own_dir, a.session_name, AT_REMOVEDIR);
  _exit(0);
}

}  // namespace

int remove_subdirectories(int dir) noexcept {
  int first_error = 0;
  alignas(8) char buf[2048];
  // Entries change while we remove them: read from the start each round
  // until a round removes nothing.
  for (bool removed = true; removed;) {
    removed = false;
    if (::lseek(dir, 0, SEEK_SET) < 0) return -errno;
    for (;;) {
      long n = ::syscall(SYS_getdents64, dir, buf, sizeof buf);
      if (n <= 0) break;
      for (long off = 0; off < n;) {
        auto* d = reinterpret_cast<struct dirent64*>(buf + off);
        off += d->d_reclen;
        if (d->d_type != DT_DIR || std::strcmp(d->d_name, ".") == 0 ||
            std::strcmp(d->d_name, "..") == 0) {
          continue;
        }
        int sub = ::openat(dir, d->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sub >= 0) {
          int r = remove_subdirectories(sub);
          if (r != 0 && first_error == 0) first_error = r;
          sys::close_fd(sub);
        }
        if (::unlinkat(dir, d->d_name, AT_REMOVEDIR) == 0) {
          removed = true;
        } else if (first_error == 0) {
          first_error = -errno;
        }
      }
    }
    if (removed) first_error = 0;
  }
  return first_error;
}

pid_t start_guardian(int own_dir, int session, const char* session_name) noexcept {
  int parent = sys::pidfd_open(::getpid());
  if (parent < 0) return parent;
  GuardianArgs args{parent, own_dir, session, session_name};
  pid_t pid = sys::start_detached_helper("mp-cgroup-guard", run_guardian, &args);
  sys::close_fd(parent);
  return pid;
}

}  // namespace multiproc::detail::contain
