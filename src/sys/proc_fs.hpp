// Reading /proc: the one place that knows its files and their formats
// (/proc/<pid>/stat, statm, status, maps, /proc/sys). Every other part of
// the library asks here. The stat readers and task_has_ended() read into a
// stack buffer and are async-signal-safe; functions that return or take a
// std::string allocate. All are thread-safe; none throws.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace multiproc::sys::proc {

// What the kernel receives as the executable to re-run ourselves (spawn).
inline constexpr const char* kSelfExe = "/proc/self/exe";

// Fields of a stat file (proc(5)), read after the command name's last ')'.
struct TaskStat {
  char state = '\0';                  // field 3: R, S, D, Z, X...
  long threads = 0;                   // field 20: num_threads
  unsigned long long start_time = 0;  // field 22: clock ticks after boot
};

// /proc/<tid>/stat, /proc/self/stat, /proc/thread-self/stat; 0 or -errno.
int read_task_stat(pid_t tid, TaskStat& out) noexcept;
int read_self_stat(TaskStat& out) noexcept;
int read_thread_self_stat(TaskStat& out) noexcept;

// Whether /proc is mounted (looked at once).
bool mounted() noexcept;

// Whether task (thread or process) `tid` has ended: it is a zombie, or /proc
// has no such task and kill(tid, 0) agrees (it sees through hidepid; it is
// all there is when /proc is not mounted). Errs towards "alive" when it
// cannot tell. When the task lives and `start_time` is not null, it gets
// the task's start time (0 when unknown).
bool task_has_ended(pid_t tid, unsigned long long* start_time = nullptr) noexcept;

// Threads of this process, those a sanitizer runtime adds left out; -errno.
int thread_count() noexcept;

// Resident memory of process `pid` (/proc/<pid>/statm); 0 when unknown.
std::uint64_t resident_bytes(pid_t pid) noexcept;

// This process's peak resident memory (VmHWM of /proc/self/status): memory
// a task grew and freed still counts. 0 when unknown.
std::uint64_t peak_resident_bytes() noexcept;

// Whether process `pid` has the file `real_path` (a realpath) mapped.
bool has_mapped(pid_t pid, const std::string& real_path);

// /proc/sys/kernel/pid_max, or the kernel's ceiling (PID_MAX_LIMIT, 2^22).
std::size_t pid_max() noexcept;

}  // namespace multiproc::sys::proc
