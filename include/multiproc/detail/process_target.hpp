// Internal: the callable and arguments a Process runs in its child, stored
// behind one virtual interface so that Process itself is not a template.
//
// For fork, the child runs the object it inherited. For spawn and forkserver
// the target is written as a task (encode): the code reference of a decoder
// instantiated for the callable's and arguments' types, the callable itself
// (a function's code reference; nothing for a stateless class such as a
// capture-less lambda, which the child default-constructs), then each
// argument (serialized, or as descriptors for shared objects). The child
// resolves the decoder, which rebuilds the same BoundTarget there.
#pragma once

#include <concepts>
#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "multiproc/detail/code_ref.hpp"
#include "multiproc/detail/entry_point.hpp"
#include "multiproc/detail/wire.hpp"
#include "multiproc/error.hpp"

namespace multiproc::detail {

// An object whose descriptors must survive into a forked child when it is
// passed as a Process argument (Connection, Queue, ... provide this).
template <class T>
concept CarriesDescriptors = requires(const T& t, std::vector<int>& out) {
  t.multiproc_descriptors(out);
};

template <class T>
void collect_descriptors(const T& arg, std::vector<int>& out) {
  if constexpr (CarriesDescriptors<T>) arg.multiproc_descriptors(out);
}

template <class T>
void collect_descriptors(const std::reference_wrapper<T>& arg, std::vector<int>& out) {
  collect_descriptors(arg.get(), out);
}

// A callable another process can find: a function pointer, or a class with
// no state that the child can default-construct (a capture-less lambda).
template <class F>
concept Nameable = (std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>) ||
                   (std::is_class_v<F> && std::is_empty_v<F> && std::is_default_constructible_v<F>);

// An argument whose fate under spawn and forkserver this header decides
// alone: sent without cereal (LightSendable, wire.hpp) or never sendable (an
// address). Any other argument type needs serialization.hpp (SerializedArg).
template <class T>
concept DecidedHere = LightSendable<T> || NeverSendable<T>;

// Whether an argument of type T can be sent (false for one never sendable).
template <class T>
constexpr bool argument_sendable() {
  if constexpr (LightSendable<T>) {
    return true;
  } else if constexpr (NeverSendable<T>) {
    return false;
  } else {
    return SerializedArg<T>::sendable;
  }
}

template <class T>
void put_argument(WireWriter& out, const T& value) {
  if constexpr (LightSendable<T>) {
    put_value(out, value);
  } else {
    SerializedArg<T>::put(out, value);
  }
}

template <class T>
T get_argument(WireReader& in) {
  if constexpr (LightSendable<T>) {
    return get_value<T>(in);
  } else {
    return SerializedArg<T>::get(in);
  }
}

class ProcessTarget {
 public:
  virtual ~ProcessTarget() = default;
  // Runs in the child, once. Returns the exit code.
  virtual int run() = 0;
  // Descriptors of the arguments that the child must keep open.
  virtual void descriptors(std::vector<int>& out) const = 0;
  // Writes the task for a spawn or forkserver child. Throws UsageError when
  // the callable or an argument cannot be sent, saying which and why.
  virtual void encode(WireWriter& out) const = 0;
};

// Rebuilds a target from a task's bytes in the child (see encode).
using TargetDecoder = ProcessTarget* (*)(WireReader&);

template <class F, class... Args>
class BoundTarget;

// `decoder` is the trampoline that reads it: a function reference is only
// accepted with the tag that binds it to that trampoline (code_ref.hpp).
template <class F>
F decode_callable(WireReader& in, const CodeRef& decoder) {
  if constexpr (std::is_pointer_v<F>) {
    return resolve_function<std::remove_pointer_t<F>>(read_function_ref(in, decoder));
  } else {
    return F{};
  }
}

template <class F, class... Args>
ProcessTarget* decode_target(WireReader& in) {
  F f = decode_callable<F>(in, code_ref_of(&decode_target<F, Args...>));
  // Braces: the arguments, decoded left to right.
  return new BoundTarget<F, Args...>{std::move(f), get_argument<Args>(in)...};
}

template <class F, class... Args>
class BoundTarget final : public ProcessTarget {
 public:
  template <class G, class... A>
  explicit BoundTarget(G&& f, A&&... args)
      : f_(std::forward<G>(f)), args_(std::forward<A>(args)...) {}

  int run() override {
    // The child owns its arguments: hand them over as rvalues when the target
    // takes them so, as lvalues otherwise (a target taking Connection&).
    if constexpr (std::is_invocable_v<F, Args...>) {
      return exit_code([&] { return std::apply(std::move(f_), std::move(args_)); });
    } else {
      return exit_code([&] { return std::apply(f_, args_); });
    }
  }

  // A target that returns int sets the exit code, as main() does.
  template <class Call>
  static int exit_code(Call call) {
    if constexpr (std::is_same_v<decltype(call()), int>) {
      return call();
    } else {
      call();
      return 0;
    }
  }

  void descriptors(std::vector<int>& out) const override {
    std::apply([&out](const auto&... a) { (collect_descriptors(a, out), ...); }, args_);
  }

  void encode(WireWriter& out) const override {
    static_assert((DecidedHere<Args> && ...) || (SerializationVisible<Args> && ...),
                  "multiproc: a Process argument of this type is sent to spawn and forkserver "
                  "children with cereal: #include <multiproc/serialization.hpp> (or "
                  "<multiproc/multiproc.hpp>). process.hpp alone sends numbers, enums, "
                  "std::string, std::vector of numbers and shared objects");
    if constexpr ((DecidedHere<Args> && ...) || (SerializationVisible<Args> && ...)) {
      encode_sendable(out);
    }
  }

  void encode_sendable(WireWriter& out) const {
    if constexpr (!Nameable<F>) {
      throw UsageError(
          "multiproc: spawn and forkserver children start from a fresh program, so the callable "
          "must be a function or a capture-less lambda (a capturing lambda's state cannot be "
          "sent); pass the captured values as arguments instead");
    } else if constexpr (!(argument_sendable<Args>() && ...)) {
      throw UsageError(
          "multiproc: spawn and forkserver children receive their arguments serialized: every "
          "argument must be serializable (see serialization.hpp) or a shared object (Queue, "
          "Connection, Lock, Event, Value, SharedMemory, ...); references and pointers cannot "
          "be sent");
    } else {
      CodeRef decoder = entry_ref<&decode_target<F, Args...>>();
      write_code_ref(out, decoder);
      if constexpr (std::is_pointer_v<F>) write_function_ref(out, decoder, code_ref_of(f_));
      std::apply([&out](const auto&... a) { (put_argument(out, a), ...); }, args_);
    }
  }

 private:
  F f_;
  std::tuple<Args...> args_;
};

// A target is called with its arguments as rvalues, or failing that as lvalues.
template <class F, class... Args>
concept Target = std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...> ||
                 std::is_invocable_v < std::decay_t<F>
&, std::decay_t<Args>&... > ;

template <class F, class... Args>
std::unique_ptr<ProcessTarget> make_target(F&& f, Args&&... args) {
  return std::make_unique<BoundTarget<std::decay_t<F>, std::decay_t<Args>...>>(
      std::forward<F>(f), std::forward<Args>(args)...);
}

}  // namespace multiproc::detail
