// multiproc/async_result.hpp — the outcome of Pool::apply_async / map_async.
//
//   mp::AsyncResult<int> r = pool.apply_async(square, 12);
//   if (r.wait(1s)) std::cout << r.get() << '\n';   // or r.get(1s)
//   r.cancel();                                      // a queued or running task
//
// get() rethrows the task's error: RemoteError (its exception, with the
// worker's PID), WorkerLost (the worker died running it), TaskTimeoutError,
// CancelledError, DecodeError (its result could not be decoded). Like
// std::shared_future, get() returns a reference to the stored value and may
// be called again. An AsyncResult keeps what it needs alive: it stays valid
// after its Pool is gone (terminated pools fail what did not finish).
// Thread-safe: any thread may wait, get or cancel.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

#include "multiproc/detail/pool_core.hpp"
#include "multiproc/error.hpp"
#include "multiproc/stop.hpp"

namespace multiproc {

// Callbacks for apply_async / map_async, run once the task(s) ended.
template <class R>
struct Callbacks {
  std::function<void(const R&)> callback{};
  std::function<void(std::exception_ptr)> error_callback{};
};
template <>
struct Callbacks<void> {
  std::function<void()> callback{};
  std::function<void(std::exception_ptr)> error_callback{};
};

namespace detail {

// The state an AsyncResult reads; the job's sink writes it (under the core's
// lock). `done` is set last, so once it reads true (it may be read without
// the lock) the value or the error is there.
template <class T>
struct ResultSlot {
  using Value = T;
  std::atomic<bool> done{false};
  std::exception_ptr error;
  std::conditional_t<std::is_void_v<T>, bool, std::optional<T>> value{};
};

}  // namespace detail

template <class T>
class AsyncResult {
 public:
  AsyncResult(std::shared_ptr<detail::PoolCore> core, std::shared_ptr<detail::PoolCore::Job> job,
              std::shared_ptr<detail::ResultSlot<T>> slot, std::size_t chunks)
      : core_(std::move(core)), job_(std::move(job)), slot_(std::move(slot)), chunks_(chunks) {}

  // Whether the task(s) ended (with a value or an error).
  bool ready() const {
    // One pass of collecting, then a look.
    core_->wait([this] { return slot_->done.load(); }, Clock::now());
    return slot_->done;
  }
  // Waits until ready; with a timeout, says whether it became ready.
  void wait() const {
    core_->wait([this] { return slot_->done.load(); }, std::nullopt);
  }
  bool wait(std::chrono::nanoseconds timeout) const {
    return core_->wait([this] { return slot_->done.load(); }, detail::deadline_after(timeout));
  }
  // True if it ended with a value. UsageError before it is ready.
  bool successful() const {
    if (!ready()) throw UsageError("AsyncResult::successful: the result is not ready");
    return !slot_->error;
  }

  // Waits until ready; Interrupted when `stop` is requested first.
  void wait(std::stop_token stop) const {
    detail::until_stopped(stop, "AsyncResult::wait", [&](auto slice) { return wait(slice); });
  }
  // As get(); Interrupted when `stop` is requested first (the task goes on).
  decltype(auto) get(std::stop_token stop) const {
    wait(std::move(stop));
    return take();
  }

  // The value, or the task's error rethrown. Waits without limit.
  decltype(auto) get() const {
    wait();
    return take();
  }
  // As get(), but TimeoutError after `timeout` (the task goes on).
  decltype(auto) get(std::chrono::nanoseconds timeout) const {
    if (!wait(timeout)) throw TimeoutError("AsyncResult::get: not ready after the timeout");
    return take();
  }

  // Cancels what did not end yet: a queued task never runs; a running task's
  // worker is killed (and replaced). get() then throws CancelledError. True if
  // anything was cancelled.
  bool cancel() {
    bool any = false;
    for (std::size_t i = 0; i < chunks_; ++i) any = core_->cancel(*job_, i) || any;
    return any;
  }

 private:
  using Clock = std::chrono::steady_clock;

  decltype(auto) take() const {
    if (slot_->error) std::rethrow_exception(slot_->error);
    if constexpr (std::is_void_v<T>) {
      return;
    } else {
      return static_cast<const T&>(*slot_->value);
    }
  }

  std::shared_ptr<detail::PoolCore> core_;
  std::shared_ptr<detail::PoolCore::Job> job_;
  std::shared_ptr<detail::ResultSlot<T>> slot_;
  std::size_t chunks_;
};

}  // namespace multiproc
