// Internal: the callable and arguments a Process runs in its child, stored
// behind one virtual interface so that Process itself is not a template.
#pragma once

#include <concepts>
#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

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

class ProcessTarget {
 public:
  virtual ~ProcessTarget() = default;
  // Runs in the child, once. Returns the exit code.
  virtual int run() = 0;
  // Descriptors of the arguments that the child must keep open.
  virtual void descriptors(std::vector<int>& out) const = 0;
};

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
