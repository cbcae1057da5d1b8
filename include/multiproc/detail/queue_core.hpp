// Internal: the untyped core of Queue<T> (bytes in, bytes out). See
// docs/queues.md for the design; src/queue/ for the implementation.
// Thread-safe and process-safe; one QueueCore per process per queue.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

namespace multiproc::detail {

class QueueCore {
 public:
  struct Options {
    std::uint64_t maxsize;   // items; 0: unbounded
    std::uint64_t capacity;  // ring bytes (rounded up to a power of two)
  };
  using Deadline = std::optional<std::chrono::steady_clock::time_point>;
  // Receives one item's bytes; they are valid only during the call.
  using Consumer = void (*)(void* context, std::span<const std::byte> bytes);

  // `joinable`: a JoinableQueue, whose consumers are tracked for join().
  static std::shared_ptr<QueueCore> create(const Options& options, std::uint32_t type_tag,
                                           bool joinable = false);
  // Rebuilds a handle from the queue's descriptors (memfd, eventfd), e.g. in
  // a spawned child. Throws UsageError if they are not a queue of this type.
  static std::shared_ptr<QueueCore> adopt(int memfd, int eventfd, std::uint32_t type_tag);
  ~QueueCore();
  QueueCore(const QueueCore&) = delete;
  QueueCore& operator=(const QueueCore&) = delete;

  // False if the deadline passed first (bounded queue full).
  bool put(std::span<const std::byte> bytes, const Deadline& deadline);
  // False if the deadline passed with the queue empty. Exceptions thrown by
  // `consume` propagate after the item was taken off the queue.
  bool get(Consumer consume, void* context, const Deadline& deadline);

  std::uint64_t qsize() const noexcept;
  std::uint64_t maxsize() const noexcept;

  // Python 3.13's shutdown: put throws ShutDown from now on, get once the
  // queue is empty; `immediate` empties it first (counting the items as
  // done, for join). Wakes every waiter. Idempotent; immediate wins.
  void shutdown(bool immediate);
  bool is_shutdown() const noexcept;

  // JoinableQueue. join() is false if the deadline passed first, and throws
  // ConsumerLost when the unfinished items are all held by consumers that
  // have ended (a queue created joinable only).
  void task_done();
  bool join(const Deadline& deadline);

  // The descriptors, or -1 in a forked child that was not given them.
  int memfd() const noexcept;
  int eventfd() const noexcept;

  // For wait(): while registered, producers make eventfd() readable when the
  // queue becomes non-empty. ready() says whether an item is there now, and
  // makes eventfd() unreadable when it is not.
  void add_poller() noexcept;
  void remove_poller() noexcept;
  bool ready() noexcept;

  struct Impl;

 private:
  explicit QueueCore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace multiproc::detail
