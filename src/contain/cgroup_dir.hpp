// One cgroup v2 directory the library made, and what it does with it:
// enter a process, ask whether anything runs in it, kill everything in it
// (cgroup.kill), wait until it is empty, read its memory.events, remove it.
// Every call is a system call or two on the cgroup's own files; none
// allocates except memory_events(). Not thread-safe: one owner at a time.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "contain/memory_events.hpp"
#include "sys/deadline.hpp"
#include "sys/unique_fd.hpp"

namespace multiproc::detail::contain {

class CgroupDir {
 public:
  CgroupDir() = default;

  // Makes directory `name` below the directory `parent` (mkdirat) and opens
  // it; 0 or -errno.
  static int create(int parent, const char* name, CgroupDir& out) noexcept;
  // Opens the existing directory `name` below `parent`; 0 or -errno.
  static int open(int parent, const char* name, CgroupDir& out) noexcept;

  bool valid() const noexcept { return dir_.get() >= 0; }
  // The directory itself: CLONE_INTO_CGROUP takes it.
  int fd() const noexcept { return dir_.get(); }
  const char* name() const noexcept { return name_; }

  // Moves process `pid` (0: the caller) into the cgroup through
  // cgroup.procs. Async-signal-safe. Slow on purpose in the kernel (an RCU
  // grace period: ~0.7 ms on this project's host), so the library clones
  // into the cgroup instead where it makes the process itself.
  int enter(pid_t pid) const noexcept { return enter_pid(dir_.get(), pid); }
  static int enter_pid(int dir, pid_t pid) noexcept;
  // Whether any process is in the cgroup or below (cgroup.events).
  bool populated() const noexcept;
  // SIGKILLs every process in the cgroup and below at once (cgroup.kill,
  // Linux 5.14); before that kernel, every PID of cgroup.procs until none
  // is left. 0 or -errno. Async-signal-safe.
  int kill() noexcept;
  // Whether kill() was used. Linux 6.18 (at least) kills at birth every
  // process later cloned into such a cgroup with CLONE_INTO_CGROUP (its
  // kill sequence no longer matches the cloning process's cgroup's), so a
  // killed cgroup is never given to another child.
  bool was_killed() const noexcept { return killed_; }
  // Waits until nothing is in the cgroup (a killed process leaves it when it
  // has exited, before it is reaped), or the deadline passes.
  bool wait_empty(const sys::Deadline& deadline) const noexcept;
  // memory.events (zero when the memory controller is not enabled here).
  MemoryEvents memory_events() const;
  // Writes memory.max; -errno (ENOENT without the memory controller).
  int set_memory_max(std::uint64_t bytes) const noexcept;
  // Removes the (empty) directory: 0 or -errno (EBUSY while populated).
  int remove(int parent) noexcept;

 private:
  sys::UniqueFd dir_;
  char name_[32] = {};
  bool killed_ = false;
};

// Writes `text` to file `file` of directory `dir`; 0 or -errno.
// Async-signal-safe.
int write_cgroup_file(int dir, const char* file, const char* text) noexcept;

// Waits until the cgroup at directory `dir` is empty (cgroup.events says
// "populated 0"; it signals a change with POLLPRI), or the deadline passes:
// true when empty. Async-signal-safe.
bool wait_cgroup_empty(int dir, const sys::Deadline& deadline) noexcept;

}  // namespace multiproc::detail::contain
