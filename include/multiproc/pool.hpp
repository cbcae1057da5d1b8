// multiproc/pool.hpp — a pool of worker processes that never hangs.
//
//   int square(int x) { return x * x; }
//
//   mp::Pool pool({.processes = 4, .task_timeout = 30s});
//   std::vector<int> v = pool.map(square, mp::range(0, 1000));   // any input range
//   mp::AsyncResult<int> r = pool.apply_async(square, 12);
//   int x = r.get(1s);                                   // rethrows the task's error
//   for (int y : pool.imap_unordered(square, mp::range_from(0))) { ... }  // lazy, bounded
//   pool.close();
//   pool.join();
//
// Tasks are functions or capture-less lambdas with serializable arguments and
// results (they run in other processes). A task's exception reaches the
// caller as RemoteError; a worker that dies (crash, kill, memory limit) fails
// only the task it was running, with WorkerLost, and is replaced; a task past
// its timeout fails with TaskTimeoutError and its worker is replaced; a
// cancelled task fails with CancelledError. Nothing waits forever.
//
// Workers start with the pool's start method (PoolOptions::start_method, else
// get_start_method()). With fork, the pool forks its own zygote when it is
// created (the process must then have one thread); every worker, first and
// replacement, comes from that zygote, so no worker is ever forked from the
// multi-threaded parent. forkserver uses the program's forkserver, spawn
// starts each worker afresh; both need init(argc, argv).
//
// Lifetime: close() then join() waits for every submitted task and ends the
// workers; terminate() stops now (tasks that had not started fail with
// CancelledError, running ones with WorkerLost; workers get SIGTERM, then
// SIGKILL after a grace period). The destructor
// terminates, as Python's `with Pool() as p:` does; both are bounded in time
// and leave no worker behind. A Pool works inside a pool worker.
//
// Thread safety: every member function may be called from several threads.
// Callbacks and progress hooks run on whichever library thread collects the
// result (never with the pool's lock held): keep them short.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ranges>
#include <stop_token>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "multiproc/async_result.hpp"
#include "multiproc/detail/option_checks.hpp"
#include "multiproc/detail/pool_chunking.hpp"
#include "multiproc/detail/pool_core.hpp"
#include "multiproc/detail/pool_sinks.hpp"
#include "multiproc/detail/pool_task.hpp"
#include "multiproc/detail/process_target.hpp"
#include "multiproc/error.hpp"
#include "multiproc/imap_results.hpp"
#include "multiproc/outcome.hpp"
#include "multiproc/start_method.hpp"

namespace multiproc {

// A function run once in every worker before its first task (Python's
// initializer + initargs). Its arguments may be shared objects (a Queue, a
// Lock, ...): that is how workers get them.
class Initializer {
 public:
  Initializer() = default;
  template <class F, class... Args>
  requires detail::Target<F, Args...>
  explicit Initializer(F&& fn, Args&&... args)
      : target_(detail::make_target(std::forward<F>(fn), std::forward<Args>(args)...)) {
    static_assert(detail::SendableTarget<F, Args...>,
                  "multiproc: a Pool initializer runs in other processes: it must be a function or "
                  "a capture-less lambda, with serializable or shared-object arguments");
  }
  explicit operator bool() const noexcept { return target_ != nullptr; }
  std::shared_ptr<detail::ProcessTarget> target() const { return target_; }

 private:
  std::shared_ptr<detail::ProcessTarget> target_;
};

struct PoolOptions {
  // Workers; 0: the CPUs this process may run on (sched_getaffinity).
  std::size_t processes = 0;
  Initializer initializer{};
  // Tasks (chunks) a worker runs before it is replaced; 0: no limit.
  std::size_t maxtasksperchild = 0;
  // fork, spawn or forkserver; unset: get_start_method().
  std::optional<StartMethod> start_method{};
  // A task running longer fails with TaskTimeoutError; its worker is killed
  // and replaced. Unset: no limit.
  std::optional<std::chrono::nanoseconds> task_timeout{};
  // Resident memory (bytes) a worker may use: past it, the worker is
  // replaced after its task. 0: no limit.
  std::size_t max_memory_per_child = 0;
  // With max_memory_per_child: also watch workers while they run (every
  // 50 ms) and kill one past the limit; its task fails with WorkerLost.
  bool kill_task_over_memory = false;
  // Workers are named "<name>-N".
  std::string name = "PoolWorker";
  // Each worker's process tree ends with it (multiproc/containment.hpp):
  // what a task started (a helper, a daemon, a setsid'd grandchild) is
  // killed when its worker is killed (timeout, cancellation, memory,
  // terminate()), dies, is recycled or the pool ends, and when this process
  // dies. docs/containment.md.
  bool contain = true;
  // With contain: after every task, kill what the task left running in its
  // worker's tree (a worker's hygiene; costs a read of the worker's cgroup
  // per task). Off: leftovers live until their worker ends.
  bool kill_task_leftovers = false;
};

struct MapOptions {
  // Items per task; 0: automatic (map: Python's rule, about four tasks per
  // worker; imap: 1).
  std::size_t chunksize = 0;
  // Called with (items done, items in total) as chunks complete; total is 0
  // while imap's input is not exhausted.
  std::function<void(std::size_t done, std::size_t total)> progress{};
  // map, starmap, map_outcomes and imap's iteration throw Interrupted when
  // this is stopped (the tasks go on; terminate() the pool to end them).
  std::stop_token stop{};
};

class Pool {
 public:
  explicit Pool(PoolOptions options = {});
  ~Pool();  // terminate(); bounded, leaves no worker
  Pool(Pool&&) noexcept = default;
  Pool& operator=(Pool&&) noexcept = default;
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  std::size_t processes() const { return core().processes(); }

  // ---- one call ----------------------------------------------------------
  //
  // Every entry point checks the task first (detail::check_pool_callable):
  // a callable, argument or result that cannot cross is one static_assert
  // that names the fix, and nothing else of the call is compiled.

  template <class F, class... Args>
  requires std::is_invocable_v < std::decay_t<F>
  &, std::decay_t<Args>... > auto apply_async(F&& fn, Args&&... args) {
    if constexpr (detail::check_pool_callable<F, Args...>()) {
      using R = detail::PoolCallResult<F, Args...>;
      return apply_async(Callbacks<R>{}, std::forward<F>(fn), std::forward<Args>(args)...);
    }
  }

  template <class R, class F, class... Args>
  requires std::is_invocable_v < std::decay_t<F>
  &, std::decay_t<Args>... > auto apply_async(Callbacks<R> callbacks, F&& fn, Args&&... args) {
    if constexpr (detail::check_pool_callable<F, Args...>()) {
      static_assert(std::is_same_v<R, detail::PoolCallResult<F, Args...>>,
                    "multiproc: Callbacks<R> must name the task's result type");
      std::uint32_t id = function_id<std::decay_t<F>, std::decay_t<Args>...>(fn);
      auto sink = std::make_shared<detail::ApplySink<R>>(core(), std::move(callbacks));
      auto job = core().open_job(id, sink);
      detail::WireWriter w;
      detail::put_item(w, static_cast<const std::decay_t<Args>&>(args)...);
      std::vector<detail::PoolCore::Chunk> chunks;
      chunks.push_back({std::move(w.data()), 1, detail::PoolCore::kNoItem});
      core().add_chunks(job, std::move(chunks), true);
      return AsyncResult<R>(core_, std::move(job), sink->slot, 1);
    }
  }

  template <class F, class... Args>
  requires std::is_invocable_v < std::decay_t<F>
  &, std::decay_t<Args>... > decltype(auto) apply(F&& fn, Args&&... args) {
    using R = detail::PoolCallResult<F, Args...>;
    if constexpr (!detail::check_pool_callable<F, Args...>()) {
      return;
    } else if constexpr (std::is_void_v<R>) {
      apply_async(std::forward<F>(fn), std::forward<Args>(args)...).get();
    } else {
      return R(apply_async(std::forward<F>(fn), std::forward<Args>(args)...).get());
    }
  }

  // ---- map: fn(item) for every item, results in input order ---------------

  template <class F, std::ranges::input_range Range>
  auto map_async(
      F&& fn, Range&& items, MapOptions options = {},
      Callbacks<std::vector<detail::PoolCallResult<F, detail::PoolItem<Range>>>> callbacks = {}) {
    using Item = detail::PoolItem<Range>;
    using R = detail::PoolCallResult<F, Item>;
    if constexpr (detail::check_pool_map<F, Item>()) {
      detail::check_chunksize(options.chunksize, "Pool::map");
      return submit_all<detail::MapSink<R>>(function_id<std::decay_t<F>, Item>(fn), items,
                                            std::move(options), std::move(callbacks),
                                            detail::encode_item<Item>);
    }
  }

  template <class F, std::ranges::input_range Range>
  auto map(F&& fn, Range&& items, MapOptions options = {}) {
    if constexpr (detail::check_pool_map<F, detail::PoolItem<Range>>()) {
      std::stop_token stop = options.stop;
      detail::ScopedProgress progress(options.progress);
      auto r = map_async(std::forward<F>(fn), std::forward<Range>(items), std::move(options));
      r.get(stop);
      return take(r);
    }
  }

  // As map, but one item's failure does not fail the others: every item's
  // value or error, in input order. chunksize 0 means 1 here, so that a
  // crash or a timeout takes only its own item down.
  template <class F, std::ranges::input_range Range>
  auto map_outcomes(F&& fn, Range&& items, MapOptions options = {}) {
    using Item = detail::PoolItem<Range>;
    using R = detail::PoolCallResult<F, Item>;
    if constexpr (detail::check_pool_map<F, Item>()) {
      detail::check_chunksize(options.chunksize, "Pool::map_outcomes");
      if (options.chunksize == 0) options.chunksize = 1;
      std::stop_token stop = options.stop;
      detail::ScopedProgress progress(options.progress);
      auto r =
          submit_all<detail::OutcomeSink<R>>(function_id<std::decay_t<F>, Item>(fn), items,
                                             std::move(options), {}, detail::encode_item<Item>);
      r.get(stop);
      return take(r);
    }
  }

  // ---- starmap: fn(a, b, ...) for every tuple (a, b, ...) -----------------

  template <class F, std::ranges::input_range Range>
  auto starmap_async(F&& fn, Range&& items, MapOptions options = {}) {
    using Tuple = detail::PoolItem<Range>;
    using Runner = detail::TupleRunner<std::decay_t<F>, Tuple>;
    using R = typename Runner::Result;
    if constexpr (Runner::check() && detail::check_returns_value<R>()) {
      std::uint32_t id =
          core().function_id(Runner::runner(), callable_address<std::decay_t<F>>(fn));
      return submit_all<detail::MapSink<R>>(id, items, std::move(options), {},
                                            detail::encode_tuple<Tuple>);
    }
  }

  template <class F, std::ranges::input_range Range>
  auto starmap(F&& fn, Range&& items, MapOptions options = {}) {
    using Runner = detail::TupleRunner<std::decay_t<F>, detail::PoolItem<Range>>;
    if constexpr (Runner::check() && detail::check_returns_value<typename Runner::Result>()) {
      std::stop_token stop = options.stop;
      detail::ScopedProgress progress(options.progress);
      auto r = starmap_async(std::forward<F>(fn), std::forward<Range>(items), std::move(options));
      r.get(stop);
      return take(r);
    }
  }

  // ---- imap: lazy, bounded ------------------------------------------------

  template <class F, std::ranges::input_range Range>
  auto imap(F&& fn, Range&& items, MapOptions options = {}) {
    return imap_job(std::forward<F>(fn), std::forward<Range>(items), std::move(options), true);
  }
  template <class F, std::ranges::input_range Range>
  auto imap_unordered(F&& fn, Range&& items, MapOptions options = {}) {
    return imap_job(std::forward<F>(fn), std::forward<Range>(items), std::move(options), false);
  }

  // ---- lifetime -----------------------------------------------------------

  // No more tasks; those submitted still run. Then join() waits for them.
  void close() { core().close(); }
  // Stops now: tasks that had not started fail with CancelledError, running
  // ones with WorkerLost (they may have done part of their work); workers get
  // SIGTERM, then SIGKILL after 1 s. Bounded.
  void terminate() {
    if (core_) core_->terminate();
  }
  // Waits until every submitted task ended and the workers exited. Call
  // close() (or terminate()) first, else UsageError.
  void join() { core().join(); }
  // As join(); Interrupted when `stop` is requested before the tasks ended
  // (they go on: terminate() ends them).
  void join(std::stop_token stop) { core().join(stop); }

  // The workers' PIDs now.
  std::vector<pid_t> worker_pids() const { return core().worker_pids(); }

 private:
  detail::PoolCore& core() const {
    if (!core_) throw UsageError("Pool: this handle was moved from");
    return *core_;
  }

  template <class Fd>
  static const void* callable_address(const Fd& fn) {
    if constexpr (std::is_pointer_v<Fd>) {
      return reinterpret_cast<const void*>(fn);
    } else {
      return nullptr;
    }
  }

  template <class Fd, class... Args>
  std::uint32_t function_id(const Fd& fn) {
    return core().function_id(detail::registered_entry<&detail::run_pool_chunk<Fd, Args...>>(),
                              callable_address(fn));
  }

  template <class T>
  static T take(const AsyncResult<T>& r) {
    return T(r.get());
  }

  // Every item of `items` encoded into chunks and submitted as one job
  // whose outcomes go to a Sink (map's, or map_outcomes').
  template <class Sink, class Range, class Encode>
  auto submit_all(std::uint32_t function, Range& items, MapOptions options,
                  typename Sink::CallbackSet callbacks, Encode encode) {
    detail::EncodedItems e = detail::encode_items(items, options.chunksize, processes(), encode);
    auto sink = std::make_shared<Sink>(core(), std::move(e.offsets), e.total,
                                       std::move(options.progress), std::move(callbacks));
    auto job = core().open_job(function, sink);
    std::size_t n = e.chunks.size();
    // Nothing to run: an empty result at once (nothing else sees the slot yet).
    if (n == 0) sink->finish_empty();
    core().add_chunks(job, std::move(e.chunks), true);
    return AsyncResult<typename Sink::Value>(core_, std::move(job), sink->slot, n);
  }

  template <class F, class Range>
  auto imap_job(F&& fn, Range&& items, MapOptions options, bool ordered) {
    using Item = detail::PoolItem<Range>;
    using R = detail::PoolCallResult<F, Item>;
    if constexpr (detail::check_pool_map<F, Item>()) {
      detail::check_chunksize(options.chunksize, "Pool::imap");
      std::uint32_t id = function_id<std::decay_t<F>, Item>(fn);
      auto sink =
          std::make_shared<detail::ImapSink<R>>(core(), ordered, std::move(options.progress));
      auto job = core().open_job(id, sink);
      std::size_t chunksize = options.chunksize != 0 ? options.chunksize : 1;
      auto feed =
          detail::make_imap_feed<Item>(std::forward<Range>(items), chunksize, processes(), sink);
      return ImapResults<R>(core_, std::move(job), sink, std::move(feed), 4 * processes(),
                            std::move(options.stop));
    }
  }

  std::shared_ptr<detail::PoolCore> core_;
};

}  // namespace multiproc
