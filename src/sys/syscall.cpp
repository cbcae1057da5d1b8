#include "sys/syscall.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "sys/tsan.hpp"

namespace multiproc::sys {
namespace {

struct Injection {
  std::atomic<int> remaining{0};
  std::atomic<int> err{0};
};
Injection g_injections[static_cast<int>(Call::count)];
std::atomic<bool> g_any_injection{false};

// Returns the injected errno for `call` (consuming one), or 0.
int injected(Call call) noexcept {
  if (!g_any_injection.load(std::memory_order_relaxed)) return 0;
  Injection& inj = g_injections[static_cast<int>(call)];
  int left = inj.remaining.load(std::memory_order_relaxed);
  while (left > 0) {
    if (inj.remaining.compare_exchange_weak(left, left - 1)) return inj.err.load();
  }
  return 0;
}

int result_or_errno(long r) noexcept {
  return r < 0 ? -errno : static_cast<int>(r);
}

}  // namespace

void inject_failure(Call call, int err, int times) noexcept {
  Injection& inj = g_injections[static_cast<int>(call)];
  inj.err.store(err);
  inj.remaining.store(times);
  g_any_injection.store(true);
}

void clear_injected_failures() noexcept {
  for (Injection& inj : g_injections) inj.remaining.store(0);
  g_any_injection.store(false);
}

pid_t fork_process() noexcept {
  if (int e = injected(Call::fork)) return -e;
  // glibc's fork, not a raw clone3: it resets malloc and stdio locks and the
  // thread's cached TID in the child, which user code there relies on.
  pid_t pid = ::fork();
  return pid < 0 ? -errno : pid;
}

pid_t fork_bare() noexcept {
  if (int e = injected(Call::fork)) return -e;
#ifdef MULTIPROC_TSAN
  // ThreadSanitizer does not intercept _Fork: its runtime's locks, held by
  // another thread at that instant, would stay locked in the child, whose
  // intercepted prctl or _exit then waits forever. Its fork interceptor takes
  // those locks around the fork and makes the child ignore interceptors.
  pid_t pid = ::fork();
#else
  pid_t pid = ::_Fork();
#endif
  return pid < 0 ? -errno : pid;
}

pid_t clone_sibling(int* pidfd, int* tid_address, int cgroup_dir) noexcept {
  if (int e = injected(Call::fork)) return -e;
  clone_args args{};
  args.flags = CLONE_PARENT | CLONE_PIDFD | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID;
  if (cgroup_dir >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<unsigned>(cgroup_dir);
  }
  args.pidfd = reinterpret_cast<std::uintptr_t>(pidfd);
  args.child_tid = reinterpret_cast<std::uintptr_t>(tid_address);
  // With CLONE_PARENT the child takes the caller's own exit signal (SIGCHLD).
  args.exit_signal = 0;
  return static_cast<pid_t>(result_or_errno(::syscall(SYS_clone3, &args, sizeof args)));
}

int pidfd_open(pid_t pid) noexcept {
  if (int e = injected(Call::pidfd_open)) return -e;
  // pidfd_open's descriptor is always close-on-exec. (glibc 2.36's
  // <sys/pidfd.h> lacks extern "C", so the raw syscall is used.)
  return result_or_errno(::syscall(SYS_pidfd_open, pid, 0));
}

int pidfd_send_signal(int pidfd, int signo) noexcept {
  if (int e = injected(Call::pidfd_send_signal)) return -e;
  return result_or_errno(::syscall(SYS_pidfd_send_signal, pidfd, signo, nullptr, 0));
}

int waitid_pidfd(int pidfd, siginfo_t* info, int options) noexcept {
  if (int e = injected(Call::waitid)) return -e;
  int r;
  do {
    r = ::waitid(P_PIDFD, static_cast<id_t>(pidfd), info, options);
  } while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : r;
}

int poll_one(int fd, short events, const timespec* timeout) noexcept {
  if (int e = injected(Call::poll)) return -e;
  pollfd p{fd, events, 0};
  return result_or_errno(::ppoll(&p, 1, timeout, nullptr));
}

void* map_shared(std::size_t bytes) noexcept {
  if (int e = injected(Call::mmap)) {
    errno = e;
    return nullptr;
  }
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

void unmap(void* address, std::size_t bytes) noexcept {
  ::munmap(address, bytes);
}

int close_fd(int fd) noexcept {
  return result_or_errno(::close(fd));
}

pid_t current_tid() noexcept {
  return static_cast<pid_t>(::syscall(SYS_gettid));
}

long write_all(int fd, const void* data, std::size_t len) noexcept {
  const char* p = static_cast<const char*>(data);
  std::size_t done = 0;
  while (done < len) {
    long n = ::write(fd, p + done, len - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    done += static_cast<std::size_t>(n);
  }
  return static_cast<long>(done);
}

void close_all_except(unsigned from, const int* keep, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) {
    auto fd = static_cast<unsigned>(keep[i]);
    if (fd > from) ::close_range(from, fd - 1, 0);
    from = fd + 1;
  }
  ::close_range(from, ~0U, 0);
}

long read_small_file(int dir, const char* path, char* buf, std::size_t size) noexcept {
  int fd = ::openat(dir, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  long n;
  do {
    n = ::read(fd, buf, size - 1);
  } while (n < 0 && errno == EINTR);
  int saved = errno;
  close_fd(fd);
  if (n < 0) return -saved;
  buf[n] = '\0';
  return n;
}

}  // namespace multiproc::sys
