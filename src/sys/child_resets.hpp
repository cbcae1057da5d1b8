// What a freshly forked child must forget of its parent's state, for the
// parts of the library that sit above the code that forks. A module (the
// child registry, the exception-report slab) registers its reset once, at
// static initialisation; run_child() (start/child_setup.cpp) runs every
// registered reset right after each of our forks, whichever call made it
// (fork, _Fork or clone3, which run no pthread_atfork handlers). So the
// fork code needs no include of the modules above it. Registering is
// thread-safe; running is async-signal-safe (a fixed array, no allocation).
#pragma once

namespace multiproc::sys {

using ChildReset = void (*)() noexcept;

// Adds `reset` (at most 8 in all; more is a programming error and aborts).
// Returns true, so that a module can write
//   [[maybe_unused]] const bool g_registered = sys::on_fork_child(forget_x);
bool on_fork_child(ChildReset reset) noexcept;

// In the child, right after fork: runs the resets in registration order.
void run_child_resets() noexcept;

}  // namespace multiproc::sys
