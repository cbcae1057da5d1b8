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

// Pool task arguments and results cross as bytes only: shared objects
// (Queue, Lock, ...) reach workers through the pool's initializer instead.
template <class T>
concept PoolValue = Serializable<std::decay_t<T>>;

// A callable and argument types a pool can run: nameable in a worker, with
// serializable arguments and a serializable (or void) result.
template <class F, class... Args>
concept PoolCallable = Nameable<std::decay_t<F>> &&(PoolValue<Args>&&...) && requires {
  typename PoolResult<std::decay_t<F>, std::decay_t<Args>...>;
};

template <class F, class... Args>
constexpr bool check_pool_callable() {
  static_assert(Nameable<std::decay_t<F>>,
                "multiproc: a Pool runs its tasks in other processes, so the callable must be a "
                "function or a capture-less lambda: a capturing lambda's state cannot be sent. "
                "Pass the captured values as arguments instead.");
  static_assert((PoolValue<Args> && ...),
                "multiproc: Pool task arguments must be serializable (serialization.hpp); pass "
                "shared objects (Queue, Lock, Event, ...) through the pool's initializer");
  return true;
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
