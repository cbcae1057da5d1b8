// multiproc/init.hpp — the first statement of main for spawn and forkserver.
//
//   int main(int argc, char** argv) {
//     multiproc::init(argc, argv);   // or init(argc, argv, {.forkserver = true})
//     ...
//   }
//
// In a child started by the spawn method (the same program executed again),
// init runs the requested function and exits the process with its exit code:
// the rest of main never runs in the child. Static constructors have run, as
// in any program.
//
// In any other process init returns at once. Its cost there: one getenv and a
// copy of argv (kept for spawn), about a microsecond; with
// `forkserver = true`, also one fork of the still single-threaded process to
// start the forkserver's zygote (about a third of a millisecond here).
//
// Using spawn or forkserver without init is a UsageError that says so. fork
// does not need init.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

namespace multiproc {

struct InitOptions {
  // Starts the forkserver now, while the process is single-threaded.
  // Otherwise it starts at the first forkserver use, which is refused
  // (UsageError) once the process has other threads.
  bool forkserver = false;
  // Runs once in the forkserver's zygote before it serves: load what every
  // child will need (open a library, warm a cache) so children inherit it.
  // An exception or a crash there makes every forkserver start fail.
  void (*forkserver_preload)() = nullptr;
};

// Call once, first thing in main, with main's own arguments. Throws
// UsageError when called twice or when the forkserver cannot start.
void init(int argc, char** argv, const InitOptions& options = {});

// Whether init has run in this process.
bool initialized() noexcept;

}  // namespace multiproc
