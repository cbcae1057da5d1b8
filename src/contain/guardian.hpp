// The guardian: ends every tree of this process's containment session once
// the process has ended, however it ended (SIGKILL included, when nothing of
// ours runs any more). A detached helper (sys/detached_helper.hpp) that
// waits on this process's pidfd, then writes cgroup.kill of the session
// directory (every process below it dies: the children's trees, nested
// sessions of contained children included), waits until the session is
// empty and removes its directories, deepest first. After a clean exit the
// library has removed them already and the guardian finds nothing to do.
// Bound: the trees are SIGKILLed within milliseconds of the death.
#pragma once

#include <sys/types.h>

namespace multiproc::detail::contain {

// `own_dir`: the directory of the cgroup holding the session; `session`: the
// session's directory, named `session_name` in `own_dir`. Returns the
// guardian's PID or -errno.
pid_t start_guardian(int own_dir, int session, const char* session_name) noexcept;

// Removes every directory below `dir` (open), deepest first: 0 or the first
// -errno (EBUSY while a cgroup is populated). Async-signal-safe.
int remove_subdirectories(int dir) noexcept;

}  // namespace multiproc::detail::contain
