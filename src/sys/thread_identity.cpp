#include "sys/thread_identity.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "sys/syscall.hpp"

namespace multiproc::detail {

constinit thread_local ThreadIdentity t_identity __attribute__((tls_model("initial-exec")));

}  // namespace multiproc::detail

namespace multiproc::sys {
namespace {

struct StatFields {
  char state = '\0';
  unsigned long long start_time = 0;  // clock ticks after boot (field 22)
};

// Reads fields 3 and 22 of /proc/<path>/stat. -errno when it cannot be read.
int read_stat(const char* path, StatFields& out) noexcept {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  char buf[512];
  long n;
  do {
    n = ::read(fd, buf, sizeof buf - 1);
  } while (n < 0 && errno == EINTR);
  close_fd(fd);
  if (n <= 0) return -EIO;
  buf[n] = '\0';
  // The command (field 2) may hold spaces and ')': fields resume after the last ')'.
  char* p = buf + n;
  while (p > buf && *p != ')') --p;
  if (p == buf || p[1] != ' ') return -EIO;
  out.state = p[2];
  int field = 3;
  for (p += 2; *p != '\0'; ++p) {
    if (*p == ' ' && ++field == 22) {
      out.start_time = std::strtoull(p + 1, nullptr, 10);
      return 0;
    }
  }
  return -EIO;
}

std::uint32_t make_tag(unsigned long long start_time) noexcept {
  // Never 0, so that 0 means "unknown".
  return static_cast<std::uint32_t>(start_time) | 0x80000000u;
}

bool proc_is_mounted() noexcept {
  static const bool mounted = ::access("/proc/self/stat", R_OK) == 0;
  return mounted;
}

// In a forked child the one thread has a new TID: forget the cached one.
void forget_identity_in_child() noexcept {
  detail::t_identity = ThreadIdentity{};
}

[[maybe_unused]] const int g_atfork_registered =
    pthread_atfork(nullptr, nullptr, forget_identity_in_child);

}  // namespace

bool thread_has_ended(std::uint64_t word) noexcept {
  auto tid = static_cast<std::uint32_t>(word);
  auto tag = static_cast<std::uint32_t>(word >> 32);
  if (!proc_is_mounted()) return ::kill(static_cast<pid_t>(tid), 0) != 0 && errno == ESRCH;
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%u/stat", tid);
  StatFields f;
  int r = read_stat(path, f);
  if (r == -ENOENT || r == -ESRCH) {
    // Gone, unless /proc hides other users' processes (hidepid): ask kill.
    return ::kill(static_cast<pid_t>(tid), 0) != 0 && errno == ESRCH;
  }
  if (r != 0) return false;
  if (f.state == 'Z' || f.state == 'X') return true;  // dead, not yet reaped
  return tag != 0 && make_tag(f.start_time) != tag;   // the TID was reused
}

}  // namespace multiproc::sys

namespace multiproc::detail {

const ThreadIdentity& compute_thread_identity() noexcept {
  auto tid = static_cast<std::uint32_t>(::syscall(SYS_gettid));
  sys::StatFields self;
  std::uint32_t tag = 0;
  if (sys::read_stat("/proc/thread-self/stat", self) == 0) tag = sys::make_tag(self.start_time);
  t_identity = ThreadIdentity{tid, tag};
  return t_identity;
}

}  // namespace multiproc::detail
