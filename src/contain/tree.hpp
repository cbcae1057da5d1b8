// One contained child's process tree, as its parent ends it (the parent's
// side; the child's side is ChildSetup::cgroup / own_group in
// start/child_setup.hpp). With the cgroup mechanism the child starts inside
// a cgroup of the session; with process_group it leads its own process group
// and is a child subreaper, so that orphans of its tree stay below it.
// Not thread-safe: ChildState guards it.
#pragma once

#include <sys/types.h>

#include <utility>

#include "contain/cgroup_dir.hpp"
#include "multiproc/containment.hpp"

namespace multiproc::detail::contain {

class Tree {
 public:
  Tree() = default;  // not contained
  Tree(Tree&& o) noexcept
      : mechanism_(std::exchange(o.mechanism_, Containment::none)),
        cgroup_(std::move(o.cgroup_)),
        child_(o.child_) {}
  Tree& operator=(Tree&& o) noexcept {
    mechanism_ = std::exchange(o.mechanism_, Containment::none);
    cgroup_ = std::move(o.cgroup_);
    child_ = o.child_;
    return *this;
  }
  // Ends nothing: a tree is ended by end(), explicitly (a copy inherited by
  // a forked child must never act on its parent's cgroups).
  ~Tree() = default;
  // A tree for a new child, with this process's mechanism.
  static Tree make();

  Containment mechanism() const noexcept { return mechanism_; }
  // The cgroup the child must start in (-1: none).
  int cgroup_fd() const noexcept { return cgroup_.fd(); }
  // The child leads its own process group (the fallback).
  bool own_group() const noexcept { return mechanism_ == Containment::process_group; }
  // The child's PID, once it runs.
  void attach(pid_t child) noexcept { child_ = child; }

  // Now: SIGKILL the child and every process of its tree. Async-signal-safe
  // with cgroups; the fallback reads /proc.
  void kill() noexcept;
  // The child has ended (not yet reaped): SIGKILL what is left of its tree,
  // wait for it (bounded), and give the cgroup back. Once.
  void end() noexcept;
  // Whether the kernel's OOM killer ended a process of the tree (with
  // cgroups and the memory controller); read before end().
  bool oom_killed() const;

 private:
  Containment mechanism_ = Containment::none;
  CgroupDir cgroup_;
  pid_t child_ = 0;
};

}  // namespace multiproc::detail::contain
