// A worker slot: the engine's record of one worker. It holds the worker's
// handle (backend.hpp), the tasks sent to it in the order it runs them, the
// functions it knows, and why the engine stopped it, if it did. Guarded by
// the engine's lock.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <set>
#include <string>

#include "pool/backend.hpp"
#include "pool/ledger.hpp"
#include "pool/task.hpp"

namespace multiproc::detail::pool {

struct WorkerSlot {
  explicit WorkerSlot(std::unique_ptr<WorkerHandle> h) : handle(std::move(h)), pid(handle->pid()) {}

  std::unique_ptr<WorkerHandle> handle;
  pid_t pid = 0;
  std::deque<Task> inflight;  // dispatched, in the order the worker runs them
  std::uint64_t results_seen = 0;
  std::set<std::uint32_t> functions;  // defined in this worker
  std::size_t assigned = 0;           // tasks ever dispatched (maxtasksperchild)
  bool retiring = false;              // will exit after what it has
  bool stopping = false;              // sent STOP
  bool dead = false;                  // its death_fd became readable
  KillReason kill = KillReason::none;
  std::string kill_detail;

  // Whether it may be sent more tasks.
  bool accepting() const noexcept {
    return !retiring && !stopping && !dead && kill == KillReason::none;
  }
  // Tasks it began and has not answered: the ones a death takes down.
  std::uint64_t began_unanswered() const noexcept {
    std::uint64_t started = handle->tasks_started();
    return started > results_seen ? started - results_seen : 0;
  }
  // Stops the worker at once; the first reason given is the one its
  // running task fails with.
  void stop_now(KillReason reason, std::string detail = {}) {
    if (kill == KillReason::none) {
      kill = reason;
      kill_detail = std::move(detail);
    }
    handle->kill();
  }
  // How it ended, for the ledger (after reap()).
  WorkerEnd end(const ExitStatus& status) const {
    return {pid, status, kill, kill_detail, handle->running_item()};
  }
};

}  // namespace multiproc::detail::pool
