// The engine's lifecycle transitions (lifecycle.hpp): close, terminate, join.
// Each is bounded in time: terminate gives workers 1 s after SIGTERM, join
// 30 s per worker after STOP, then SIGKILL.
#include <unistd.h>

#include "multiproc/error.hpp"
#include "multiproc/stop.hpp"
#include "pool/engine.hpp"

namespace multiproc::detail::pool {

bool Engine::wait_workers_gone(Clock::time_point deadline) {
  ++waiters_;
  bool gone = true;
  while (!workers_.empty()) {
    if (!cv_.wait_until(mu_, deadline)) {
      gone = workers_.empty();
      break;
    }
  }
  --waiters_;
  return gone;
}

void Engine::stop_manager_thread() {
  stop_manager_ = true;
  wake_manager();
  mu_.unlock();
  if (manager_.joinable()) manager_.join();
  mu_.lock();
}

bool Engine::all_tasks_ended() const {
  if (!ledger_.pending().empty()) return false;
  for (const auto& w : workers_) {
    if (!w->inflight.empty()) return false;
  }
  return true;
}

void Engine::close() {
  sys::MutexLock lock(mu_);
  if (state_ == PoolState::running) state_ = PoolState::closed;
}

void Engine::terminate() {
  if (owner_ != ::getpid()) return;
  sys::MutexLock lock(mu_);
  if (state_ == PoolState::joined) return;
  state_ = PoolState::terminating;
  ledger_.cancel_all_pending();
  notify();
  for (auto& w : workers_) {
    if (w->kill == KillReason::none) w->kill = KillReason::terminate;
    w->handle->terminate();
  }
  backend_->close();
  wake_manager();
  if (!wait_workers_gone(Clock::now() + std::chrono::seconds(1))) {
    for (auto& w : workers_) w->handle->kill();
    wait_workers_gone(Clock::now() + std::chrono::hours(1));
  }
  stop_manager_thread();
  state_ = PoolState::joined;
  mu_.unlock();
  backend_->stop();
  mu_.lock();
}

void Engine::join(const std::stop_token& stop) {
  {
    sys::MutexLock lock(mu_);
    if (state_ == PoolState::running) {
      throw UsageError("Pool::join: call close() or terminate() first");
    }
    if (state_ == PoolState::joined) return;
  }
  // Every task submitted ends (their jobs hold the count).
  auto idle = [this] {
    mu_.assert_held();
    return all_tasks_ended();
  };
  if (stop.stop_possible()) {
    until_stopped(stop, "Pool::join", [&](auto slice) { return wait(idle, Clock::now() + slice); });
  } else {
    wait(idle, std::nullopt);
  }
  sys::MutexLock lock(mu_);
  if (state_ == PoolState::joined) return;
  std::string message = encode_stop();
  for (auto& w : workers_) {
    w->stopping = true;
    if (!w->handle->send(std::as_bytes(std::span(message.data(), message.size())))) {
      w->stop_now(KillReason::terminate);
    }
  }
  // No worker will start again: the backend and the manager end while the
  // workers do (each wake-up costs tens of microseconds here; they overlap).
  backend_->close();
  stop_manager_ = true;
  wake_manager();
  std::vector<WorkerHandle*> handles;
  for (auto& w : workers_) handles.push_back(w->handle.get());
  mu_.unlock();
  // The manager leaves the workers alone once stop_manager_ is set: this
  // thread reaps them itself.
  for (WorkerHandle* h : handles) {
    try {
      if (!h->wait_exit(std::chrono::seconds(30))) {
        h->kill();
        h->wait_exit(std::nullopt);
      }
    } catch (...) {
    }
  }
  if (manager_.joinable()) manager_.join();
  backend_->stop();
  mu_.lock();
  for (auto& w : workers_) w->dead = true;
  bury_dead();
  state_ = PoolState::joined;
}

}  // namespace multiproc::detail::pool
