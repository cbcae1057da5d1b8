// A process's descendants as /proc shows them (the fallback mechanism and a
// contained child's leftovers): /proc/<pid>/task/<pid>/children, where the
// processes the leader forked and every orphan a subreaper adopted land.
// Allocates; not async-signal-safe.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace multiproc::detail::contain {

// The PIDs listed in `file` (whitespace-separated: cgroup.procs, children).
std::vector<pid_t> pids_in(const std::string& file);

// Kills every descendant of `root` with `kill_one` (true when it killed),
// round after round until /proc shows none (a killed process's children
// move up to `root` when it is a subreaper; the next round finds them), at
// most 100 rounds. Returns how many it killed.
int kill_descendants(pid_t root, bool (*kill_one)(pid_t));

}  // namespace multiproc::detail::contain
