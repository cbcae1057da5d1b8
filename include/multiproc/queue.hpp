// multiproc/queue.hpp — Queue, SimpleQueue and JoinableQueue: many producers,
// many consumers, across processes. Python's multiprocessing.Queue family.
//
//   mp::Queue<std::string> q;                 // unbounded; Queue<T>(maxsize) bounds it
//   mp::Process p([](mp::Queue<std::string> q) { q.put("hello"); }, q);
//   p.start();
//   std::string s = q.get();                  // blocks; q.get(1s) -> std::optional
//   p.join();
//
// Items are any Serializable value (serialization.hpp). They live in shared
// memory (a memfd): a small item is copied into a ring there, a large one
// beyond the ring; a get decodes straight from that memory. There is no
// feeder thread: put() returns once the item is in the queue, so a child that
// puts a large item and exits never waits for a reader (Python's classic
// deadlock), and nothing is lost at exit.
//
// Crash consistency: an item becomes visible only when it is completely
// written, so a producer killed in the middle of put() — of any size — never
// delivers a partial item. Producers share one robust lock and consumers
// another: a process killed while holding one is detected by the next user,
// which carries on. A consumer killed inside get() leaves the item to the next
// consumer. An unbounded queue never blocks put(); a bounded one blocks while
// it holds `maxsize` items.
//
// Handles are cheap copies that all refer to the same queue (pass one to a
// Process by value). A forked child keeps the queue's descriptors; fd() and
// eventfd() with from_fd() rebuild a handle in another process.
//
// Thread safety: all methods, from any number of threads and processes. Not
// async-signal-safe. Destruction of the last handle in the last process frees
// the queue.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "multiproc/detail/queue_core.hpp"
#include "multiproc/detail/wire.hpp"
#include "multiproc/error.hpp"
#include "multiproc/serialization.hpp"
#include "multiproc/stop.hpp"

namespace multiproc {

class WaitObject;

struct QueueOptions {
  // Items the queue holds before put() blocks; 0: unbounded.
  std::size_t maxsize = 0;
  // Bytes of the shared ring for small items (rounded up to a power of two;
  // 64 KiB to 1 GiB). Items over a quarter of it are stored beyond the ring.
  std::size_t capacity_bytes = std::size_t{8} << 20;
};

template <class T>
class Queue {
  static_assert(!std::is_pointer_v<T>,
                "multiproc: a pointer cannot be sent to another process (the address means "
                "nothing there); send the value it points to");
  static_assert(!std::is_reference_v<T>,
                "multiproc: a queue holds values, not references: use Queue<T> with T a value "
                "type (the reference would name memory in the sending process)");
  static_assert(std::is_pointer_v<T> || std::is_reference_v<T> || Serializable<T>,
                "multiproc: Queue<T> (and SimpleQueue<T>, JoinableQueue<T>) sends T to other "
                "processes, so T must be serializable: give it a member "
                "`template <class Archive> void serialize(Archive& ar) { ar(member1, member2); }` "
                "(or a cereal save/load), or make it trivially copyable (serialization.hpp)");

 public:
  using Clock = std::chrono::steady_clock;

  explicit Queue(QueueOptions options = {})
      : core_(detail::QueueCore::create({options.maxsize, options.capacity_bytes},
                                        Encoded<T>::tag())) {}
  explicit Queue(std::size_t maxsize) : Queue(QueueOptions{.maxsize = maxsize}) {}

  // Blocks while a bounded queue is full.
  void put(const T& item) { (void)put_until(item, std::nullopt); }
  // False if the queue stayed full for `timeout`.
  bool put(const T& item, std::chrono::nanoseconds timeout) {
    return put_until(item, detail::deadline_after(timeout));
  }
  // Python's put_nowait: false if the queue is full.
  bool try_put(const T& item) { return put_until(item, Clock::now()); }

  // Blocks until an item arrives.
  T get() { return *get_until(std::nullopt); }
  // Waits for an item; Interrupted when `stop` is requested first.
  T get(std::stop_token stop) {
    return *detail::until_stopped(stop, "Queue::get", [&](auto slice) { return get(slice); });
  }
  // Waits for room; Interrupted when `stop` is requested first (the item was
  // not put).
  void put(const T& item, std::stop_token stop) {
    detail::until_stopped(stop, "Queue::put", [&](auto slice) { return put(item, slice); });
  }
  // nullopt if the queue stayed empty for `timeout`.
  std::optional<T> get(std::chrono::nanoseconds timeout) {
    return get_until(detail::deadline_after(timeout));
  }
  // Python's get_nowait: nullopt if the queue is empty.
  std::optional<T> try_get() { return get_until(Clock::now()); }

  // Approximate, as in Python: other processes change it at any moment.
  std::size_t qsize() const { return static_cast<std::size_t>(core().qsize()); }
  bool empty() const { return qsize() == 0; }
  bool full() const { return core().maxsize() > 0 && qsize() >= core().maxsize(); }
  std::size_t maxsize() const { return static_cast<std::size_t>(core().maxsize()); }

  // Python 3.13's shutdown, for every process that uses the queue: put
  // throws ShutDown from now on; get returns what is still queued, then
  // throws ShutDown; waiters blocked in put or get wake up and throw it.
  // `immediate` discards what is queued first (a JoinableQueue counts those
  // items as done, so join() returns). Idempotent; immediate wins.
  void shutdown(bool immediate = false) { core().shutdown(immediate); }
  bool is_shutdown() const { return core().is_shutdown(); }

  // Releases this handle; using it afterwards is a UsageError. The queue
  // lives on in the other handles and processes.
  void close() noexcept { core_.reset(); }
  bool closed() const noexcept { return !core_; }

  // The queue's memfd and eventfd, close-on-exec, for passing to another
  // process (-1 in a forked child that was not given them).
  int fd() const { return core().memfd(); }
  int eventfd() const { return core().eventfd(); }
  // Adopts both descriptors. UsageError if they are not a queue of T.
  static Queue from_fd(int memfd, int eventfd) {
    return Queue(detail::QueueCore::adopt(memfd, eventfd, Encoded<T>::tag()));
  }
  void multiproc_descriptors(std::vector<int>& out) const {
    if (!core_) return;
    for (int fd : {core_->memfd(), core_->eventfd()}) {
      if (fd >= 0) out.push_back(fd);
    }
  }
  // Crossing into a spawned or forkserver child as descriptors (detail/wire.hpp).
  void multiproc_export(detail::WireWriter& w) const {
    w.fd(core().memfd());
    w.fd(core().eventfd());
  }
  static Queue multiproc_import(detail::WireReader& r) { return Queue(import_core(r)); }

 protected:
  friend class WaitObject;  // waits on the core's eventfd
  detail::QueueCore& core() const {
    if (!core_) throw UsageError("Queue: this handle was closed");
    return *core_;
  }

  explicit Queue(std::shared_ptr<detail::QueueCore> core) : core_(std::move(core)) {}
  static std::shared_ptr<detail::QueueCore> import_core(detail::WireReader& r) {
    int memfd = detail::dup_received(r.fd());
    int eventfd = -1;
    try {
      eventfd = detail::dup_received(r.fd());
      return detail::QueueCore::adopt(memfd, eventfd, Encoded<T>::tag());
    } catch (...) {
      ::close(memfd);
      if (eventfd >= 0) ::close(eventfd);
      throw;
    }
  }

 private:
  bool put_until(const T& item, const detail::QueueCore::Deadline& deadline) {
    Encoded<T> encoded(item);
    return core().put(encoded.bytes(), deadline);
  }
  std::optional<T> get_until(const detail::QueueCore::Deadline& deadline) {
    std::optional<T> out;
    core().get(
        [](void* ctx, std::span<const std::byte> bytes) {
          static_cast<std::optional<T>*>(ctx)->emplace(decode<T>(bytes));
        },
        &out, deadline);
    return out;
  }

  std::shared_ptr<detail::QueueCore> core_;
};

// Python's SimpleQueue: an unbounded queue with put, get, empty and close.
template <class T>
class SimpleQueue : public Queue<T> {
 public:
  SimpleQueue() : Queue<T>(QueueOptions{}) {}
  static SimpleQueue multiproc_import(detail::WireReader& r) {
    return SimpleQueue(Queue<T>::import_core(r));
  }

 private:
  explicit SimpleQueue(std::shared_ptr<detail::QueueCore> core) : Queue<T>(std::move(core)) {}
};

// A Queue that also counts unfinished items: every get() is matched by a
// task_done(), and join() waits until all items put so far are done.
//
// join() never waits forever for a consumer that died. The queue knows which
// consumer thread holds how many unfinished items (the thread that called
// get() holds the item until a task_done()). When nothing is queued and
// every unfinished item is held by a thread that has ended — its process was
// killed or crashed, or the thread returned without task_done() — join(),
// in each of its forms, throws ConsumerLost naming those consumers and the
// count, within about 20 ms of that becoming true (docs/queues.md). The
// items are not re-queued; every later join() throws the same until
// task_done() is called once per lost item. Items still queued, or held by
// live consumers, are waited for as usual.
template <class T>
class JoinableQueue : public Queue<T> {
 public:
  explicit JoinableQueue(QueueOptions options = {})
      : Queue<T>(detail::QueueCore::create({options.maxsize, options.capacity_bytes},
                                           Encoded<T>::tag(), /*joinable=*/true)) {}
  explicit JoinableQueue(std::size_t maxsize) : JoinableQueue(QueueOptions{.maxsize = maxsize}) {}
  static JoinableQueue multiproc_import(detail::WireReader& r) {
    return JoinableQueue(Queue<T>::import_core(r));
  }

  // UsageError if called more times than items were put. Credited to the
  // calling thread's items, or to another thread's (of this process first)
  // when it holds none.
  void task_done() { this->core().task_done(); }
  // ConsumerLost: see above.
  void join() { (void)this->core().join(std::nullopt); }
  // False if items were still unfinished after `timeout`; ConsumerLost.
  bool join(std::chrono::nanoseconds timeout) {
    return this->core().join(detail::deadline_after(timeout));
  }
  // Interrupted when `stop` is requested first; ConsumerLost.
  void join(std::stop_token stop) {
    detail::until_stopped(stop, "JoinableQueue::join", [&](auto slice) { return join(slice); });
  }

 private:
  explicit JoinableQueue(std::shared_ptr<detail::QueueCore> core) : Queue<T>(std::move(core)) {}
};

}  // namespace multiproc
