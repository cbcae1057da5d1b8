// This process's containment session. The mechanism is decided once (the
// MULTIPROC_CONTAINMENT variable, else cgroup when this process may make
// cgroups below its own, else process_group). With cgroups, the session is
// the directory "multiproc-<pid>" below the own cgroup, made with its
// guardian (guardian.hpp) at the first decision; each contained child gets
// a cgroup "c<N>" in it, and an emptied one is kept for the next child (up
// to a few, and never one that was killed: cgroup_dir.hpp), which saves a
// mkdir and an rmdir per child. The guardian
// removes the session once this process has ended.
//
// A forked child forgets its parent's session: its own contained children
// get a session below its own cgroup, that is inside its parent's tree.
// Thread-safe.
#pragma once

#include "contain/cgroup_dir.hpp"
#include "multiproc/containment.hpp"

namespace multiproc::detail::contain {

Containment session_mechanism();

// An empty cgroup of the session for one child; invalid when the mechanism
// is not cgroup or none can be made (the child then falls back to
// process_group).
CgroupDir lease_cgroup();

// Takes back a cgroup whose processes have all ended: kept for the next
// child, or removed.
void return_cgroup(CgroupDir dir) noexcept;

// The guardian of this process's session (0: none). A child of the nearest
// subreaper above this process, if there is one.
pid_t session_guardian() noexcept;

// SIGKILLs every contained tree of this process at once (cgroup.kill of the
// session), for the signal bridge's escalation; nothing without a session.
// Async-signal-safe.
void kill_session_trees() noexcept;

}  // namespace multiproc::detail::contain
