// In a contained child: kill what it started and left running (a pool
// worker after each task, with PoolOptions::kill_task_leftovers). Safe by
// construction: it acts only when this process is where containment put it
// (its own cgroup "c<N>" of its parent's session, or the leader of its own
// process group), never on a cgroup or group it shares with others.
#pragma once

namespace multiproc::detail::contain {

// SIGKILLs every other process of this process's tree until none is left
// (its own children among them are reaped). Returns how many it killed (0
// when there were none or this process is not contained). Not
// async-signal-safe.
int kill_own_leftovers() noexcept;

}  // namespace multiproc::detail::contain
