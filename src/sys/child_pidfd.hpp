// Opening a pidfd for a child we just started. The PID names our own
// unreaped child, so it cannot have been reused, and the pidfd names that
// child for good. Should pidfd_open fail (EMFILE, say), the child must not
// live on unowned: it is killed (SIGKILL) and reaped, so neither a running
// orphan nor a zombie is left. Async-signal-safe, no allocation.
#pragma once

#include <sys/types.h>

namespace multiproc::sys {

// The pidfd (close-on-exec), or -errno of pidfd_open after the child was
// killed and reaped (its wait retried on EINTR). `pid` must be the caller's
// unreaped child that nobody else reaps (no waitpid(-1), SIGCHLD not ignored).
int open_child_pidfd(pid_t pid) noexcept;

}  // namespace multiproc::sys
