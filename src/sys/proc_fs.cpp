#include "sys/proc_fs.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "sys/syscall.hpp"
#include "sys/tsan.hpp"

namespace multiproc::sys::proc {
namespace {

// Reads the file at `path` into `buf` (NUL-terminated): its length or
// -errno; an empty file (a task being released) is -EIO.
long read_small_file(const char* path, char* buf, std::size_t size) noexcept {
  long n = sys::read_small_file(AT_FDCWD, path, buf, size);
  return n == 0 ? -EIO : n;
}

int read_stat(const char* path, TaskStat& out) noexcept {
  char buf[1024];
  long n = read_small_file(path, buf, sizeof buf);
  if (n < 0) return static_cast<int>(n);
  // The command (field 2) may hold spaces and ')': fields resume after the last ')'.
  char* p = buf + n;
  while (p > buf && *p != ')') --p;
  if (p == buf || p[1] != ' ') return -EIO;
  out.state = p[2];
  int field = 3;
  for (p += 2; *p != '\0'; ++p) {
    if (*p != ' ') continue;
    ++field;
    if (field == 20) out.threads = std::strtol(p + 1, nullptr, 10);
    if (field == 22) {
      out.start_time = std::strtoull(p + 1, nullptr, 10);
      return 0;
    }
  }
  return -EIO;
}

// kill(tid, 0) says no such process: gone even where /proc hides it.
bool kill_says_gone(pid_t tid) noexcept {
  return ::kill(tid, 0) != 0 && errno == ESRCH;
}

}  // namespace

int read_task_stat(pid_t tid, TaskStat& out) noexcept {
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(tid));
  return read_stat(path, out);
}

int read_self_stat(TaskStat& out) noexcept {
  return read_stat("/proc/self/stat", out);
}

int read_thread_self_stat(TaskStat& out) noexcept {
  return read_stat("/proc/thread-self/stat", out);
}

bool mounted() noexcept {
  static const bool is_mounted = ::access("/proc/self/stat", R_OK) == 0;
  return is_mounted;
}

bool task_has_ended(pid_t tid, unsigned long long* start_time) noexcept {
  if (start_time != nullptr) *start_time = 0;
  if (!mounted()) return kill_says_gone(tid);
  TaskStat f;
  int r = read_task_stat(tid, f);
  if (r == -ENOENT || r == -ESRCH) return kill_says_gone(tid);
  if (r != 0) return false;
  if (f.state == 'Z' || f.state == 'X') return true;  // dead, not yet reaped
  if (start_time != nullptr) *start_time = f.start_time;
  return false;
}

int thread_count() noexcept {
  // procfs gives /proc/self/task a link count of 2 + the number of threads:
  // one stat() instead of reading and parsing /proc/self/stat.
  struct stat st;
  int threads;
  if (::stat("/proc/self/task", &st) == 0 && st.st_nlink >= 3) {
    threads = static_cast<int>(st.st_nlink - 2);
  } else {
    TaskStat self;
    int r = read_self_stat(self);
    threads = r == 0 ? static_cast<int>(self.threads) : r;
  }
  return threads - sanitizer_threads(threads);
}

std::uint64_t resident_bytes(pid_t pid) noexcept {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/statm", static_cast<int>(pid));
  char buf[256];
  if (read_small_file(path, buf, sizeof buf) < 0) return 0;
  unsigned long size = 0, resident = 0;
  if (std::sscanf(buf, "%lu %lu", &size, &resident) != 2) return 0;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

std::uint64_t peak_resident_bytes() noexcept {
  FILE* f = std::fopen("/proc/self/status", "re");
  if (f == nullptr) return 0;
  char line[256];
  unsigned long kib = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "VmHWM: %lu kB", &kib) == 1) break;
  }
  std::fclose(f);
  return static_cast<std::uint64_t>(kib) << 10;
}

bool has_mapped(pid_t pid, const std::string& real_path) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::string line;
  while (std::getline(maps, line)) {
    auto slash = line.find('/');
    if (slash != std::string::npos && line.compare(slash, std::string::npos, real_path) == 0)
      return true;
  }
  return false;
}

std::size_t pid_max() noexcept {
  char buf[32];
  if (read_small_file("/proc/sys/kernel/pid_max", buf, sizeof buf) > 0) {
    unsigned long long n = std::strtoull(buf, nullptr, 10);
    if (n > 0) return static_cast<std::size_t>(n);
  }
  return std::size_t{1} << 22;  // the kernel's own ceiling (PID_MAX_LIMIT)
}

}  // namespace multiproc::sys::proc
