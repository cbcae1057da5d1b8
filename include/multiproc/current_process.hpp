// multiproc/current_process.hpp — this process, its parent, its children.
//
//   mp::current_process().name;     // "MainProcess", or "Process-1" in a child
//   if (auto parent = mp::parent_process()) parent->is_alive();
//   for (const auto& c : mp::active_children()) std::cout << c.pid << '\n';
//
// Thread safety: all functions are thread-safe. None is async-signal-safe.
#pragma once

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

// Parent of a process started by multiproc.
struct ParentProcess {
  pid_t pid = 0;
  std::string name;
  // True while the parent lives. Safe against PID reuse: it compares getppid().
  bool is_alive() const;
};

// The calling process: "MainProcess" unless it was started by multiproc.
ProcessInfo current_process();

// The process that started this one through multiproc; nullopt in the main process.
std::optional<ParentProcess> parent_process();

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
