// The kill list: every live child of this process, as the escalation path of
// the signal bridge (a second Ctrl-C) must kill them from inside a signal
// handler. Entries are pidfds (never a bare PID, which could be reused) and
// the process groups of supervised commands, whose own children must go too.
//
// Lock-free: a fixed array of atomic slots, so that kill_list_kill_all() is
// async-signal-safe. When the array is full an entry is not recorded; that
// child still dies with this process through its death signal.
#pragma once

#include <sys/types.h>

namespace multiproc::detail {

void kill_list_add_pidfd(int pidfd) noexcept;
void kill_list_remove_pidfd(int pidfd) noexcept;
void kill_list_add_group(pid_t pgid) noexcept;
void kill_list_remove_group(pid_t pgid) noexcept;

// SIGKILL to every entry. Async-signal-safe.
void kill_list_kill_all() noexcept;

// In a forked child: the entries are the parent's children, not ours.
void forget_kill_list_after_fork() noexcept;

}  // namespace multiproc::detail
