// multiproc/context.hpp — every factory of the library, bound to a start method.
//
//   auto ctx = mp::get_context(mp::StartMethod::forkserver);
//   mp::Process p = ctx.Process(work, 42);     // started with forkserver
//   auto q = ctx.Queue<int>();                 // the same objects for every method
//   auto [a, b] = ctx.Pipe();
//
//   auto spawn = mp::get_context<mp::StartMethod::spawn>();
//   spawn.Process([](int n) { ... }, 1);       // checked at compile time:
//   spawn.Process([&x] { ... });               // error: a capturing lambda
//
// As in Python, a context differs from another only in how its processes
// start: queues, pipes, locks, events and shared memory are anonymous memfd
// objects that work across every method. The member functions carry Python's
// names (ctx.Process, ctx.Queue, ctx.Lock, ...). A Context is a small value:
// copy it freely; it is thread-safe.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <cstddef>
#include <type_traits>
#include <utility>

#include "multiproc/array.hpp"
#include "multiproc/barrier.hpp"
#include "multiproc/condition.hpp"
#include "multiproc/connection.hpp"
#include "multiproc/event.hpp"
#include "multiproc/lock.hpp"
#include "multiproc/process.hpp"
#include "multiproc/queue.hpp"
#include "multiproc/semaphore.hpp"
#include "multiproc/shared_memory.hpp"
#include "multiproc/start_method.hpp"
#include "multiproc/value.hpp"

namespace multiproc {

class Context {
 public:
  explicit Context(StartMethod method) noexcept : method_(method) {}

  StartMethod start_method() const noexcept { return method_; }

  // A Process started with this context's method (see process.hpp).
  template <class F, class... Args>
  requires detail::Target<F, Args...> multiproc::Process Process(F&& target, Args&&... args)
  const { return Process(ProcessOptions{}, std::forward<F>(target), std::forward<Args>(args)...); }
  template <class F, class... Args>
  requires detail::Target<F, Args...> multiproc::Process Process(ProcessOptions options, F&& target,
                                                                 Args&&... args)
  const {
    options.start_method = method_;
    return multiproc::Process(std::move(options), std::forward<F>(target),
                              std::forward<Args>(args)...);
  }

  template <class T>
  multiproc::Queue<T> Queue(QueueOptions options = {}) const {
    return multiproc::Queue<T>(options);
  }
  template <class T>
  multiproc::SimpleQueue<T> SimpleQueue() const {
    return multiproc::SimpleQueue<T>();
  }
  template <class T>
  multiproc::JoinableQueue<T> JoinableQueue(QueueOptions options = {}) const {
    return multiproc::JoinableQueue<T>(options);
  }
  std::pair<Connection, Connection> Pipe(bool duplex = true) const {
    return multiproc::Pipe(duplex);
  }

  template <class... A>
  multiproc::Lock Lock(A&&... a) const {
    return multiproc::Lock(std::forward<A>(a)...);
  }
  template <class... A>
  multiproc::RLock RLock(A&&... a) const {
    return multiproc::RLock(std::forward<A>(a)...);
  }
  template <class... A>
  multiproc::Semaphore Semaphore(A&&... a) const {
    return multiproc::Semaphore(std::forward<A>(a)...);
  }
  template <class... A>
  multiproc::BoundedSemaphore BoundedSemaphore(A&&... a) const {
    return multiproc::BoundedSemaphore(std::forward<A>(a)...);
  }
  template <class... A>
  multiproc::Event Event(A&&... a) const {
    return multiproc::Event(std::forward<A>(a)...);
  }
  template <class... A>
  multiproc::Condition Condition(A&&... a) const {
    return multiproc::Condition(std::forward<A>(a)...);
  }
  template <class... A>
  multiproc::Barrier Barrier(A&&... a) const {
    return multiproc::Barrier(std::forward<A>(a)...);
  }
  template <class T, class... A>
  multiproc::Value<T> Value(A&&... a) const {
    return multiproc::Value<T>(std::forward<A>(a)...);
  }
  template <class T, class... A>
  multiproc::Array<T> Array(A&&... a) const {
    return multiproc::Array<T>(std::forward<A>(a)...);
  }
  template <class... A>
  multiproc::SharedMemory SharedMemory(A&&... a) const {
    return multiproc::SharedMemory(std::forward<A>(a)...);
  }

 private:
  StartMethod method_;
};

// A context whose method is known at compile time: for spawn and forkserver,
// a target those methods cannot send is a compile-time error.
template <StartMethod M>
class StaticContext : public Context {
 public:
  StaticContext() noexcept : Context(M) {}

  template <class F, class... Args>
  requires detail::Target<F, Args...> multiproc::Process Process(F&& target, Args&&... args)
  const { return Process(ProcessOptions{}, std::forward<F>(target), std::forward<Args>(args)...); }
  template <class F, class... Args>
  requires detail::Target<F, Args...> multiproc::Process Process(ProcessOptions options, F&& target,
                                                                 Args&&... args)
  const {
    if constexpr (M != StartMethod::fork) {
      static_assert(detail::Nameable<std::decay_t<F>>,
                    "multiproc: spawn and forkserver children start from a fresh program, so the "
                    "callable must be a function or a capture-less lambda: a capturing lambda's "
                    "state cannot be sent. Pass the captured values as arguments instead.");
      static_assert((detail::Sendable<std::decay_t<Args>> && ...),
                    "multiproc: spawn and forkserver send the arguments to the child: each must "
                    "be serializable (serialization.hpp) or a shared object (Queue, Connection, "
                    "Lock, Event, Value, SharedMemory, ...); not a reference or a pointer.");
    }
    return Context::Process(std::move(options), std::forward<F>(target),
                            std::forward<Args>(args)...);
  }
};

// The context of `method`.
inline Context get_context(StartMethod method) noexcept {
  return Context(method);
}
// The context of the current default method (get_start_method()).
inline Context get_context() noexcept {
  return Context(get_start_method());
}
// The context of `M`, checked at compile time.
template <StartMethod M>
StaticContext<M> get_context() noexcept {
  return StaticContext<M>();
}

}  // namespace multiproc
