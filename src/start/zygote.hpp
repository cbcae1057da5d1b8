// The forkserver's zygote: a single-threaded copy of the program, forked
// early, that forks each forkserver child on request (forkserver_protocol.hpp).
//
// It forks with clone3(CLONE_PARENT), so a child is the requester's own
// child: the requester holds its pidfd, waits for it and learns its exact
// exit status, and the child's death signal follows the requester. glibc's
// per-thread records are repaired as glibc's fork would: the TID through
// CLONE_CHILD_SETTID at glibc's own address (PR_GET_TID_ADDRESS), the robust
// mutex list with set_robust_list. pthread_atfork handlers do not run in
// these children (nothing is locked: the zygote is idle and single-threaded).
//
// The zygote ignores SIGINT (the parent decides what Ctrl-C does), dies with
// its parent (SIGKILL), and exits at the end of its control socket.
#pragma once

#include <sys/types.h>

#include <cstddef>

#include "start/child_setup.hpp"

namespace multiproc::detail {

// Forks children as siblings of the caller (clone3 with CLONE_PARENT: they
// are the caller's parent's children), repairing glibc's per-thread records
// as glibc's fork does. Only for a single-threaded caller.
class SiblingForker {
 public:
  // Reads glibc's TID address and robust list head. 0, or the errno.
  int prepare() noexcept;
  // Runs run_child(setup) in the child, started in cgroup `cgroup_dir` when
  // it is not -1. Returns its PID (and *pidfd), or -errno.
  pid_t fork(const ChildSetup& setup, int* pidfd, int cgroup_dir = -1) const noexcept;

 private:
  int* tid_address_ = nullptr;
  void* robust_head_ = nullptr;
  std::size_t robust_length_ = 0;
};

struct ZygoteConfig {
  int control = -1;
  void (*preload)() = nullptr;
};

// The zygote's entry (run by run_child in the freshly forked zygote). Sends a
// hello (a ForkReply with its PID, or the errno of what failed) once ready.
int zygote_main(void* config);

}  // namespace multiproc::detail
