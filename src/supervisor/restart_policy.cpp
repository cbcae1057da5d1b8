// should_restart, BackoffState, IntensityWindow: see restart_policy.hpp.
#include "supervisor/restart_policy.hpp"

#include <csignal>

namespace multiproc::detail {

bool clean_exit(const std::optional<ExitStatus>& status) noexcept {
  if (!status) return false;
  return status->exited() ? status->value == 0 : status->value == SIGTERM;
}

bool should_restart(Restart restart, const std::optional<ExitStatus>& status) noexcept {
  switch (restart) {
    case Restart::permanent:
      return true;
    case Restart::temporary:
      return false;
    case Restart::transient:
      return !clean_exit(status);
  }
  return false;
}

std::chrono::milliseconds BackoffState::next_delay(const Backoff& b, Clock::duration ran) noexcept {
  if (ran >= b.reset_after) quick_restarts_ = 0;
  std::chrono::milliseconds delay{0};
  if (quick_restarts_ > 0) {
    delay = b.initial;
    for (int i = 1; i < quick_restarts_ && delay < b.max; ++i) delay *= 2;
    if (delay > b.max) delay = b.max;
  }
  if (quick_restarts_ < 64) ++quick_restarts_;
  return delay;
}

bool IntensityWindow::admit(Clock::time_point now, int max_restarts, Clock::duration period) {
  times_.push_back(now);
  while (!times_.empty() && now - times_.front() > period) times_.pop_front();
  return static_cast<long>(times_.size()) <= static_cast<long>(max_restarts);
}

}  // namespace multiproc::detail
