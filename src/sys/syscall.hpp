// The one seam for raw system calls. Every function returns a non-negative
// result or -errno, retries EINTR where retrying is correct (never for close),
// and touches no heap, so the child-side ones are async-signal-safe.
//
// Tests make a call fail on purpose with inject_failure(); each wrapper checks
// one relaxed atomic first, which costs nothing measurable.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <time.h>

#include <cstddef>

namespace multiproc::sys {

enum class Call : int { fork, pidfd_open, pidfd_send_signal, waitid, poll, mmap, count };

// The next `times` calls of `call` fail with `err` (tests only).
void inject_failure(Call call, int err, int times = 1) noexcept;
void clear_injected_failures() noexcept;

pid_t fork_process() noexcept;
// _Fork(): a fork that runs no pthread_atfork handlers and is itself
// async-signal-safe. Its child may only run async-signal-safe code (it may be
// the child of a multi-threaded process). Fails like fork_process (Call::fork).
// Under ThreadSanitizer it is fork(), which that runtime intercepts.
pid_t fork_bare() noexcept;
// The forkserver's fork: clone3 with CLONE_PARENT, so that the child is the
// caller's parent's child (that process can waitid it through *pidfd), and
// with the child's TID written to `tid_address` (glibc's thread record, from
// PR_GET_TID_ADDRESS) as glibc's fork does. Returns 0 in the child, its PID
// in the caller. The child must call set_robust_list itself. With
// `cgroup_dir` >= 0 the child starts in that cgroup (CLONE_INTO_CGROUP).
// Fails like fork_process (Call::fork).
pid_t clone_sibling(int* pidfd, int* tid_address, int cgroup_dir = -1) noexcept;
int pidfd_open(pid_t pid) noexcept;
int pidfd_send_signal(int pidfd, int signo) noexcept;
// waitid(P_PIDFD). EINTR is retried.
int waitid_pidfd(int pidfd, siginfo_t* info, int options) noexcept;
// Waits until `fd` has one of `events`, or `timeout` passes (nullptr: no limit).
// Returns 1 when ready, 0 on timeout, -EINTR when a signal interrupted it (the
// caller recomputes its timeout), -errno otherwise.
int poll_one(int fd, short events, const timespec* timeout) noexcept;
// An anonymous MAP_SHARED mapping, zero-filled; nullptr and errno on failure.
void* map_shared(std::size_t bytes) noexcept;
void unmap(void* address, std::size_t bytes) noexcept;
// close(2) once: on Linux the descriptor is gone even when EINTR is returned.
int close_fd(int fd) noexcept;
pid_t current_tid() noexcept;
// Closes every descriptor from `from` up but those of `keep` (sorted,
// ascending, each at least `from`). Async-signal-safe.
void close_all_except(unsigned from, const int* keep, std::size_t count) noexcept;
// Writes all of `len` bytes unless an error occurs; EINTR retried.
long write_all(int fd, const void* data, std::size_t len) noexcept;
// Reads up to size - 1 bytes of file `path` (relative to directory `dir`, or
// AT_FDCWD) into `buf`, NUL-terminated, with one read(2) (files of /proc
// and cgroupfs hand out a snapshot that way): the length (0 for an empty
// file) or -errno. EINTR retried. Async-signal-safe.
long read_small_file(int dir, const char* path, char* buf, std::size_t size) noexcept;

}  // namespace multiproc::sys
