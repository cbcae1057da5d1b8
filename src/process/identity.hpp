// Who this process is, in Python's terms: a name ("MainProcess", "Process-1",
// "Process-1:2"), whether it is a daemon, and who its multiproc parent is.
// The seed for a child is prepared in the parent and installed in the child
// without allocating. Thread-safe.
#pragma once

#include <sys/types.h>

#include <string>

namespace multiproc::detail {

struct IdentitySeed {
  static constexpr int kMaxDepth = 16;
  char name[128];
  char parent_name[128];
  pid_t parent_pid;
  bool daemon;
  int path[kMaxDepth];  // Python's _identity: child numbers from the main process down
  int depth;
};

// "Process-1:3" for the next child of this process, and its number.
std::string next_child_name(int& number);
// The seed a child started as `name` with `number` will install.
IdentitySeed make_child_identity(const std::string& name, int number, bool daemon);
// Child side, right after fork: async-signal-safe.
void install_identity(const IdentitySeed& seed) noexcept;

}  // namespace multiproc::detail
