// The supervisor's restart decisions, kept apart from the run loop so that
// each rule is one small function: the restart table, the backoff delay of a
// crash loop, and the restart-intensity window. All times are steady_clock
// (CLOCK_MONOTONIC): a wall-clock jump changes nothing.
#pragma once

#include <chrono>
#include <deque>
#include <optional>

#include "multiproc/exit_status.hpp"
#include "multiproc/supervisor.hpp"

namespace multiproc::detail {

using Clock = std::chrono::steady_clock;

// The restart table (supervisor.hpp). `status` empty: the start failed,
// which counts as a crash.
bool should_restart(Restart restart, const std::optional<ExitStatus>& status) noexcept;

// Whether an exit is clean: exit code 0, or SIGTERM (asked to stop).
bool clean_exit(const std::optional<ExitStatus>& status) noexcept;

// One child's crash-loop state: the delay before its next restart.
class BackoffState {
 public:
  // Called when the child ended after running `ran` and will restart:
  // returns how long to wait first (0 for the first restart of a loop).
  std::chrono::milliseconds next_delay(const Backoff& b, Clock::duration ran) noexcept;

 private:
  int quick_restarts_ = 0;
};

// Restart times within a sliding window of `period`.
class IntensityWindow {
 public:
  // Records a restart at `now`; false when that makes more than
  // `max_restarts` within `period`.
  bool admit(Clock::time_point now, int max_restarts, Clock::duration period);
  void clear() noexcept { times_.clear(); }

 private:
  std::deque<Clock::time_point> times_;
};

}  // namespace multiproc::detail
