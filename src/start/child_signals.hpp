// What a child does with the signals a terminal, a shell or an init system
// sends to the whole process group (docs/signals.md, "Where each signal
// goes"). Applied in the child before any signal is let in, under every
// start method: right after fork (run_child) or, for spawn, in init() of the
// new program, which starts with these signals blocked.
#pragma once

#include <signal.h>

namespace multiproc::detail {

struct ChildSignals {
  // SIGINT ignored: Ctrl-C is the parent's to act on.
  bool ignore_sigint = false;
  // The parent decides: SIGINT and SIGHUP ignored, and SIGTERM ends the child
  // only when its parent or the child itself sends it (terminate() works; a
  // `kill -TERM -PGID` does not). Pool workers and supervised function
  // children have it.
  bool parent_decides = false;
};

// Async-signal-safe; call with the signals concerned blocked.
void apply_child_signals(const ChildSignals& policy) noexcept;

// Adds the signals `policy` changes to `set`: a spawned child starts with
// them blocked until init() has applied the policy, so that one sent in
// between stays pending instead of acting with its default disposition.
void add_policy_signals(const ChildSignals& policy, sigset_t* set) noexcept;

}  // namespace multiproc::detail
