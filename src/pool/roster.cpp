// The engine's workers (engine.hpp): starting and replacing them, reading
// what they post, and burying the dead (their tasks follow the ledger's
// rule).
#include "pool/engine.hpp"

#include "multiproc/error.hpp"
#include "multiproc/exception_info.hpp"

namespace multiproc::detail::pool {

void Engine::start_workers(std::size_t n) {
  for (auto& handle : backend_->start(n)) {
    workers_.push_back(std::make_unique<WorkerSlot>(std::move(handle)));
  }
}

void Engine::refill_workers() {
  if (ledger_.broken() || !keeps_workers(state_, !ledger_.pending().empty())) return;
  while (workers_.size() < config_.processes) {
    try {
      start_workers(1);
    } catch (...) {
      // No way to start workers (a dead zygote, say): fail everything now
      // rather than wait for workers that will never come.
      if (workers_.empty()) break_pool(std::current_exception());
      return;
    }
  }
}

void Engine::break_pool(std::exception_ptr why) {
  ledger_.break_pool(std::move(why));
  notify();
}

void Engine::kill_all_workers() {
  for (auto& w : workers_) {
    w->handle->kill();
    try {
      w->handle->wait_exit(std::nullopt);
    } catch (...) {
    }
  }
}

// ---- messages ------------------------------------------------------------------

void Engine::handle_message(WorkerSlot& w, std::span<const std::byte> bytes) {
  WorkerMessage m = decode_worker_message(bytes);
  switch (m.kind) {
    case Kind::result: {
      if (w.inflight.empty() || w.inflight.front().id != m.result.task) {
        throw DecodeError("multiproc: pool worker answered a task it was not given");
      }
      Task t = std::move(w.inflight.front());
      w.inflight.pop_front();
      ++w.results_seen;
      if (m.result.status != Status::skipped) dispatcher_.learn_duration(m.result.duration_ns);
      ledger_.record(t, m.result, w.pid);
      notify();
      return;
    }
    case Kind::retire:
      w.retiring = true;
      return;
    default: {  // init_failed
      w.retiring = true;
      ExceptionInfo info{std::move(m.type), std::move(m.message), w.pid};
      break_pool(std::make_exception_ptr(RemoteError(std::move(info))));
      return;
    }
  }
}

std::size_t Engine::drain(WorkerSlot& w) {
  std::size_t handled = 0;
  std::string bytes;
  while (w.handle->receive(bytes)) {
    ++handled;
    try {
      handle_message(w, std::as_bytes(std::span(bytes.data(), bytes.size())));
    } catch (const DecodeError& e) {
      // A malformed message: the worker is killed and replaced.
      w.stop_now(KillReason::protocol, e.what());
      break;
    }
  }
  return handled;
}

std::size_t Engine::collect() {
  std::size_t handled = 0;
  for (auto& w : workers_) handled += drain(*w);
  return handled;
}

// ---- deaths --------------------------------------------------------------------

void Engine::bury(std::size_t index) {
  WorkerSlot& w = *workers_[index];
  drain(w);  // what it posted before it died is valid
  ExitStatus status = w.handle->reap();
  ledger_.settle_lost(w.inflight, w.began_unanswered(), w.end(status),
                      state_ == PoolState::terminating);
  workers_.erase(workers_.begin() + static_cast<std::ptrdiff_t>(index));
  notify();
}

void Engine::bury_dead() {
  for (std::size_t i = workers_.size(); i > 0; --i) {
    if (workers_[i - 1]->dead) bury(i - 1);
  }
}

}  // namespace multiproc::detail::pool
