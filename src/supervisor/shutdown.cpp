// Stopping children: SIGTERM, wait up to the child's shutdown_timeout on its
// pidfd, then SIGKILL (at once when the timeout is zero). A child that has
// already ended is just reaped, with its real exit status.
#include <poll.h>

#include "supervisor/run_loop.hpp"
#include "sys/deadline.hpp"
#include "sys/syscall.hpp"

namespace multiproc::detail {

namespace {

// Waits until `child` ends (and reaps it) or `deadline` passes.
std::optional<ExitStatus> wait_until(RunningChild& child, const sys::Deadline& deadline) {
  for (;;) {
    if (auto status = child.try_reap()) return status;
    if (deadline.expired()) return std::nullopt;
    timespec left{};
    (void)sys::poll_one(child.pollfd(), POLLIN, deadline.remaining(left));
  }
}

}  // namespace

void RunLoop::record(std::size_t i, pid_t pid, const std::optional<ExitStatus>& status,
                     const std::string& error, bool restarted, bool during_shutdown) {
  Slot& slot = slots_[i];
  ChildExit e;
  e.child = slot.spec.name();
  e.pid = pid;
  e.status = status;
  e.start_error = error;
  e.restarted = restarted;
  e.during_shutdown = during_shutdown;
  e.at = Clock::now();
  report_.history.push_back(std::move(e));
  slot.report.last_status = status;
  slot.report.last_start_error = error;
}

void RunLoop::stop_slot(std::size_t i, bool during_shutdown, bool restarted) {
  Slot& slot = slots_[i];
  if (!slot.running) return;
  RunningChild& child = *slot.running;
  pid_t pid = child.pid();
  auto status = child.try_reap();
  if (!status) {
    auto timeout = slot.spec.options().shutdown_timeout;
    if (timeout.count() == 0) {
      child.kill();
    } else {
      child.terminate();
      status = wait_until(child, sys::Deadline::after(timeout));
      if (!status) child.kill();
    }
    if (!status) status = wait_until(child, sys::Deadline::never());
  }
  record(i, pid, status, {}, restarted, during_shutdown);
  slot.running.reset();
}

// Reverse start order, each child per its own shutdown timeout.
void RunLoop::shutdown() {
  for (std::size_t i = slots_.size(); i-- > 0;) {
    slots_[i].restart_at.reset();
    stop_slot(i, true, false);
  }
}

}  // namespace multiproc::detail
