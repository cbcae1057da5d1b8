// The callback executor: what sinks post while the engine's lock is held
// (callbacks, progress hooks) runs later, on one thread at a time, in order,
// with the lock released. The engine's lock guards it; run() takes that lock
// as an argument so that the analysis sees it released and retaken.
#pragma once

#include <functional>
#include <thread>
#include <vector>

#include "sys/mutex.hpp"

namespace multiproc::detail::pool {

class CallbackExecutor {
 public:
  void post(std::function<void()> fn) { posted_.push_back(std::move(fn)); }
  // Runs what was posted (and what those post) unless another thread is
  // running callbacks now. `mu` is held on entry and on return, released
  // while callbacks run. True if it ran any.
  bool run(sys::Mutex& mu) REQUIRES(mu);
  // No callback is waiting to run, except on this very thread: a waiter
  // returns only once the callbacks of what it waited for have run.
  bool settled() const noexcept {
    return posted_.empty() && (!running_ || runner_ == std::this_thread::get_id());
  }

 private:
  std::vector<std::function<void()>> posted_;
  bool running_ = false;
  std::thread::id runner_;
};

}  // namespace multiproc::detail::pool
