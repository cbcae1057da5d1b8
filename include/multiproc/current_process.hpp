// multiproc/current_process.hpp — this process, its parent, its children.
//
//   mp::current_process().name;     // "MainProcess", or "Process-1" in a child
//   mp::current_process().is_alive();  // true, as in Python
//   if (auto parent = mp::parent_process()) parent->join(5s);  // true once the parent ended
//   mp::cpu_count();                // online CPUs, as os.cpu_count()
//   for (const auto& c : mp::active_children()) std::cout << c.pid << '\n';
//
// Thread safety: all functions are thread-safe. None is async-signal-safe.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace multiproc {

struct ProcessInfo {
  pid_t pid = 0;
  std::string name;
  bool daemon = false;
};

// The calling process, as Python's current_process() describes it.
struct CurrentProcess : ProcessInfo {
  // Always true: the caller runs (Python's current_process().is_alive()).
  bool is_alive() const noexcept { return true; }
  // Always nullopt: the caller has not ended (Python gives None).
  std::optional<int> exitcode() const noexcept { return std::nullopt; }
};

// Parent of a process started by multiproc (for a forkserver child, the
// process that asked for it: the zygote forks with CLONE_PARENT).
struct ParentProcess {
  pid_t pid = 0;
  std::string name;
  // True while the parent lives. Safe against PID reuse: it compares getppid().
  bool is_alive() const;
  // Waits at most `timeout` for the parent to end; true if it has (Python's
  // parent_process().join(timeout)). It watches the parent's pidfd, opened
  // only while getppid() still names it, so a reused PID is never watched.
  // Throws SystemError when the kernel refuses the pidfd.
  bool join(std::chrono::nanoseconds timeout) const;
};

// The calling process: "MainProcess" unless it was started by multiproc.
CurrentProcess current_process();

// The process that started this one through multiproc; nullopt in the main process.
std::optional<ParentProcess> parent_process();

// The number of CPUs online (sysconf(_SC_NPROCESSORS_ONLN)), at least 1, as
// Python's cpu_count() (its None for "unknown" becomes 1). The CPUs this
// process may run on can be fewer: see process_cpu_count().
unsigned cpu_count() noexcept;
// The CPUs this process may run on (its affinity mask), at least 1: Python
// 3.13's os.process_cpu_count(), and the Pool's default size.
unsigned process_cpu_count() noexcept;

// Children started by this process that are still running. Like Python, it
// reaps the children that have ended.
std::vector<ProcessInfo> active_children();

// When a Process handle is destroyed while its child runs, and at normal exit
// (return from main, std::exit) for children whose handle still exists,
// daemon children are terminated and the others joined, as in Python. The
// join waits at most this long (default 30 s) before those children are
// stopped as daemons are: SIGTERM, then SIGKILL after `grace` (default 1 s).
// Pass nullopt to wait without a bound, as Python does.
void set_exit_join_timeout(std::optional<std::chrono::nanoseconds> timeout);
void set_exit_terminate_grace(std::chrono::nanoseconds grace);

}  // namespace multiproc
