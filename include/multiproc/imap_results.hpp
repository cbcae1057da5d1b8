// multiproc/imap_results.hpp — the lazy results of Pool::imap and
// Pool::imap_unordered.
//
//   for (int y : pool.imap(square, mp::range_from(0))) { if (y > 1000) break; }
//
// A single-pass input range: iterate from one thread at a time. Each step
// hands out the next result (rethrowing its task's error, which names its
// item), feeding at most a few chunks per worker ahead of the consumer, so an
// endless input works and memory stays flat. Iteration honours
// MapOptions::stop (Interrupted). Keeps its pool's engine alive.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <stop_token>
#include <vector>

#include "multiproc/detail/pool_core.hpp"
#include "multiproc/detail/pool_sinks.hpp"
#include "multiproc/stop.hpp"

namespace multiproc {

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
    std::size_t buffered() { return sink->buffered(); }
    void advance() {
      if (finished) return;
      if (started && ++pos < current.size()) return;
      started = true;
      for (;;) {
        top_up();
        // Either the window is full (a chunk is running) or the input is
        // exhausted: a result, or the end, is coming.
        auto ready = [&] {
          return sink->has_next() || (input_done && core->unfinished(*job) == 0);
        };
        if (stop.stop_possible()) {
          detail::until_stopped(stop, "Pool::imap", [&](auto slice) {
            return core->wait(ready, std::chrono::steady_clock::now() + slice);
          });
        } else {
          core->wait(ready, std::nullopt);
        }
        std::optional<typename detail::ImapSink<R>::Done> d;
        core->run_locked([&] { d = sink->next(); });
        if (!d) {
          finished = true;
          // Every item read before the input threw has its result out.
          if (sink->input_error) std::rethrow_exception(sink->input_error);
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

}  // namespace multiproc
