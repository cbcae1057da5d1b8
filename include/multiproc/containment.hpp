// multiproc/containment.hpp — a child's whole process tree ends with it.
//
//   mp::ProcessOptions o{.contain = true};     // Pool workers and supervised
//   mp::Process p(o, run_tool);                // children are contained by default
//   p.start();
//   p.kill();        // the child and everything it started, setsid'd or not
//   std::cout << mp::to_string(mp::containment_mechanism()) << '\n';  // "cgroup"
//
// A contained child, and every process it starts at any depth, end together:
// when the child is killed, when it ends (its leftovers are SIGKILLed as it
// is reaped), and when this process ends, SIGKILL included. The mechanism is
// decided once per process, at the first contained child:
//
//   cgroup         one cgroup v2 per child below this process's own cgroup,
//                  ended with cgroup.kill: nothing escapes (setsid, double
//                  fork, a daemon). Needs write access to the own cgroup
//                  (root, or a cgroup delegated to the user: docs/containment.md).
//   process_group  the fallback: the child leads its own process group and
//                  is a child subreaper; a kill reaches its group and every
//                  descendant it still has. A setsid'd helper whose parent
//                  chain died first escapes.
//   none           nothing beyond the child itself.
//
// The environment variable MULTIPROC_CONTAINMENT=cgroup|process_group|none
// read at that first use chooses instead (cgroup when it cannot be had:
// process_group). docs/containment.md has the bounds, costs and permissions.
//
// Thread safety: containment_mechanism() may be called from any thread.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <string_view>

namespace multiproc {

enum class Containment { cgroup, process_group, none };

// The mechanism this process uses for contained children (decided at the
// first call or the first contained child, then fixed).
Containment containment_mechanism();

// "cgroup", "process_group", "none".
std::string_view to_string(Containment c) noexcept;

}  // namespace multiproc
