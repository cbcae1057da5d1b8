// The dispatcher's policy (dispatcher.hpp).
#include "pool/dispatcher.hpp"

#include <algorithm>

namespace multiproc::detail::pool {

void Dispatcher::learn_duration(std::uint64_t ns) {
  double x = static_cast<double>(ns);
  average_task_ns_ = average_task_ns_ == 0 ? x : average_task_ns_ + (x - average_task_ns_) / 8;
  double n = kInflightBudgetNs / std::max(average_task_ns_, 1.0);
  inflight_limit_ = std::clamp(static_cast<std::size_t>(n), kMinInflight, kMaxInflight);
}

std::size_t Dispatcher::room(const WorkerSlot& w) const noexcept {
  if (!w.accepting()) return 0;
  std::size_t r = w.inflight.size() < inflight_limit_ ? inflight_limit_ - w.inflight.size() : 0;
  if (maxtasksperchild_ != 0) {
    std::size_t budget = w.assigned < maxtasksperchild_ ? maxtasksperchild_ - w.assigned : 0;
    r = std::min(r, budget);
  }
  return r;
}

std::optional<Dispatcher::Batch> Dispatcher::next(
    const std::vector<std::unique_ptr<WorkerSlot>>& workers,
    const std::deque<Task>& pending) const {
  if (pending.empty()) return std::nullopt;
  WorkerSlot* best = nullptr;
  std::size_t best_room = 0;
  std::size_t with_room = 0;
  for (const auto& w : workers) {
    std::size_t r = room(*w);
    if (r == 0) continue;
    ++with_room;
    if (best == nullptr || w->inflight.size() < best->inflight.size()) {
      best = w.get();
      best_room = r;
    }
  }
  if (best == nullptr) return std::nullopt;
  std::size_t share = (pending.size() + with_room - 1) / with_room;
  std::size_t n = std::min(best_room, share);
  // Up to n tasks, and no more once the batch holds kMaxBatchBytes.
  std::size_t count = 0;
  std::size_t bytes = 0;
  while (count < n && count < pending.size()) {
    bytes += pending[count].payload.size();
    ++count;
    if (bytes > kMaxBatchBytes) break;
  }
  return Batch{best, count};
}

}  // namespace multiproc::detail::pool
