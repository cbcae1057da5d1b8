// The start methods' side of Process: how a child is started, by forking
// this process or by sending its target as a task (spawn, the program's
// forkserver, or a Pool's zygote). Process (include/multiproc/process.hpp)
// keeps the public contract and befriends ProcessLauncher, which alone
// reads and fills its private state here. Not thread-safe: one Process is
// started by one thread.
#pragma once

#include <sys/types.h>

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "contain/tree.hpp"
#include "multiproc/process.hpp"
#include "multiproc/start_method.hpp"
#include "start/launched_child.hpp"

namespace multiproc::detail {

class ChildState;
class ZygoteClient;

// What a spawn or forkserver start sends: the task message, the descriptors
// that travel with it, the child's death signal and signal policy, and its
// containment.
struct SendPlan {
  std::string message;
  std::vector<int> descriptors;
  int death_signal = 0;
  bool ignore_sigint = false;
  bool parent_decides_signals = false;
  contain::Tree tree;  // the child's, when it is contained

  LaunchRequest request() const {
    return {&message,         descriptors,
            death_signal,     {ignore_sigint, parent_decides_signals},
            tree.cgroup_fd(), tree.own_group()};
  }
};

class ProcessLauncher {
 public:
  // Starts `p`'s child with `method` (Process::start()). Throws as start().
  static std::shared_ptr<ChildState> launch(Process& p, StartMethod method);

  // Starts every process of `ps` through `zygote` at once (the requests are
  // pipelined): a Pool's replacement workers. Each must be unstarted, with
  // the forkserver method (the zygote serves that protocol).
  static void start_via_zygote(std::span<Process* const> ps, ZygoteClient& zygote);

 private:
  static std::shared_ptr<ChildState> start_forked(Process& p);
  static std::shared_ptr<ChildState> start_sent(Process& p, StartMethod method);
  static SendPlan plan_send(Process& p, StartMethod method);
  // The state of a child launched from plan_send()'s plan.
  static std::shared_ptr<ChildState> make_sent_child(Process& p, SendPlan& plan,
                                                     LaunchedChild& launched);
};

}  // namespace multiproc::detail
