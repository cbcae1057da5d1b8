// A small helper process that nobody has to reap: started with a double fork
// (the middle process exits at once, so the helper is reparented to the
// nearest subreaper or init), every signal blocked, in its own session
// (setsid: terminal signals do not reach it). Its body may run only
// async-signal-safe code: the caller may be multi-threaded. The named
// shared-memory tracker and the containment guardian are such helpers.
#pragma once

#include <sys/types.h>

namespace multiproc::sys {

// The helper's work; never returns (ends with _exit).
using HelperBody = void (*)(void* arg) noexcept;

// Starts `body(arg)` in a detached helper named `name` (PR_SET_NAME);
// returns its PID or -errno. `arg` is read in the helper's own copy of
// memory: it must be valid until this call returns.
pid_t start_detached_helper(const char* name, HelperBody body, void* arg) noexcept;

}  // namespace multiproc::sys
