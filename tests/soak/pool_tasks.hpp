// The pool part's tasks: what runs in the workers, and what each kind of
// task must end with. A task is one int64 "code": its id and its kind.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <exception>
#include <string>

#include "multiproc/exit_status.hpp"
#include "multiproc/queue.hpp"

namespace soak {

enum class Kind : std::uint8_t { ok, slow, throws, segv, abort, exit3, hang, alloc, count };
inline constexpr std::size_t kKinds = static_cast<std::size_t>(Kind::count);
const char* kind_name(Kind kind);

inline std::int64_t encode_task(std::int64_t id, Kind kind) {
  return id * 16 + static_cast<std::int64_t>(kind);
}
// The value a task that succeeds returns: distinct for every id below 998244353.
inline std::int64_t expected_value(std::int64_t id) {
  return id * 1000003 % 998244353 + 1;
}
std::string expected_message(std::int64_t id);

// What a worker reports when it starts a task: {id, its PID}.
using StartRecord = std::array<std::int64_t, 2>;

// The pool's initializer: keeps the queue where tasks report their start.
void worker_init(multiproc::Queue<StartRecord> started);
// The task: reports its start, then does what its kind says.
std::int64_t soak_task(std::int64_t code);

// How a task ended, as the parent saw it.
struct Seen {
  enum class What : std::uint8_t { value, remote, lost, timeout, other };
  What what = What::value;
  std::int64_t value = 0;
  pid_t pid = 0;
  multiproc::ExitStatus status{};
  std::string text{};
};
Seen classify(std::int64_t value, const std::exception_ptr& error);
// The summary's name of an outcome: "value", "WorkerLost(SIGSEGV)", ...
std::string outcome_label(const Seen& seen);
// Whether `seen` is what a task of `kind` with `id` must end with.
bool outcome_matches(Kind kind, std::int64_t id, const Seen& seen);

}  // namespace soak
