// Putting every signal disposition back to its default in a new child, so
// that nothing the parent (or an ancestor) installed or ignored reaches it
// (RELIABILITY 19). Used between fork and user code or execve.
#pragma once

namespace multiproc::sys {

// Every signal 1..64 but SIGKILL and SIGSTOP to SIG_DFL, glibc's internal
// signals 32 and 33 included when they are ignored (glibc's sigaction
// refuses them; the raw system call does not). Async-signal-safe.
void reset_signal_dispositions() noexcept;

}  // namespace multiproc::sys
