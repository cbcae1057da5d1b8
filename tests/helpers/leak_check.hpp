// Test helpers: what a test leaves behind. The test main makes the test
// process a child subreaper, so orphaned descendants come back to it and a
// leaked grandchild shows up as a child too.
#pragma once

#include <sys/types.h>

#include <set>
#include <string>
#include <vector>

namespace multiproc::testing {

struct ChildEntry {
  pid_t pid;
  char state;  // 'Z' for a zombie
  std::string command;
};

// Direct children of `parent` (by /proc/<pid>/stat), zombies included; for
// this process, the forkserver zygote (started by the test main) and the
// containment guardian excepted.
std::vector<ChildEntry> children_of(pid_t parent);
// Open descriptors of this process.
std::set<int> open_fds();
// State letter of `pid` ('R', 'S', 'Z', ...), or '\0' if it does not exist.
char process_state(pid_t pid);

}  // namespace multiproc::testing
