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

#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "multiproc/async_result.hpp"
#include "multiproc/detail/option_checks.hpp"
#include "multiproc/detail/pool_core.hpp"
#include "multiproc/detail/pool_task.hpp"
#include "multiproc/detail/process_target.hpp"
#include "multiproc/error.hpp"
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

// One item's outcome in map_outcomes: its value, or the error that ended
// its task (RemoteError, WorkerLost, TaskTimeoutError, CancelledError, ...).
template <class R>
class Outcome {
 public:
  explicit Outcome(R value) : value_(std::move(value)) {}
  explicit Outcome(std::exception_ptr error) : error_(std::move(error)) {}

  bool ok() const noexcept { return !error_; }
  // The value; rethrows the error of a failed item.
  const R& value() const {
    if (error_) std::rethrow_exception(error_);
    return *value_;
  }
  const std::exception_ptr& error() const noexcept { return error_; }
  // The error's what(), or "" for a value.
  std::string describe() const {
    if (!error_) return {};
    try {
      std::rethrow_exception(error_);
    } catch (const std::exception& e) {
      return e.what();
    } catch (...) {
      return "unknown error";
    }
  }

 private:
  std::optional<R> value_;
  std::exception_ptr error_;
};

namespace detail {

template <class F, class... Args>
using PoolCallResult = PoolResult<std::decay_t<F>, std::decay_t<Args>...>;

template <class Range>
using PoolItem = std::decay_t<std::ranges::range_reference_t<Range>>;

// A job of one chunk of one item (apply / apply_async).
template <class R>
class ApplySink final : public ChunkSink {
 public:
  ApplySink(PoolCore& core, Callbacks<R> callbacks)
      : core_(core), callbacks_(std::move(callbacks)) {}
  void deliver(std::size_t, WireReader& in, std::uint32_t) override {
    try {
      if constexpr (std::is_void_v<R>) {
        slot->value = true;
      } else {
        slot->value.emplace(get_value<R>(in));
      }
    } catch (...) {
      fail(0, std::current_exception());
      return;
    }
    slot->done = true;
    if (callbacks_.callback) {
      if constexpr (std::is_void_v<R>) {
        core_.post(callbacks_.callback);
      } else {
        core_.post([cb = callbacks_.callback, s = slot] { cb(*s->value); });
      }
    }
  }
  void fail(std::size_t, std::exception_ptr error) override {
    if (slot->done) return;
    slot->error = error;
    slot->done = true;
    if (callbacks_.error_callback)
      core_.post([cb = callbacks_.error_callback, error] { cb(error); });
  }
  std::shared_ptr<ResultSlot<R>> slot = std::make_shared<ResultSlot<R>>();

 private:
  PoolCore& core_;
  Callbacks<R> callbacks_;
};

// Reports progress (items done / total) after each chunk.
class Progress {
 public:
  explicit Progress(std::function<void(std::size_t, std::size_t)> hook) : hook_(std::move(hook)) {}
  void add(PoolCore& core, std::size_t items, std::size_t total) {
    done_ += items;
    if (hook_) core.post([h = hook_, d = done_, total] { h(d, total); });
  }

 private:
  std::function<void(std::size_t, std::size_t)> hook_;
  std::size_t done_ = 0;
};

// map / map_async / starmap: every item's result in input order; the first
// error fails the whole job (as Python's map does).
template <class R>
class MapSink final : public ChunkSink {
 public:
  MapSink(PoolCore& core, std::vector<std::size_t> offsets, std::size_t total,
          std::function<void(std::size_t, std::size_t)> progress,
          Callbacks<std::vector<R>> callbacks)
      : core_(core),
        offsets_(std::move(offsets)),
        items_(total),
        remaining_(offsets_.size()),
        progress_(std::move(progress)),
        callbacks_(std::move(callbacks)) {}

  void deliver(std::size_t chunk, WireReader& in, std::uint32_t count) override {
    if (slot->done) return;
    try {
      std::size_t at = offsets_[chunk];
      for (std::uint32_t i = 0; i < count; ++i) {
        if constexpr (kDirect) {
          items_[at + i] = get_value<R>(in);
        } else {
          items_[at + i].emplace(get_value<R>(in));
        }
      }
    } catch (...) {
      fail(chunk, std::current_exception());
      return;
    }
    progress_.add(core_, count, items_.size());
    if (--remaining_ == 0) finish();
  }
  void fail(std::size_t, std::exception_ptr error) override {
    if (slot->done) return;
    slot->error = error;
    slot->done = true;
    items_.clear();
    if (callbacks_.error_callback)
      core_.post([cb = callbacks_.error_callback, error] { cb(error); });
  }
  std::shared_ptr<ResultSlot<std::vector<R>>> slot = std::make_shared<ResultSlot<std::vector<R>>>();

 private:
  void finish() {
    if constexpr (kDirect) {
      slot->value.emplace(std::move(items_));
    } else {
      std::vector<R> out;
      out.reserve(items_.size());
      for (auto& item : items_) out.push_back(std::move(*item));
      slot->value.emplace(std::move(out));
    }
    items_.clear();
    slot->done = true;
    if (callbacks_.callback) core_.post([cb = callbacks_.callback, s = slot] { cb(*s->value); });
  }

  // Results go straight into the final vector when R can be made empty.
  static constexpr bool kDirect = std::is_default_constructible_v<R>;
  PoolCore& core_;
  std::vector<std::size_t> offsets_;
  std::vector<std::conditional_t<kDirect, R, std::optional<R>>> items_;
  std::size_t remaining_;
  Progress progress_;
  Callbacks<std::vector<R>> callbacks_;
};

// map_outcomes: every item's value or error, in input order; a failed
// chunk fails each of its items, and the job goes on.
template <class R>
class OutcomeSink final : public ChunkSink {
 public:
  OutcomeSink(PoolCore& core, std::vector<std::size_t> offsets, std::size_t total,
              std::function<void(std::size_t, std::size_t)> progress)
      : core_(core),
        offsets_(std::move(offsets)),
        items_(total),
        remaining_(offsets_.size()),
        progress_(std::move(progress)) {}

  void deliver(std::size_t chunk, WireReader& in, std::uint32_t count) override {
    std::size_t at = offsets_[chunk];
    std::uint32_t i = 0;
    try {
      for (; i < count; ++i) items_[at + i].emplace(get_value<R>(in));
    } catch (...) {
      for (; i < count; ++i) items_[at + i].emplace(std::current_exception());
    }
    end(count);
  }
  void fail(std::size_t chunk, std::exception_ptr error) override {
    std::size_t at = offsets_[chunk];
    std::size_t end_at = chunk + 1 < offsets_.size() ? offsets_[chunk + 1] : items_.size();
    for (std::size_t i = at; i < end_at; ++i) items_[i].emplace(error);
    end(end_at - at);
  }
  std::shared_ptr<ResultSlot<std::vector<Outcome<R>>>> slot =
      std::make_shared<ResultSlot<std::vector<Outcome<R>>>>();

 private:
  void end(std::size_t items) {
    progress_.add(core_, items, items_.size());
    if (--remaining_ != 0) return;
    std::vector<Outcome<R>> out;
    out.reserve(items_.size());
    for (auto& item : items_) out.push_back(std::move(*item));
    items_.clear();
    slot->value.emplace(std::move(out));
    slot->done = true;
  }

  PoolCore& core_;
  std::vector<std::size_t> offsets_;
  std::vector<std::optional<Outcome<R>>> items_;
  std::size_t remaining_;
  Progress progress_;
};

// imap / imap_unordered: chunks' results as they may be handed out.
template <class R>
class ImapSink final : public ChunkSink {
 public:
  struct Done {
    std::vector<R> values;
    std::exception_ptr error;
  };
  ImapSink(PoolCore& core, bool ordered, std::function<void(std::size_t, std::size_t)> progress)
      : core_(core), ordered_(ordered), progress_(std::move(progress)) {}

  void deliver(std::size_t chunk, WireReader& in, std::uint32_t count) override {
    Done d;
    try {
      d.values.reserve(count);
      for (std::uint32_t i = 0; i < count; ++i) d.values.push_back(get_value<R>(in));
    } catch (...) {
      fail(chunk, std::current_exception());
      return;
    }
    progress_.add(core_, count, total.load());
    store(chunk, std::move(d));
  }
  void fail(std::size_t chunk, std::exception_ptr error) override { store(chunk, Done{{}, error}); }
  // Under the core's lock: the next chunk's outcome, if it is there.
  std::optional<Done> next() {
    auto it = ordered_ ? done_.find(next_chunk_) : done_.begin();
    if (it == done_.end()) return std::nullopt;
    Done d = std::move(it->second);
    done_.erase(it);
    ++next_chunk_;
    return d;
  }
  std::size_t buffered() const noexcept { return done_.size(); }
  std::atomic<std::size_t> total{0};  // items, once the input is exhausted

 private:
  void store(std::size_t chunk, Done d) { done_.emplace(chunk, std::move(d)); }

  PoolCore& core_;
  bool ordered_;
  Progress progress_;
  std::map<std::size_t, Done> done_;
  std::size_t next_chunk_ = 0;
};

// imap's input: the range (or a pointer to it) and where reading it stopped.
template <class Stored>
class ImapInput {
  using RangeType = std::remove_pointer_t<Stored>;
  using Iterator = decltype(std::begin(std::declval<RangeType&>()));

 public:
  template <class R>
  explicit ImapInput(R&& range) : stored_(store(std::forward<R>(range))), it_(std::begin(get())) {}
  bool done() { return !(it_ != std::end(get())); }
  auto take() {
    auto item = *it_;
    ++it_;
    return item;
  }

 private:
  template <class R>
  static Stored store(R&& range) {
    if constexpr (std::is_pointer_v<Stored>) {
      return &range;
    } else {
      return Stored(std::forward<R>(range));
    }
  }
  RangeType& get() {
    if constexpr (std::is_pointer_v<Stored>) {
      return *stored_;
    } else {
      return stored_;
    }
  }

  Stored stored_;
  Iterator it_;
};

// Encodes items of a range into chunks of `chunksize`.
template <class Encode>
class ChunkBuilder {
 public:
  ChunkBuilder(std::size_t chunksize, Encode encode) : chunksize_(chunksize), encode_(encode) {}
  template <class Item>
  void add(const Item& item) {
    encode_(writer_, item);
    // One allocation per chunk, sized after its first item.
    if (count_ == 0 && chunksize_ > 1) writer_.reserve(writer_.data().size() * chunksize_ + 64);
    if (++count_ == chunksize_) flush();
  }
  void flush() {
    if (count_ == 0) return;
    chunks.push_back({std::move(writer_.data()), static_cast<std::uint32_t>(count_)});
    writer_ = WireWriter{};
    count_ = 0;
  }
  std::vector<PoolCore::Chunk> chunks;

 private:
  std::size_t chunksize_;
  Encode encode_;
  WireWriter writer_;
  std::size_t count_ = 0;
};

// Python's automatic chunksize for map: about four chunks per worker.
inline std::size_t auto_chunksize(std::size_t items, std::size_t processes) {
  if (items == 0) return 1;
  std::size_t per = items / (processes * 4);
  if (items % (processes * 4) != 0) ++per;
  return per == 0 ? 1 : per;
}

}  // namespace detail

// The lazy results of imap / imap_unordered: an input range. Each step hands
// out the next result (rethrowing its task's error), feeding at most a few
// chunks per worker ahead of the consumer, so an endless input works and
// memory stays flat. Single-pass; iterate from one thread at a time.
template <class R>
class ImapResults {
  struct State;

 public:
  using Feed =
      std::function<bool(std::vector<detail::PoolCore::Chunk>&)>;  // false: input exhausted

  ImapResults(std::shared_ptr<detail::PoolCore> core, std::shared_ptr<detail::PoolCore::Job> job,
              std::shared_ptr<detail::ImapSink<R>> sink, Feed feed, std::size_t window,
              std::stop_token stop)
      : state_(std::make_shared<State>(State{std::move(core), std::move(job), std::move(sink),
                                             std::move(feed), window, std::move(stop)})) {}

  class iterator {
   public:
    using value_type = R;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(State* s) : s_(s) { advance(); }
    const R& operator*() const { return s_->current[s_->pos]; }
    iterator& operator++() {
      advance();
      return *this;
    }
    void operator++(int) { advance(); }
    bool operator==(std::default_sentinel_t) const { return s_ == nullptr || s_->finished; }

   private:
    void advance() { s_->advance(); }
    State* s_ = nullptr;
  };

  iterator begin() { return iterator(state_.get()); }
  std::default_sentinel_t end() { return {}; }

 private:
  struct State {
    std::shared_ptr<detail::PoolCore> core;
    std::shared_ptr<detail::PoolCore::Job> job;
    std::shared_ptr<detail::ImapSink<R>> sink;
    Feed feed;
    std::size_t window;
    std::stop_token stop;
    bool input_done = false;
    bool finished = false;
    bool started = false;
    std::vector<R> current{};
    std::size_t pos = 0;

    // Feeds input while fewer than `window` chunks are running or waiting to
    // be handed out.
    void top_up() {
      while (!input_done && core->unfinished(*job) + buffered() < window) {
        std::vector<detail::PoolCore::Chunk> chunks;
        input_done = !feed(chunks);
        core->add_chunks(job, std::move(chunks), input_done);
      }
    }
    std::size_t buffered() {
      std::size_t n = 0;
      core->wait([&] { return n = sink->buffered(), true; }, std::nullopt);
      return n;
    }
    void advance() {
      if (finished) return;
      if (started && ++pos < current.size()) return;
      started = true;
      for (;;) {
        top_up();
        // Either the window is full (a chunk is running) or the input is
        // exhausted: a result, or the end, is coming.
        std::optional<typename detail::ImapSink<R>::Done> d;
        auto ready = [&] {
          if (!d) d = sink->next();  // may be asked again: take only once
          return d.has_value() || (input_done && core->unfinished(*job) == 0);
        };
        if (stop.stop_possible()) {
          detail::until_stopped(stop, "Pool::imap", [&](auto slice) {
            return core->wait(ready, std::chrono::steady_clock::now() + slice);
          });
        } else {
          core->wait(ready, std::nullopt);
        }
        if (!d) {
          finished = true;
          return;
        }
        if (d->error) {
          finished = true;
          std::rethrow_exception(d->error);
        }
        if (d->values.empty()) continue;
        current = std::move(d->values);
        pos = 0;
        return;
      }
    }
  };

  std::shared_ptr<State> state_;
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

  template <class F, class... Args>
  requires std::is_invocable_v < std::decay_t<F>
  &, std::decay_t<Args>... > auto apply_async(F&& fn, Args&&... args) {
    using R = detail::PoolCallResult<F, Args...>;
    return apply_async(Callbacks<R>{}, std::forward<F>(fn), std::forward<Args>(args)...);
  }

  template <class R, class F, class... Args>
  requires std::is_invocable_v < std::decay_t<F>
  &, std::decay_t<Args>... >
         AsyncResult<R> apply_async(Callbacks<R> callbacks, F&& fn, Args&&... args) {
    static_assert(detail::check_pool_callable<F, Args...>());
    using Fd = std::decay_t<F>;
    static_assert(std::is_same_v<R, detail::PoolCallResult<F, Args...>>,
                  "multiproc: Callbacks<R> must name the task's result type");
    std::uint32_t id = function_id<Fd, std::decay_t<Args>...>(fn);
    auto sink = std::make_shared<detail::ApplySink<R>>(core(), std::move(callbacks));
    auto job = core().open_job(id, sink);
    detail::WireWriter w;
    detail::put_item(w, static_cast<const std::decay_t<Args>&>(args)...);
    std::vector<detail::PoolCore::Chunk> chunks;
    chunks.push_back({std::move(w.data()), 1});
    core().add_chunks(job, std::move(chunks), true);
    return AsyncResult<R>(core_, std::move(job), sink->slot, 1);
  }

  template <class F, class... Args>
  requires std::is_invocable_v < std::decay_t<F>
  &, std::decay_t<Args>... > decltype(auto) apply(F&& fn, Args&&... args) {
    auto r = apply_async(std::forward<F>(fn), std::forward<Args>(args)...);
    using R = detail::PoolCallResult<F, Args...>;
    if constexpr (std::is_void_v<R>) {
      r.get();
    } else {
      return R(r.get());
    }
  }

  // ---- map: fn(item) for every item, results in input order ---------------

  template <class F, std::ranges::input_range Range>
  auto map_async(
      F&& fn, Range&& items, MapOptions options = {},
      Callbacks<std::vector<detail::PoolCallResult<F, detail::PoolItem<Range>>>> callbacks = {}) {
    using Item = detail::PoolItem<Range>;
    return map_job<F, Item>(
        std::forward<F>(fn), std::forward<Range>(items), std::move(options), std::move(callbacks),
        [](detail::WireWriter& w, const Item& item) { detail::put_item(w, item); });
  }

  template <class F, std::ranges::input_range Range>
  auto map(F&& fn, Range&& items, MapOptions options = {}) {
    std::stop_token stop = options.stop;
    auto r = map_async(std::forward<F>(fn), std::forward<Range>(items), std::move(options));
    r.get(stop);
    return take(r);
  }

  // As map, but one item's failure does not fail the others: every item's
  // value or error, in input order. chunksize 0 means 1 here, so that a
  // crash or a timeout takes only its own item down.
  template <class F, std::ranges::input_range Range>
  auto map_outcomes(F&& fn, Range&& items, MapOptions options = {}) {
    using Item = detail::PoolItem<Range>;
    using Fd = std::decay_t<F>;
    using R = detail::PoolCallResult<F, Item>;
    static_assert(detail::check_pool_callable<Fd, Item>());
    static_assert(!std::is_void_v<R>,
                  "multiproc: map_outcomes needs a function that returns a value");
    detail::check_chunksize(options.chunksize, "Pool::map_outcomes");
    if (options.chunksize == 0) options.chunksize = 1;
    std::stop_token stop = options.stop;
    auto encode = [](detail::WireWriter& w, const Item& item) { detail::put_item(w, item); };
    auto r =
        submit_outcomes<detail::OutcomeSink<R>, Fd, Item>(fn, items, std::move(options), encode);
    r.get(stop);
    return take(r);
  }

  // ---- starmap: fn(a, b, ...) for every tuple (a, b, ...) -----------------

  template <class F, std::ranges::input_range Range>
  auto starmap_async(F&& fn, Range&& items, MapOptions options = {}) {
    using Tuple = detail::PoolItem<Range>;
    return starmap_job(std::forward<F>(fn), std::forward<Range>(items), std::move(options),
                       static_cast<Tuple*>(nullptr),
                       std::make_index_sequence<std::tuple_size_v<Tuple>>{});
  }

  template <class F, std::ranges::input_range Range>
  auto starmap(F&& fn, Range&& items, MapOptions options = {}) {
    std::stop_token stop = options.stop;
    auto r = starmap_async(std::forward<F>(fn), std::forward<Range>(items), std::move(options));
    r.get(stop);
    return take(r);
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

  // The workers' PIDs now.
  std::vector<pid_t> worker_pids() const { return core().worker_pids(); }

 private:
  detail::PoolCore& core() const {
    if (!core_) throw UsageError("Pool: this handle was moved from");
    return *core_;
  }

  template <class Fd, class... Args>
  std::uint32_t function_id(const Fd& fn) {
    const void* raw = nullptr;
    if constexpr (std::is_pointer_v<Fd>) raw = reinterpret_cast<const void*>(fn);
    return core().function_id(detail::registered_entry<&detail::run_pool_chunk<Fd, Args...>>(),
                              raw);
  }

  template <class T>
  static T take(const AsyncResult<T>& r) {
    return T(r.get());
  }

  template <class Range>
  static std::size_t chunksize_for(const Range& items, const MapOptions& options,
                                   std::size_t processes) {
    detail::check_chunksize(options.chunksize, "Pool::map");
    if (options.chunksize != 0) return options.chunksize;
    if constexpr (std::ranges::sized_range<Range>) {
      return detail::auto_chunksize(static_cast<std::size_t>(std::ranges::size(items)), processes);
    } else {
      return 0;  // decided once the items are counted
    }
  }

  template <class F, class Item, class Range, class Encode>
  auto map_job(F&& fn, Range&& items, MapOptions options,
               Callbacks<std::vector<detail::PoolCallResult<F, Item>>> callbacks, Encode encode) {
    using R = detail::PoolCallResult<F, Item>;
    static_assert(!std::is_void_v<R>, "multiproc: map needs a function that returns a value");
    return map_like<R, std::decay_t<F>, Item>(fn, items, std::move(options), std::move(callbacks),
                                              encode);
  }

  struct EncodedItems {
    std::vector<detail::PoolCore::Chunk> chunks;
    std::vector<std::size_t> offsets;  // each chunk's first item
    std::size_t total = 0;
  };

  // Encodes every item once, into chunks of the chosen size.
  template <class Range, class Encode>
  EncodedItems encode_items(Range& items, const MapOptions& options, Encode encode) {
    EncodedItems out;
    std::size_t chunksize = chunksize_for(items, options, processes());
    if (chunksize != 0) {
      detail::ChunkBuilder builder(chunksize, encode);
      for (auto&& item : items) {
        builder.add(item);
        ++out.total;
      }
      builder.flush();
      out.chunks = std::move(builder.chunks);
    } else {
      // Not sized: count first (encoding each item once), then cut chunks.
      detail::ChunkBuilder one(1, encode);
      for (auto&& item : items) one.add(item);
      out.total = one.chunks.size();
      chunksize = detail::auto_chunksize(out.total, processes());
      for (std::size_t i = 0; i < one.chunks.size(); i += chunksize) {
        detail::PoolCore::Chunk c;
        for (std::size_t j = i; j < std::min(i + chunksize, one.chunks.size()); ++j) {
          c.payload += one.chunks[j].payload;
          ++c.count;
        }
        out.chunks.push_back(std::move(c));
      }
    }
    std::size_t at = 0;
    for (const auto& c : out.chunks) {
      out.offsets.push_back(at);
      at += c.count;
    }
    return out;
  }

  // Submits encoded items as one job whose chunks end in `sink`.
  template <class T, class Sink>
  AsyncResult<T> submit(std::uint32_t function, std::shared_ptr<Sink> sink,
                        std::vector<detail::PoolCore::Chunk> chunks) {
    auto job = core().open_job(function, sink);
    std::size_t n = chunks.size();
    auto slot = sink->slot;
    if (n == 0) {
      // Nothing to run: an empty result, at once.
      core().wait(
          [&] {
            slot->value.emplace();
            slot->done = true;
            return true;
          },
          std::nullopt);
    }
    core().add_chunks(job, std::move(chunks), true);
    return AsyncResult<T>(core_, std::move(job), slot, n);
  }

  template <class R, class Fd, class... Args, class Range, class Encode>
  AsyncResult<std::vector<R>> map_like_impl(const Fd& fn, Range& items, MapOptions options,
                                            Callbacks<std::vector<R>> callbacks, Encode encode) {
    std::uint32_t id = function_id<Fd, Args...>(fn);
    EncodedItems e = encode_items(items, options, encode);
    auto sink = std::make_shared<detail::MapSink<R>>(
        core(), std::move(e.offsets), e.total, std::move(options.progress), std::move(callbacks));
    return submit<std::vector<R>>(id, std::move(sink), std::move(e.chunks));
  }

  template <class Sink, class Fd, class Item, class Range, class Encode>
  auto submit_outcomes(const Fd& fn, Range& items, MapOptions options, Encode encode) {
    std::uint32_t id = function_id<Fd, Item>(fn);
    EncodedItems e = encode_items(items, options, encode);
    auto sink =
        std::make_shared<Sink>(core(), std::move(e.offsets), e.total, std::move(options.progress));
    using T = typename std::decay_t<decltype(*sink->slot)>::Value;
    return submit<T>(id, std::move(sink), std::move(e.chunks));
  }

  template <class R, class Fd, class Item, class Range, class Encode>
  auto map_like(const Fd& fn, Range& items, MapOptions options, Callbacks<std::vector<R>> callbacks,
                Encode encode) {
    static_assert(detail::check_pool_callable<Fd, Item>());
    return map_like_impl<R, Fd, Item>(fn, items, std::move(options), std::move(callbacks), encode);
  }

  template <class F, class Range, class Tuple, std::size_t... I>
  auto starmap_job(F&& fn, Range&& items, MapOptions options, Tuple*, std::index_sequence<I...>) {
    using Fd = std::decay_t<F>;
    using R = detail::PoolResult<Fd, std::decay_t<std::tuple_element_t<I, Tuple>>...>;
    static_assert(!std::is_void_v<R>, "multiproc: starmap needs a function that returns a value");
    static_assert(detail::check_pool_callable<Fd, std::tuple_element_t<I, Tuple>...>());
    auto encode = [](detail::WireWriter& w, const Tuple& t) {
      detail::put_item(w, std::get<I>(t)...);
    };
    return map_like_impl<R, Fd, std::decay_t<std::tuple_element_t<I, Tuple>>...>(
        fn, items, std::move(options), {}, encode);
  }

  template <class F, class Range>
  auto imap_job(F&& fn, Range&& items, MapOptions options, bool ordered) {
    using Fd = std::decay_t<F>;
    using Item = detail::PoolItem<Range>;
    using R = detail::PoolCallResult<F, Item>;
    static_assert(detail::check_pool_callable<Fd, Item>());
    static_assert(!std::is_void_v<R>, "multiproc: imap needs a function that returns a value");
    std::uint32_t id = function_id<Fd, Item>(fn);
    auto sink = std::make_shared<detail::ImapSink<R>>(core(), ordered, std::move(options.progress));
    auto job = core().open_job(id, sink);
    detail::check_chunksize(options.chunksize, "Pool::imap");
    std::size_t chunksize = options.chunksize != 0 ? options.chunksize : 1;
    // The input: a range passed as an lvalue is read where it is (keep it
    // alive while iterating, as with a view), an rvalue is moved in. Read
    // only as results are consumed. (Plain begin/end, not std::views::all:
    // clang 14 cannot compile libstdc++ 12's views.)
    using Stored = std::conditional_t<std::is_lvalue_reference_v<Range>,
                                      std::remove_reference_t<Range>*, std::remove_cvref_t<Range>>;
    auto input = std::make_shared<detail::ImapInput<Stored>>(std::forward<Range>(items));
    auto counted = std::make_shared<std::size_t>(0);
    auto feed = [input, counted, chunksize, sink,
                 batch = processes()](std::vector<detail::PoolCore::Chunk>& out) {
      detail::ChunkBuilder builder(
          chunksize, [](detail::WireWriter& w, const Item& item) { detail::put_item(w, item); });
      for (std::size_t n = 0; n < chunksize * batch && !input->done(); ++n) {
        builder.add(input->take());
        ++*counted;
      }
      builder.flush();
      out = std::move(builder.chunks);
      bool more = !input->done();
      if (!more) sink->total = *counted;
      return more;
    };
    return ImapResults<R>(core_, std::move(job), sink, std::move(feed), 4 * processes(),
                          std::move(options.stop));
  }

  std::shared_ptr<detail::PoolCore> core_;
};

}  // namespace multiproc
