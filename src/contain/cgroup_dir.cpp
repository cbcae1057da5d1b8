#include "contain/cgroup_dir.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "sys/syscall.hpp"

namespace multiproc::detail::contain {
namespace {

// cgroup.events holds "populated 0|1".
bool events_say_populated(const char* text) noexcept {
  const char* p = std::strstr(text, "populated ");
  return p == nullptr || p[10] != '0';  // unreadable: assume populated
}

// Before cgroup.kill: SIGKILL each PID listed, until none is left (a
// process forking meanwhile lists its child on the next read). 0 or -errno.
int kill_each(int dir) noexcept {
  for (int round = 0; round < 1000; ++round) {
    char buf[4096];
    long n = sys::read_small_file(dir, "cgroup.procs", buf, sizeof buf);
    if (n < 0) return static_cast<int>(n);
    if (n == 0) return 0;
    for (char* p = buf; *p != '\0';) {
      long pid = std::strtol(p, &p, 10);
      if (pid > 0) ::kill(static_cast<pid_t>(pid), SIGKILL);
      while (*p == '\n') ++p;
    }
  }
  return -EAGAIN;
}

}  // namespace

int write_cgroup_file(int dir, const char* file, const char* text) noexcept {
  int fd = ::openat(dir, file, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  long n = sys::write_all(fd, text, std::strlen(text));
  int r = n < 0 ? static_cast<int>(n) : 0;
  sys::close_fd(fd);
  return r;
}

int CgroupDir::create(int parent, const char* name, CgroupDir& out) noexcept {
  if (std::strlen(name) >= sizeof out.name_) return -ENAMETOOLONG;
  if (::mkdirat(parent, name, 0755) != 0) return -errno;
  int r = open(parent, name, out);
  if (r != 0) ::unlinkat(parent, name, AT_REMOVEDIR);
  return r;
}

int CgroupDir::open(int parent, const char* name, CgroupDir& out) noexcept {
  if (std::strlen(name) >= sizeof out.name_) return -ENAMETOOLONG;
  int fd = ::openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -errno;
  out.dir_.reset(fd);
  std::strcpy(out.name_, name);
  out.killed_ = false;
  return 0;
}

int CgroupDir::enter_pid(int dir, pid_t pid) noexcept {
  char text[16];
  std::snprintf(text, sizeof text, "%d", static_cast<int>(pid));
  return write_cgroup_file(dir, "cgroup.procs", text);
}

bool CgroupDir::populated() const noexcept {
  char buf[128];
  if (sys::read_small_file(dir_.get(), "cgroup.events", buf, sizeof buf) < 0) return true;
  return events_say_populated(buf);
}

int CgroupDir::kill() noexcept {
  killed_ = true;
  int r = write_cgroup_file(dir_.get(), "cgroup.kill", "1");
  return r == -ENOENT ? kill_each(dir_.get()) : r;
}

bool wait_cgroup_empty(int dir, const sys::Deadline& deadline) noexcept {
  int fd = ::openat(dir, "cgroup.events", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool empty = false;
  for (;;) {
    char buf[128];
    long n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n < 0) break;
    buf[n] = '\0';
    if (!events_say_populated(buf)) {
      empty = true;
      break;
    }
    timespec left;
    int r = sys::poll_one(fd, POLLPRI, deadline.remaining(left));
    if (r == 0 || (r < 0 && r != -EINTR)) break;
  }
  sys::close_fd(fd);
  return empty;
}

bool CgroupDir::wait_empty(const sys::Deadline& deadline) const noexcept {
  return wait_cgroup_empty(dir_.get(), deadline);
}

MemoryEvents CgroupDir::memory_events() const {
  char buf[512];
  if (sys::read_small_file(dir_.get(), "memory.events", buf, sizeof buf) < 0) return {};
  return parse_memory_events(buf);
}

int CgroupDir::set_memory_max(std::uint64_t bytes) const noexcept {
  char text[32];
  std::snprintf(text, sizeof text, "%llu", static_cast<unsigned long long>(bytes));
  return write_cgroup_file(dir_.get(), "memory.max", text);
}

int CgroupDir::remove(int parent) noexcept {
  if (!valid()) return 0;
  if (::unlinkat(parent, name_, AT_REMOVEDIR) != 0) return -errno;
  dir_.reset();
  name_[0] = '\0';
  return 0;
}

}  // namespace multiproc::detail::contain
