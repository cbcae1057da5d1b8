// The spawn start method, parent side: executes this program again
// (/proc/self/exe, with the argv saved by init) through posix_spawn, which is
// safe from any thread. The child finds, in its environment,
//   MULTIPROC_SPAWN=<version>,<parent pid>,<death signal>,<descriptor count>,
//                   <ignore SIGINT: 0 or 1>
// its channel at descriptor 3 and its arguments' descriptors at 4, 5, ...;
// init (init.cpp) reads the task from the channel and runs it.
#pragma once

#include "start/launched_child.hpp"

namespace multiproc::detail {

inline constexpr int kSpawnChannelFd = 3;
inline constexpr const char* kSpawnEnv = "MULTIPROC_SPAWN";

// Throws UsageError without init, SystemError when the kernel refuses.
LaunchedChild spawn_child(const LaunchRequest& request);

}  // namespace multiproc::detail
