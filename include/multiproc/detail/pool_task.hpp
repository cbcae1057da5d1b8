// Internal: how a Pool task crosses to a worker and its results come back.
//
// A task is a chunk of items; an item is the encoded arguments of one call
// (put_item). The worker runs a chunk through a *runner*, a function template
// instantiated for the callable and argument types in the caller's program
// and named to the worker by code reference (code_ref.hpp), together with the
// callable itself (a function's code reference, or nothing for a stateless
// class such as a capture-less lambda). The runner decodes each item, calls,
// and appends each result (put_value) to the chunk's result bytes.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>

#include "multiproc/detail/process_target.hpp"
#include "multiproc/detail/wire.hpp"
#include "multiproc/serialization.hpp"

namespace multiproc::detail {

// Runs `count` items read from `in`, appending their results to `out`.
// `item` holds the index (in the chunk) of the item running now: exceptions
// propagate with it at the failing item, and it lives in memory the parent
// reads when the worker dies, so a crash names its item too.
using PoolRunner = void (*)(const void* fn, WireReader& in, std::uint32_t count, WireWriter& out,
                            std::atomic<std::uint32_t>& item);

template <class F>
F callable_from(const void* fn) {
  if constexpr (std::is_pointer_v<F>) {
    return reinterpret_cast<F>(const_cast<void*>(fn));
  } else {
    return F{};
  }
}

// The result type of calling F with the decoded arguments.
template <class F, class... Args>
using PoolResult = decltype(std::apply(std::declval<F&>(), std::declval<std::tuple<Args...>&&>()));

template <class F, class... Args>
void run_pool_chunk(const void* fn, WireReader& in, std::uint32_t count, WireWriter& out,
                    std::atomic<std::uint32_t>& item) {
  F f = callable_from<F>(fn);
  for (std::uint32_t i = 0; i < count; ++i) {
    item.store(i, std::memory_order_relaxed);
    // Braces: the arguments are decoded left to right.
    std::tuple<Args...> args{get_value<Args>(in)...};
    using R = PoolResult<F, Args...>;
    if constexpr (std::is_void_v<R>) {
      std::apply(f, std::move(args));
    } else {
      put_value(out, std::apply(f, std::move(args)));
      // One allocation for the chunk's results, sized after the first.
      if (i == 0 && count > 1) out.reserve(out.data().size() * count + 64);
    }
  }
}

// What Pool's templates call the result and item types.
template <class F, class... Args>
using PoolCallResult = PoolResult<std::decay_t<F>, std::decay_t<Args>...>;
template <class Range>
using PoolItem = std::decay_t<std::ranges::range_reference_t<Range>>;

template <class... Args>
void put_item(WireWriter& w, const Args&... args) {
  (put_value(w, args), ...);
}

// A target that spawn and forkserver can send (a Pool initializer): a
// nameable callable and arguments that are serializable or shared objects.
template <class F, class... Args>
concept SendableTarget = Nameable<std::decay_t<F>> &&(Sendable<std::decay_t<Args>>&&...);

// Pool task arguments and results cross as bytes only: shared objects
// (Queue, Lock, ...) reach workers through the pool's initializer instead.
template <class T>
concept PoolValue = Serializable<std::decay_t<T>>;

// A result a task can send back: void (nothing crosses), or a serializable
// value. Pointers and references are refused: they would name memory in the
// worker.
template <class R>
concept PoolReturn = std::is_void_v<R> ||
    (!std::is_pointer_v<R> && !std::is_reference_v<R> && Serializable<R>);

// A callable and argument types a pool can run: nameable in a worker, with
// serializable arguments and a serializable (or void) result.
template <class F, class... Args>
concept PoolCallable = Nameable<std::decay_t<F>> &&(PoolValue<Args>&&...) &&
                       PoolReturn<PoolResult<std::decay_t<F>, std::decay_t<Args>...>>;

// The compile-time check every Pool entry point runs first: a static_assert
// per mistake, each naming the fix, and at most one of them fails. Returns
// whether the task is sound, so that the caller compiles nothing else (no
// cascade of template errors) when it is not.
template <class F, class... Args>
constexpr bool check_pool_callable() {
  using R = PoolResult<std::decay_t<F>, std::decay_t<Args>...>;
  constexpr bool callable_ok = Nameable<std::decay_t<F>>;
  constexpr bool args_ok = (PoolValue<Args> && ...);
  static_assert(callable_ok,
                "multiproc: a Pool runs its tasks in other processes, so the callable must be a "
                "function or a capture-less lambda: a capturing lambda's state cannot be sent. "
                "Pass the captured values as arguments instead.");
  static_assert(!callable_ok || args_ok,
                "multiproc: Pool task arguments must be serializable (serialization.hpp); pass "
                "shared objects (Queue, Lock, Event, ...) through the pool's initializer");
  constexpr bool before_ok = callable_ok && args_ok;
  static_assert(!before_ok || !std::is_pointer_v<R>,
                "multiproc: a Pool task cannot return a pointer: the address means nothing in "
                "the caller's process. Return the value itself (or an index, a key).");
  static_assert(!before_ok || !std::is_reference_v<R>,
                "multiproc: a Pool task cannot return a reference: it would name memory in the "
                "worker. Return by value (a lambda: add `-> T`, or return a copy).");
  static_assert(!before_ok || std::is_pointer_v<R> || std::is_reference_v<R> || PoolReturn<R>,
                "multiproc: a Pool task's result is sent back to the caller's process, so its "
                "type must be serializable: give it a member "
                "`template <class Archive> void serialize(Archive& ar) { ar(member1, member2); }` "
                "(or a cereal save/load), or make it trivially copyable (serialization.hpp)");
  return before_ok && PoolReturn<R>;
}

// The map family (map, imap, starmap, map_outcomes) collects each call's
// result: the task must return one.
template <class R>
constexpr bool check_returns_value() {
  static_assert(!std::is_void_v<R>,
                "multiproc: map, imap, starmap and map_outcomes collect each call's result: "
                "the function must return a value (use apply_async for a task that returns "
                "nothing)");
  return !std::is_void_v<R>;
}
template <class F, class Item>
constexpr bool check_pool_map() {
  return check_pool_callable<F, Item>() && check_returns_value<PoolResult<std::decay_t<F>, Item>>();
}

// starmap's runner: the callable applied to each tuple's elements.
template <class Fd, class Tuple, class = std::make_index_sequence<std::tuple_size_v<Tuple>>>
struct TupleRunner;
template <class Fd, class Tuple, std::size_t... I>
struct TupleRunner<Fd, Tuple, std::index_sequence<I...>> {
  using Result = PoolResult<Fd, std::decay_t<std::tuple_element_t<I, Tuple>>...>;
  static constexpr bool check() {
    return check_pool_callable<Fd, std::tuple_element_t<I, Tuple>...>();
  }
  static PoolRunner runner() {
    return registered_entry<&run_pool_chunk<Fd, std::decay_t<std::tuple_element_t<I, Tuple>>...>>();
  }
};

}  // namespace multiproc::detail
