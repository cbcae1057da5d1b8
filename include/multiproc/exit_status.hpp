// multiproc/exit_status.hpp — how a child process ended.
//
//   mp::ExitStatus s = *p.exit_status();
//   if (s.killed()) std::cout << "killed by " << s.describe() << '\n';
//   int code = s.exitcode();  // 0..255, or -N for death by signal N (Python's rule)
//
// A plain value type: thread-safe to copy and read.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <string>

namespace multiproc {

struct ExitStatus {
  enum class Kind { exited, killed };

  Kind kind = Kind::exited;
  int value = 0;             // exit code (0..255) or signal number
  bool core_dumped = false;  // only when killed
  // Killed by the kernel's out-of-memory killer (its cgroup's memory.max, or
  // a system-wide shortage): known for a contained child where the memory
  // controller is enabled (docs/containment.md); false when unknown.
  bool oom_killed = false;

  static ExitStatus exited_with(int code) noexcept { return {Kind::exited, code, false}; }
  static ExitStatus killed_by(int signo, bool core = false) noexcept {
    return {Kind::killed, signo, core, false};
  }

  bool exited() const noexcept { return kind == Kind::exited; }
  bool killed() const noexcept { return kind == Kind::killed; }
  bool success() const noexcept { return exited() && value == 0; }

  // Python's Process.exitcode: the exit code, or -N for death by signal N.
  int exitcode() const noexcept { return killed() ? -value : value; }

  // "exited with code 3", "killed by signal 9 (SIGKILL)",
  // "killed by signal 11 (SIGSEGV), core dumped",
  // "killed by signal 9 (SIGKILL) by the kernel's out-of-memory killer".
  std::string describe() const;

  friend bool operator==(const ExitStatus&, const ExitStatus&) = default;
};

// "SIGKILL" for 9, "SIGRTMIN+3" for real-time signals, "signal 99" otherwise.
std::string signal_name(int signo);

}  // namespace multiproc
