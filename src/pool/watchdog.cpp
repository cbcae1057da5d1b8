// The watchdogs (watchdog.hpp).
#include "pool/watchdog.hpp"

#include <algorithm>
#include <string>

namespace multiproc::detail::pool {

void Watchdog::check(const std::vector<std::unique_ptr<WorkerSlot>>& workers,
                     std::int64_t now_ns) const {
  check_timeouts(workers, now_ns);
  check_memory(workers);
}

void Watchdog::check_timeouts(const std::vector<std::unique_ptr<WorkerSlot>>& workers,
                              std::int64_t now_ns) const {
  if (!task_timeout_) return;
  for (const auto& w : workers) {
    if (w->kill != KillReason::none) continue;
    WorkerHandle::Running r = w->handle->running();
    if (r.task != 0 && now_ns - r.since_ns > task_timeout_->count()) {
      w->stop_now(KillReason::timeout);
    }
  }
}

void Watchdog::check_memory(const std::vector<std::unique_ptr<WorkerSlot>>& workers) const {
  if (max_memory_ == 0) return;
  for (const auto& w : workers) {
    if (w->kill != KillReason::none || w->handle->running().task == 0) continue;
    std::uint64_t rss = w->handle->resident_bytes();
    if (rss > max_memory_) {
      w->stop_now(KillReason::memory, "was killed: resident memory " + std::to_string(rss >> 20) +
                                          " MiB exceeded max_memory_per_child (" +
                                          std::to_string(max_memory_ >> 20) + " MiB)");
    }
  }
}

int Watchdog::next_check_ms(const std::vector<std::unique_ptr<WorkerSlot>>& workers,
                            std::int64_t now_ns) const {
  int ms = -1;
  auto at_most = [&ms](int v) { ms = ms < 0 ? v : std::min(ms, v); };
  bool busy = false;
  bool watching = task_timeout_ || max_memory_ != 0;
  for (const auto& w : workers) {
    if (w->kill != KillReason::none) continue;
    WorkerHandle::Running r = w->handle->running();
    if (r.task == 0) {
      // Dispatched but not started yet: look again soon to arm its deadline.
      if (watching && !w->inflight.empty()) at_most(kStartPollMs);
      continue;
    }
    busy = true;
    if (!task_timeout_) continue;
    std::int64_t left = r.since_ns + task_timeout_->count() - now_ns;
    at_most(static_cast<int>(std::max<std::int64_t>(left / 1'000'000 + 1, 0)));
  }
  if (busy && max_memory_ != 0) at_most(kMemoryPollMs);
  return ms;
}

}  // namespace multiproc::detail::pool
