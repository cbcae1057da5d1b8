// Why the kernel ended a process in a cgroup: its memory.events counters.
// "oom_kill" counts the cgroup's processes the OOM killer chose, both for
// the cgroup's own memory.max and for a system-wide shortage. The parser
// takes the file's text, so tests feed it recorded contents (this
// project's build host has the memory controller on cgroup v1).
#pragma once

#include <cstdint>
#include <string_view>

namespace multiproc::detail::contain {

struct MemoryEvents {
  std::uint64_t max = 0;       // times usage hit memory.max
  std::uint64_t oom = 0;       // times the cgroup ran out of memory
  std::uint64_t oom_kill = 0;  // processes the OOM killer ended
};

// The counters of a memory.events text; absent keys stay 0.
MemoryEvents parse_memory_events(std::string_view text) noexcept;

}  // namespace multiproc::detail::contain
