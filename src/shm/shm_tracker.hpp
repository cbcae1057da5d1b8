// The tracker of a named shared memory segment: a small process that removes
// the segment's name from /dev/shm once no process uses it any more, even
// when every user was SIGKILLed (Python's resource_tracker, without its
// flaws: it shares nothing with its users but a pipe, and never runs Python
// or any other code that could take a lock).
//
// Every user holds a write end of a pipe whose read end only the tracker
// holds. The kernel closes a process's descriptors however it dies, so when
// the last write end is gone the tracker's read() returns end-of-file. The
// tracker then unlinks the path if it still names the segment it was given
// (same device and inode: a newer segment of the same name is left alone),
// and exits.
//
// The tracker is a detached helper (sys/detached_helper.hpp: nobody's child
// to reap, async-signal-safe code only, every signal blocked, its own
// session), so it may be started from a multi-threaded process. It closes
// every other descriptor and changes to "/". Only SIGKILL stops it early;
// the name then stays until unlinked.
#pragma once

#include <sys/types.h>

#include "sys/unique_fd.hpp"

namespace multiproc::detail {

struct ShmTracker {
  ShmTracker() = default;
  ShmTracker(ShmTracker&&) noexcept = default;
  ShmTracker& operator=(ShmTracker&&) noexcept = default;
  // Closes the write end only if it is still this pipe's: in a forked child
  // that did not receive it, the number was closed and may name another file.
  ~ShmTracker();

  bool write_end_is_open() const noexcept;

  sys::UniqueFd write_end;  // close-on-exec; the users' share of the pipe
  pid_t pid = 0;            // the tracker (not a child of the caller)
  dev_t device = 0;         // identify the pipe behind write_end
  ino_t inode = 0;
};

// Starts the tracker of the segment open at `segment_fd`, whose name is the
// file `path` ("/dev/shm/<name>"). Returns 0, or -errno (nothing is left
// running then).
int start_shm_tracker(int segment_fd, const char* path, ShmTracker& out) noexcept;

}  // namespace multiproc::detail
