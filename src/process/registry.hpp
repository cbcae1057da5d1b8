// The process-wide list of children started by multiproc whose handle has
// not reaped them yet, for active_children() and for the exit handler, which
// applies Python's rule to the children still running at normal exit.
// Thread-safe.
#pragma once

#include <memory>
#include <vector>

#include "process/child_state.hpp"

namespace multiproc::detail {

void register_child(std::shared_ptr<ChildState> child);
void unregister_child(const ChildState* child) noexcept;
// Children still running (it reaps those that ended, as Python's
// active_children does).
std::vector<std::shared_ptr<ChildState>> running_children();
// Python's exit rule, applied to `children`: daemons are terminated (SIGTERM,
// then SIGKILL after the grace period); the others joined for at most the
// exit join timeout, then stopped the same way. Bounded; reaps them all.
void end_children(const std::vector<std::shared_ptr<ChildState>>& children);
// Child side, right after fork (registered with sys/child_resets.hpp): the
// parent's children are not ours. The old list is abandoned, not destroyed
// (its descriptors are already closed).
void forget_children_after_fork() noexcept;

}  // namespace multiproc::detail
