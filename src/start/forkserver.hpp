// The forkserver start method, requester side: one zygote per process
// (zygote.hpp), started by init(argc, argv, {.forkserver = true}) or at the
// first forkserver start while the process is still single-threaded.
// Thread-safe: requests from several threads are served one at a time.
#pragma once

#include <sys/types.h>

#include <optional>

#include "start/launched_child.hpp"

namespace multiproc::detail {

// Starts the zygote now (no-op if running). Throws UsageError when the process
// has other threads, Error when the zygote fails before serving.
void start_forkserver(void (*preload)());
// The preload hook a lazily started zygote runs.
void set_forkserver_preload(void (*preload)()) noexcept;
// Asks the zygote for a child. Starts the zygote first if needed (see above).
// Throws Error when the zygote died (the next call starts a new one).
LaunchedChild forkserver_child(const LaunchRequest& request);
// The zygote's PID while it runs in this process's service.
std::optional<pid_t> forkserver_pid();
// Child side, right after fork (async-signal-safe): this process's
// forkserver is not the parent's.
void forget_forkserver_after_fork() noexcept;
// Ends the zygote and reaps it (bounded: 1 s, then SIGKILL). Run at exit.
void stop_forkserver() noexcept;
// As stop_forkserver(), but only for a zygote this process started itself
// (a forkserver child's own, say); creates nothing. Run by a forked child
// as it leaves (exit_child), since _exit skips atexit handlers.
void stop_own_forkserver() noexcept;

}  // namespace multiproc::detail
