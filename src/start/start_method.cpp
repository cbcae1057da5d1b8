#include "multiproc/start_method.hpp"

#include <atomic>
#include <string>
#include <vector>

#include "multiproc/error.hpp"
#include "start/identity.hpp"

namespace multiproc {
namespace {

std::atomic<StartMethod> g_method{StartMethod::fork};
std::atomic<bool> g_method_set{false};

}  // namespace

std::string_view to_string(StartMethod method) noexcept {
  switch (method) {
    case StartMethod::fork:
      return "fork";
    case StartMethod::spawn:
      return "spawn";
    case StartMethod::forkserver:
      return "forkserver";
  }
  return "unknown";
}

std::optional<StartMethod> parse_start_method(std::string_view name) noexcept {
  for (StartMethod m : {StartMethod::fork, StartMethod::spawn, StartMethod::forkserver}) {
    if (to_string(m) == name) return m;
  }
  return std::nullopt;
}

void set_start_method(StartMethod method, bool force) {
  if (g_method_set.exchange(true) && !force) {
    throw UsageError("set_start_method: the start method was already set (to " +
                     std::string(to_string(g_method.load())) + "); pass force = true to change it");
  }
  g_method.store(method);
}

StartMethod get_start_method() noexcept {
  return g_method.load();
}

std::vector<StartMethod> get_all_start_methods() {
  // The default first, as Python lists it.
  std::vector<StartMethod> all{get_start_method()};
  for (StartMethod m : {StartMethod::fork, StartMethod::spawn, StartMethod::forkserver}) {
    if (m != all.front()) all.push_back(m);
  }
  return all;
}

void detail::inherit_start_method(StartMethod method) noexcept {
  static_assert(std::atomic<StartMethod>::is_always_lock_free);
  g_method.store(method);
  g_method_set.store(true);
}

}  // namespace multiproc
