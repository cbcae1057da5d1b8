// Starting an external command for the supervisor, safely from a
// multi-threaded parent: everything that allocates (argv, envp, the PATH
// search) happens before the fork; the child runs only async-signal-safe
// calls up to execve, and an execve failure comes back through a
// close-on-exec pipe as {stage, errno}.
//
// The child: leads its own process group (a terminal's Ctrl-C does not reach
// it; stopping it can signal the whole group); dies with the forking thread
// (PR_SET_PDEATHSIG SIGKILL, re-checked against the parent's PID); default
// signal dispositions and an empty mask; the group-stop socket at descriptor
// 3 (MULTIPROC_GROUP_STOP_FD=3) and nothing else but 0, 1, 2.
#pragma once

#include <sys/types.h>

#include <string>

#include "multiproc/supervisor.hpp"
#include "sys/unique_fd.hpp"

namespace multiproc::detail {

struct LaunchedCommand {
  pid_t pid = 0;  // also its process group's ID
  sys::UniqueFd pidfd{};
  std::string error{};  // non-empty: the start failed (nothing left running)
};

// Starts `command`; `group_stop_fd` becomes descriptor 3 in the child,
// which first moves itself into cgroup `cgroup_dir` unless it is -1
// (contain/tree.hpp). The caller registers the process group in the kill
// list.
LaunchedCommand launch_command(const Command& command, int group_stop_fd, int cgroup_dir = -1);

// The executable `name` names: itself when it has a '/', else the first match
// in `path` (colon-separated). Empty if none is executable.
std::string resolve_executable(const std::string& name, const std::string& path);

}  // namespace multiproc::detail
