// A child started by spawn or forkserver, as its starter sees it: the PID,
// a pidfd (the starter is its parent and reaps it), and the starter's end of
// the child's channel (the task went out on it or with it; an exception
// report may come back on it).
#pragma once

#include <sys/types.h>

#include <span>
#include <string>

#include "start/child_signals.hpp"
#include "sys/unique_fd.hpp"

namespace multiproc::detail {

struct LaunchedChild {
  pid_t pid = 0;
  sys::UniqueFd pidfd;
  sys::UniqueFd channel;
};

// What every start method needs to start a child: the task message
// (task_message.hpp), the descriptors its arguments travel as, the signal
// the child gets when its parent dies (0: none), and its containment.
struct LaunchRequest {
  const std::string* message = nullptr;
  std::span<const int> descriptors;
  int death_signal = 0;
  ChildSignals signals{};
  // Containment (contain/tree.hpp): the cgroup directory the child starts in
  // (-1: none); whether it leads its own process group (the fallback).
  int cgroup_dir = -1;
  bool own_group = false;
};

}  // namespace multiproc::detail
