// Forks a child that runs run_child(setup), from the right thread.
//
// The child's death signal (PR_SET_PDEATHSIG) fires when the *thread* that
// forked it exits, not the process. The main thread lives as long as the
// process, so it forks directly; any other thread hands the fork to a
// library thread that lives until exit, so a child never dies because the
// short-lived thread that started it ended.
#pragma once

#include <sys/types.h>

#include "start/child_setup.hpp"

namespace multiproc::detail {

// How many threads this process has, not counting the library's own threads
// that are safe to fork beside (they hold no lock while they wait).
int threads_unsafe_for_fork();

// Returns the child's PID. Throws ForkUnsafeError when the process has other
// threads and `allow_threads` is false; SystemError when fork fails.
pid_t fork_child(const ChildSetup& setup, bool allow_threads);

// Runs `job` (which starts a child and returns its PID or -errno) on the
// main thread when called there, else on the launcher thread, so that the
// child's parent thread lives as long as the process.
using LaunchJob = pid_t (*)(void* arg);
pid_t launch_from_long_lived_thread(LaunchJob job, void* arg);

// Child side, right after fork: the launcher thread does not exist here.
void forget_launcher_after_fork() noexcept;

}  // namespace multiproc::detail
