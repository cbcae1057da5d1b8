// Internal: where a Pool job's chunks end (pool.hpp submits, the engine
// calls). A sink turns each chunk's outcome (its result bytes, or its error)
// into what the caller reads: an AsyncResult's slot, map's vector in input
// order, map_outcomes' Outcome per item, imap's buffered chunks. Sinks are
// called with the engine's lock held (pool_core.hpp): they never block and
// never call back into the pool; callbacks and progress hooks go to
// PoolCore::post and run once the lock is released.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "multiproc/async_result.hpp"
#include "multiproc/detail/pool_core.hpp"
#include "multiproc/detail/wire.hpp"
#include "multiproc/outcome.hpp"

namespace multiproc::detail {

// map_outcomes takes no callbacks.
struct NoCallbacks {};

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

// The progress hook of a blocking map, starmap or map_outcomes, detached
// when the call returns or throws: after Interrupted the tasks go on, and
// the hook (a lambda over the caller's locals, typically) must not be
// called once the caller's scope is gone. A call in progress is waited for.
class ScopedProgress {
 public:
  explicit ScopedProgress(std::function<void(std::size_t, std::size_t)>& hook) {
    if (!hook) return;
    gate_ = std::make_shared<Gate>();
    gate_->hook = std::move(hook);
    hook = [gate = gate_](std::size_t done, std::size_t total) {
      std::lock_guard lock(gate->mu);
      if (gate->hook) gate->hook(done, total);
    };
  }
  ~ScopedProgress() {
    if (!gate_) return;
    std::lock_guard lock(gate_->mu);
    gate_->hook = nullptr;
  }
  ScopedProgress(const ScopedProgress&) = delete;
  ScopedProgress& operator=(const ScopedProgress&) = delete;

 private:
  struct Gate {
    std::mutex mu;
    std::function<void(std::size_t, std::size_t)> hook;
  };
  std::shared_ptr<Gate> gate_;
};

// map / map_async / starmap: every item's result in input order; the first
// error fails the whole job (as Python's map does).
template <class R>
class MapSink final : public ChunkSink {
 public:
  using Value = std::vector<R>;
  using CallbackSet = Callbacks<std::vector<R>>;
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
  // A job without items: done at once, before the slot is shared.
  void finish_empty() {
    slot->value.emplace();
    slot->done = true;
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
  using Value = std::vector<Outcome<R>>;
  using CallbackSet = NoCallbacks;
  OutcomeSink(PoolCore& core, std::vector<std::size_t> offsets, std::size_t total,
              std::function<void(std::size_t, std::size_t)> progress, NoCallbacks)
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
  void finish_empty() {
    slot->value.emplace();
    slot->done = true;
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
  // Under the core's lock: whether the next chunk's outcome is there, and
  // taking it.
  bool has_next() const { return ordered_ ? done_.count(next_chunk_) != 0 : !done_.empty(); }
  std::optional<Done> next() {
    auto it = ordered_ ? done_.find(next_chunk_) : done_.begin();
    if (it == done_.end()) return std::nullopt;
    Done d = std::move(it->second);
    done_.erase(it);
    ++next_chunk_;
    buffered_.store(done_.size(), std::memory_order_relaxed);
    return d;
  }
  // Outcomes waiting to be handed out; read without the lock.
  std::size_t buffered() const noexcept { return buffered_.load(std::memory_order_relaxed); }
  std::atomic<std::size_t> total{0};  // items, once the input is exhausted
  // What reading imap's input threw; thrown after the results of the items
  // read before it. Written and read by the iterating thread only.
  std::exception_ptr input_error;

 private:
  void store(std::size_t chunk, Done d) {
    done_.emplace(chunk, std::move(d));
    buffered_.store(done_.size(), std::memory_order_relaxed);
  }

  PoolCore& core_;
  bool ordered_;
  Progress progress_;
  std::map<std::size_t, Done> done_;
  std::atomic<std::size_t> buffered_{0};
  std::size_t next_chunk_ = 0;
};

}  // namespace multiproc::detail
