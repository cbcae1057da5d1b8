// The process-wide list of children started by multiproc and not yet
// reaped, whether or not a Process handle still refers to them. It reaps
// children whose handle was dropped, and at normal exit terminates daemon
// children and joins the others (bounded). Thread-safe.
#pragma once

#include <memory>
#include <vector>

#include "process/child_state.hpp"

namespace multiproc::detail {

void register_child(std::shared_ptr<ChildState> child);
void unregister_child(const ChildState* child) noexcept;
// Reaps children whose handle was dropped and that have ended.
void reap_detached_children();
// Children still running; reaps the ended ones (Python's active_children).
std::vector<std::shared_ptr<ChildState>> running_children();
// Child side, right after fork: the parent's children are not ours. The old
// list is abandoned, not destroyed (its descriptors are already closed).
void forget_children_after_fork() noexcept;

}  // namespace multiproc::detail
