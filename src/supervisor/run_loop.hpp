// The supervisor's run loop: one thread, one poll over the wake-up eventfd
// (stop requests), the group-stop socket and every running child's pidfd;
// restart delays as the poll's timeout. Every deadline is on steady_clock
// (CLOCK_MONOTONIC).
//
// Not thread-safe: one RunLoop per run(), used by the thread that runs it.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "multiproc/supervisor.hpp"
#include "supervisor/group_channel.hpp"
#include "supervisor/restart_policy.hpp"
#include "supervisor/running_child.hpp"

namespace multiproc::detail {

// One child of the group, across its restarts.
struct Slot {
  explicit Slot(ChildSpec s) : spec(std::move(s)) {}
  ChildSpec spec;
  std::unique_ptr<RunningChild> running{};
  std::optional<Clock::time_point> restart_at{};  // a start is due then
  bool done = false;                              // ended for good
  int attempts = 0;                               // starts tried
  Clock::time_point started_at{};
  BackoffState backoff{};
  ChildReport report{};
};

class RunLoop {
 public:
  RunLoop(const SupervisorOptions& options, std::vector<Slot>& slots, GroupChannel& channel,
          int wake_fd);
  SupervisorReport run();

 private:
  // run_loop.cpp
  void poll_once();
  bool wake_requested() const;
  void handle_group_stop();
  void start_due();
  void start_slot(std::size_t i);
  void handle_exit(std::size_t i, pid_t pid, std::optional<ExitStatus> status,
                   const std::string& error);
  void restart_group(std::size_t failed, Clock::time_point at);
  void check_auto_shutdown(std::size_t i, const std::optional<ExitStatus>& status);
  void end(StopReason reason, std::string child = {}, pid_t pid = 0, std::string message = {});
  std::string name_of_pid(pid_t pid) const;
  // shutdown.cpp
  void stop_slot(std::size_t i, bool during_shutdown, bool restarted);
  void shutdown();
  void record(std::size_t i, pid_t pid, const std::optional<ExitStatus>& status,
              const std::string& error, bool restarted, bool during_shutdown);

  const SupervisorOptions& options_;
  std::vector<Slot>& slots_;
  GroupChannel& channel_;
  int wake_fd_;
  IntensityWindow intensity_;
  bool stopping_ = false;
  SupervisorReport report_;
};

}  // namespace multiproc::detail
