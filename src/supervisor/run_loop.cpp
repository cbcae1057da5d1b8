// The run loop: starting, watching and restarting children (run_loop.hpp).
#include "supervisor/run_loop.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>

#include "sys/deadline.hpp"

namespace multiproc::detail {

RunLoop::RunLoop(const SupervisorOptions& options, std::vector<Slot>& slots, GroupChannel& channel,
                 int wake_fd)
    : options_(options), slots_(slots), channel_(channel), wake_fd_(wake_fd) {}

SupervisorReport RunLoop::run() {
  for (auto& slot : slots_) {
    slot.report = ChildReport{};
    slot.report.name = slot.spec.name();
  }
  if (wake_requested()) {
    end(StopReason::stop_requested);
  } else {
    // Every child is due now: the loop starts them in order.
    auto now = Clock::now();
    for (auto& slot : slots_) slot.restart_at = now;
    if (slots_.empty()) end(StopReason::all_children_ended);
  }
  while (!stopping_) {
    start_due();
    if (!stopping_) poll_once();
  }
  shutdown();
  for (const auto& slot : slots_) report_.children.push_back(slot.report);
  return std::move(report_);
}

bool RunLoop::wake_requested() const {
  timespec zero{};
  return sys::poll_one(wake_fd_, POLLIN, &zero) == 1;
}

void RunLoop::poll_once() {
  std::vector<pollfd> fds{{wake_fd_, POLLIN, 0}, {channel_.fd(), POLLIN, 0}};
  std::vector<std::pair<std::size_t, RunningChild*>> watched;
  std::optional<Clock::time_point> next;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].running) {
      fds.push_back({slots_[i].running->pollfd(), POLLIN, 0});
      watched.emplace_back(i, slots_[i].running.get());
    }
    if (slots_[i].restart_at && (!next || *slots_[i].restart_at < *next))
      next = slots_[i].restart_at;
  }
  timespec storage{};
  const timespec* timeout =
      next ? sys::Deadline::at(*next).remaining(storage) : nullptr;  // CLOCK_MONOTONIC
  int n = ::ppoll(fds.data(), fds.size(), timeout, nullptr);
  if (n <= 0) return;  // timeout (a restart is due) or EINTR
  if (fds[0].revents != 0) return end(StopReason::stop_requested);
  if (fds[1].revents != 0) handle_group_stop();
  if (stopping_) return;
  for (std::size_t k = 0; k < watched.size() && !stopping_; ++k) {
    auto [i, child] = watched[k];
    // An earlier exit in this round may have stopped it for a group restart.
    if (fds[k + 2].revents == 0 || slots_[i].running.get() != child) continue;
    pid_t pid = child->pid();
    if (auto status = child->try_reap()) {
      slots_[i].running.reset();
      handle_exit(i, pid, status, {});
    }
  }
}

void RunLoop::handle_group_stop() {
  auto request = channel_.receive();
  if (!request) return;
  end(StopReason::group_stop_requested, name_of_pid(request->sender), request->sender,
      std::move(request->reason));
}

// The child a PID belongs to: a running child, a command's process group
// (a grandchild of the supervisor), or the child that last had it.
std::string RunLoop::name_of_pid(pid_t pid) const {
  if (pid == 0) return "an unknown process";
  for (const auto& slot : slots_)
    if (slot.running && slot.running->pid() == pid) return slot.spec.name();
  pid_t group = ::getpgid(pid);
  for (const auto& slot : slots_)
    if (slot.running && slot.spec.is_command() && slot.running->pid() == group)
      return slot.spec.name();
  for (const auto& slot : slots_)
    if (slot.report.last_pid == pid) return slot.spec.name();
  return "pid " + std::to_string(pid);
}

void RunLoop::start_due() {
  auto now = Clock::now();
  for (std::size_t i = 0; i < slots_.size() && !stopping_; ++i) {
    if (slots_[i].restart_at && *slots_[i].restart_at <= now) {
      slots_[i].restart_at.reset();
      start_slot(i);
    }
  }
}

void RunLoop::start_slot(std::size_t i) {
  Slot& slot = slots_[i];
  if (slot.attempts++ > 0) ++slot.report.restarts;
  slot.started_at = Clock::now();
  StartResult r = start_child(slot.spec, channel_.sender().fd());
  if (!r.child) return handle_exit(i, 0, std::nullopt, r.error);
  ++slot.report.starts;
  slot.report.last_pid = r.child->pid();
  slot.running = std::move(r.child);
}

// A child ended on its own (or failed to start): the restart table, the
// intensity window, backoff, then the strategy.
void RunLoop::handle_exit(std::size_t i, pid_t pid, std::optional<ExitStatus> status,
                          const std::string& error) {
  Slot& slot = slots_[i];
  auto now = Clock::now();
  if (!should_restart(slot.spec.options().restart, status)) {
    record(i, pid, status, error, false, false);
    slot.done = true;
    check_auto_shutdown(i, status);
    return;
  }
  if (!intensity_.admit(now, options_.max_restarts, options_.period)) {
    record(i, pid, status, error, false, false);
    return end(StopReason::intensity_exceeded, slot.spec.name(), pid,
               "more than " + std::to_string(options_.max_restarts) + " restarts within " +
                   std::to_string(options_.period.count()) + " ms");
  }
  record(i, pid, status, error, true, false);
  auto delay = slot.backoff.next_delay(options_.backoff, now - slot.started_at);
  restart_group(i, now + delay);
}

// Schedules the restart of `failed` and, per the strategy, of its siblings,
// which are stopped first (reverse start order) and reaped.
void RunLoop::restart_group(std::size_t failed, Clock::time_point at) {
  std::size_t first = failed;
  if (options_.strategy == Strategy::one_for_all) first = 0;
  std::size_t last = options_.strategy == Strategy::one_for_one ? failed : slots_.size() - 1;
  for (std::size_t j = last + 1; j-- > first;) {
    if (j == failed || slots_[j].done) continue;
    bool again = slots_[j].spec.options().restart != Restart::temporary;
    if (slots_[j].running) stop_slot(j, false, again);
    if (!again) {
      slots_[j].done = true;
      slots_[j].restart_at.reset();
    }
  }
  for (std::size_t j = first; j <= last; ++j)
    if (!slots_[j].done) slots_[j].restart_at = at;
}

void RunLoop::check_auto_shutdown(std::size_t i, const std::optional<ExitStatus>& status) {
  const Slot& slot = slots_[i];
  if (slot.spec.options().significant && options_.auto_shutdown != AutoShutdown::never) {
    bool all_done = std::all_of(slots_.begin(), slots_.end(), [](const Slot& s) {
      return !s.spec.options().significant || s.done;
    });
    if (options_.auto_shutdown == AutoShutdown::any_significant || all_done) {
      report_.ok_ = clean_exit(status);
      return end(StopReason::significant_child_exited, slot.spec.name(), slot.report.last_pid,
                 status ? status->describe() : slot.report.last_start_error);
    }
  }
  bool any_left = std::any_of(slots_.begin(), slots_.end(),
                              [](const Slot& s) { return s.running || s.restart_at.has_value(); });
  if (!any_left) {
    report_.ok_ = std::all_of(slots_.begin(), slots_.end(),
                              [](const Slot& s) { return clean_exit(s.report.last_status); });
    end(StopReason::all_children_ended);
  }
}

void RunLoop::end(StopReason reason, std::string child, pid_t pid, std::string message) {
  if (stopping_) return;
  stopping_ = true;
  report_.reason = reason;
  report_.child = std::move(child);
  report_.child_pid = pid;
  report_.message = std::move(message);
  if (reason == StopReason::stop_requested || reason == StopReason::group_stop_requested)
    report_.ok_ = true;
  if (reason == StopReason::intensity_exceeded) report_.ok_ = false;
}

}  // namespace multiproc::detail
