// The spawn start method, parent side: executes this program again
// (/proc/self/exe, with the argv saved by init) through posix_spawn, which is
// safe from any thread. The child finds, in its environment,
//   MULTIPROC_SPAWN=<version>,<parent pid>,<death signal>,<descriptor count>,
//                   <signal policy: encode_spawn_signals, 0 to 3>,
//                   <the program's key, 64 hex digits: program_key.hpp>
// its channel at descriptor 3 and its arguments' descriptors at 4, 5, ...;
// init (init.cpp) reads the task from the channel and runs it.
#pragma once

#include "start/launched_child.hpp"

namespace multiproc::detail {

inline constexpr int kSpawnChannelFd = 3;
inline constexpr const char* kSpawnEnv = "MULTIPROC_SPAWN";

// The child's signal policy as the variable's last field: bit 0 ignores
// SIGINT, bit 1 leaves group signals to the parent.
constexpr int encode_spawn_signals(const ChildSignals& s) {
  return (s.ignore_sigint ? 1 : 0) | (s.parent_decides ? 2 : 0);
}
constexpr ChildSignals decode_spawn_signals(int bits) {
  return {(bits & 1) != 0, (bits & 2) != 0};
}

// Throws UsageError without init, SystemError when the kernel refuses.
LaunchedChild spawn_child(const LaunchRequest& request);

}  // namespace multiproc::detail
