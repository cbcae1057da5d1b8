// What the rest of the library needs to know about the signal bridge.
#pragma once

namespace multiproc::detail {

// Threads of the signal bridge that a fork may ignore (0 or 1): the watcher
// only waits on a pipe, holding no lock, and the child does not keep it.
int quiet_bridge_threads() noexcept;

// In a forked child: no bridge is installed there (dispositions were reset).
void forget_signal_bridge_after_fork() noexcept;

}  // namespace multiproc::detail
