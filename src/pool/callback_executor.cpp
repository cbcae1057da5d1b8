// The callback executor (callback_executor.hpp).
#include "pool/callback_executor.hpp"

namespace multiproc::detail::pool {

bool CallbackExecutor::run(sys::Mutex& mu) {
  if (running_ || posted_.empty()) return false;
  running_ = true;
  runner_ = std::this_thread::get_id();
  while (!posted_.empty()) {
    std::vector<std::function<void()>> fns;
    fns.swap(posted_);
    mu.unlock();
    for (auto& fn : fns) {
      try {
        fn();
      } catch (...) {
        // A callback's exception has nowhere to go; it must not stop the pool.
      }
    }
    mu.lock();
  }
  running_ = false;
  return true;
}

}  // namespace multiproc::detail::pool
