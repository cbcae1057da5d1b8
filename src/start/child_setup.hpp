// What a freshly forked child does before it runs user code, and how it
// leaves. Everything in run_child() up to `entry` is async-signal-safe: no
// allocation, no locks, no exceptions. The parent prepares ChildSetup.
#pragma once

#include <sys/types.h>

#include <cstddef>

#include "start/child_signals.hpp"
#include "start/identity.hpp"

namespace multiproc::detail {

struct ChildSetup {
  pid_t parent_pid = 0;
  int death_signal = 0;           // 0: the child does not die with its parent
  ChildSignals signals{};         // applied before any signal is let in
  const int* keep_fds = nullptr;  // sorted, unique, all greater than 2
  std::size_t keep_count = 0;
  const IdentitySeed* identity = nullptr;
  // Containment (contain/tree.hpp): the cgroup directory the child moves
  // itself into first (-1: none, or it was cloned into it), and whether it
  // leads its own process group as a child subreaper (the fallback).
  int enter_cgroup = -1;
  bool own_group = false;
  int (*entry)(void* context) = nullptr;  // the child's work; returns the exit code
  void* context = nullptr;
};

// A contained child that cannot enter its cgroup does not run uncontained:
// it writes why to stderr and exits with this code.
inline constexpr int kContainmentFailedExit = 126;

// Runs in the child right after fork, with every signal blocked. Never returns.
[[noreturn]] void run_child(const ChildSetup& setup) noexcept;

// Flushes stdio (and coverage counters when instrumented), then _exit(code).
[[noreturn]] void exit_child(int code) noexcept;

// Tests only: called in the child before the death signal is armed, so a
// test can kill the parent inside that window.
extern void (*g_test_hook_before_death_signal)();

}  // namespace multiproc::detail
