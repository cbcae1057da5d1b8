// multiproc/start_method.hpp — how a child process is started.
//
//   fork        the child is a copy of the parent (fast; any callable; refused
//               when the parent has other threads, see process.hpp).
//   spawn       the program is executed again (/proc/self/exe, same argv) and
//               runs only the requested function: safe from any thread.
//   forkserver  a single-threaded zygote, forked early, forks each child on
//               request: safe from any thread, and far faster than spawn.
//
// spawn and forkserver need multiproc::init(argc, argv) as the first
// statement of main (init.hpp), and a callable another process can find: a
// function or a capture-less lambda, with serializable or shared-object
// arguments (see docs/start-methods.md).
//
// The default is fork, as on Python for Linux before 3.14: it is the fastest
// and accepts any callable, and the thread check turns its one danger into a
// clear error instead of a deadlock. set_start_method changes it.
//
// In a child started by multiproc, the default is the method that started
// it, as in Python: a spawned child spawns its own children, a forkserver
// child uses the forkserver (its own zygote, started at its first forkserver
// start while it is single-threaded), a forked child forks. The inherited
// method counts as set: set_start_method there needs `force`, as in Python.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <optional>
#include <string_view>
#include <vector>

namespace multiproc {

enum class StartMethod { fork, spawn, forkserver };

// "fork", "spawn", "forkserver".
std::string_view to_string(StartMethod method) noexcept;
// The method named `name`; nullopt for another name.
std::optional<StartMethod> parse_start_method(std::string_view name) noexcept;

// The method used where none is given (ProcessOptions::start_method unset,
// get_context()). Python raises when it is set twice; so does this, unless
// `force`. Throws UsageError. Thread-safe.
void set_start_method(StartMethod method, bool force = false);
StartMethod get_start_method() noexcept;
// Every start method this platform offers, the default first (Python's
// get_all_start_methods()). On Linux: all three.
std::vector<StartMethod> get_all_start_methods();

}  // namespace multiproc
