#include "process/registry.hpp"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <optional>

#include "multiproc/current_process.hpp"
#include "sys/child_resets.hpp"
#include "sys/deadline.hpp"

namespace multiproc::detail {
namespace {

struct Registry {
  std::mutex mu;
  std::vector<std::shared_ptr<ChildState>> children;
  Registry* forgotten_next = nullptr;
};

// Never freed: it must outlive static destructors and the atexit handler.
std::atomic<Registry*> g_registry{nullptr};
// Registries inherited from ancestors, kept reachable but never touched:
// their descriptors were closed at fork and their mutex may be held.
Registry* g_forgotten = nullptr;

struct ExitPolicy {
  std::optional<std::chrono::nanoseconds> join_timeout = std::chrono::seconds(30);
  std::chrono::nanoseconds terminate_grace = std::chrono::seconds(1);
};
std::mutex g_policy_mu;
ExitPolicy g_policy;

Registry& registry() {
  Registry* r = g_registry.load(std::memory_order_acquire);
  if (r != nullptr) return *r;
  auto* fresh = new Registry;
  if (g_registry.compare_exchange_strong(r, fresh)) return *fresh;
  delete fresh;
  return *r;
}

// SIGTERM to all, one shared grace period, then SIGKILL to those still
// running. Bounded by `grace` plus the kill.
void stop_all(const std::vector<std::shared_ptr<ChildState>>& children,
              std::chrono::nanoseconds grace) {
  for (const auto& c : children) c->signal(SIGTERM);
  auto deadline = sys::Deadline::after(grace);
  for (const auto& c : children) {
    if (!c->wait(deadline)) c->signal(SIGKILL);
  }
  for (const auto& c : children) c->wait(sys::Deadline::never());
}

void exit_handler() noexcept {
  try {
    end_children(running_children());
  } catch (...) {
    // Exit goes on; PR_SET_PDEATHSIG still ends the children.
  }
}

}  // namespace

void register_child(std::shared_ptr<ChildState> child) {
  static std::once_flag exit_handler_once;
  // atexit fails only when its table is full; destructors and the death
  // signal still end the children then.
  std::call_once(exit_handler_once, [] { (void)std::atexit(exit_handler); });
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.children.push_back(std::move(child));
}

void unregister_child(const ChildState* child) noexcept {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  std::erase_if(r.children, [child](const auto& c) { return c.get() == child; });
}

std::vector<std::shared_ptr<ChildState>> running_children() {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  std::vector<std::shared_ptr<ChildState>> out;
  for (const auto& c : r.children) {
    if (!c->try_reap()) out.push_back(c);
  }
  return out;
}

void end_children(const std::vector<std::shared_ptr<ChildState>>& children) {
  ExitPolicy policy;
  {
    std::lock_guard lock(g_policy_mu);
    policy = g_policy;
  }
  std::vector<std::shared_ptr<ChildState>> daemons, others;
  for (const auto& c : children) (c->daemon() ? daemons : others).push_back(c);
  stop_all(daemons, policy.terminate_grace);

  auto deadline =
      policy.join_timeout ? sys::Deadline::after(*policy.join_timeout) : sys::Deadline::never();
  std::vector<std::shared_ptr<ChildState>> late;
  for (const auto& c : others) {
    if (!c->wait(deadline)) late.push_back(c);
  }
  stop_all(late, policy.terminate_grace);
}

void forget_children_after_fork() noexcept {
  Registry* inherited = g_registry.exchange(nullptr);
  if (inherited == nullptr) return;
  inherited->forgotten_next = g_forgotten;
  g_forgotten = inherited;
}

namespace {
[[maybe_unused]] const bool g_reset_registered = sys::on_fork_child(forget_children_after_fork);
}  // namespace

}  // namespace multiproc::detail

namespace multiproc {

std::vector<ProcessInfo> active_children() {
  std::vector<ProcessInfo> out;
  for (const auto& c : detail::running_children()) {
    out.push_back({c->pid(), c->name(), c->daemon()});
  }
  return out;
}

void set_exit_join_timeout(std::optional<std::chrono::nanoseconds> timeout) {
  std::lock_guard lock(detail::g_policy_mu);
  detail::g_policy.join_timeout = timeout;
}

void set_exit_terminate_grace(std::chrono::nanoseconds grace) {
  std::lock_guard lock(detail::g_policy_mu);
  detail::g_policy.terminate_grace = grace;
}

}  // namespace multiproc
