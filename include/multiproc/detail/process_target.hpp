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
    using R = std::invoke_result_t<F, Args...>;
    if constexpr (std::is_same_v<R, int>) {
      // A target that returns int sets the exit code, as main() does.
      return std::apply(std::move(f_), std::move(args_));
    } else {
      std::apply(std::move(f_), std::move(args_));
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

template <class F, class... Args>
std::unique_ptr<ProcessTarget> make_target(F&& f, Args&&... args) {
  return std::make_unique<BoundTarget<std::decay_t<F>, std::decay_t<Args>...>>(
      std::forward<F>(f), std::forward<Args>(args)...);
}

}  // namespace multiproc::detail
