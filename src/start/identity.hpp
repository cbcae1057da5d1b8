// Who this process is, in Python's terms: a name ("MainProcess", "Process-1",
// "Process-1:2"), whether it is a daemon, and who its multiproc parent is.
// The seed for a child is prepared in the parent and installed in the child
// without allocating. Thread-safe.
#pragma once

#include <sys/types.h>

#include <string>

#include "multiproc/start_method.hpp"

namespace multiproc::detail {

struct IdentitySeed {
  static constexpr int kMaxDepth = 16;
  char name[128];
  char parent_name[128];
  pid_t parent_pid;
  bool daemon;
  int path[kMaxDepth];  // Python's _identity: child numbers from the main process down
  int depth;
  // The StartMethod that started this process: its own default start
  // method (as Python's BaseProcess._bootstrap forces it). -1 in the main process.
  int start_method;
  // The parent's default start method when it started this process.
  int parent_start_method;
};

// "Process-1:3" for the next child of this process, and its number.
std::string next_child_name(int& number);
// The seed a child started as `name` with `number` will install.
// `method` is the start method that will start it.
IdentitySeed make_child_identity(const std::string& name, int number, bool daemon,
                                 StartMethod method);
// Child side: makes `method` this process's default start method (and counts
// it as set, as Python's _force_start_method does). Async-signal-safe.
void inherit_start_method(StartMethod method) noexcept;
// In a pool worker: makes the parent's default start method this process's
// again. A task that starts a Process then does what it would do in the
// parent, and a worker never starts a zygote of its own (which would be
// orphaned each time the pool kills that worker).
void use_parent_start_method() noexcept;
// Child side, right after fork: async-signal-safe.
void install_identity(const IdentitySeed& seed) noexcept;

}  // namespace multiproc::detail
