// One started instance of a supervised child, function or command, behind
// one interface: its pidfd to poll, a non-blocking reap, and the two stop
// signals. Reaping goes only through the pidfd (Process for functions,
// waitid(P_PIDFD) for commands): never waitpid(-1).
//
// Not thread-safe: owned by the supervisor's run loop.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "multiproc/exit_status.hpp"
#include "multiproc/supervisor.hpp"

namespace multiproc::detail {

class RunningChild {
 public:
  virtual ~RunningChild() = default;
  virtual pid_t pid() const noexcept = 0;
  // Readable once the child ended.
  virtual int pollfd() const noexcept = 0;
  // The exit status if the child ended (it is then reaped); nullopt if it runs.
  virtual std::optional<ExitStatus> try_reap() = 0;
  // SIGTERM (a command: to its whole process group).
  virtual void terminate() noexcept = 0;
  // SIGKILL (a command: to its whole process group).
  virtual void kill() noexcept = 0;
};

struct StartResult {
  std::unique_ptr<RunningChild> child{};
  std::string error{};  // non-empty: the start failed
};

// Starts one instance of `spec`. Never throws: a failed start is reported.
StartResult start_child(const ChildSpec& spec, int group_stop_fd);

}  // namespace multiproc::detail
