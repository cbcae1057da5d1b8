#include "start/identity.hpp"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>

#include "multiproc/current_process.hpp"

namespace multiproc::detail {
namespace {

IdentitySeed make_main_identity() {
  IdentitySeed s{};
  std::strcpy(s.name, "MainProcess");
  s.start_method = -1;
  s.parent_start_method = -1;
  return s;
}

std::mutex g_mu;  // guards g_self's name against a concurrent set (none after fork)
IdentitySeed g_self = make_main_identity();
std::atomic<int> g_child_counter{0};

void copy_name(char (&dst)[128], const char* src) noexcept {
  std::size_t n = std::strlen(src);
  if (n >= sizeof dst) n = sizeof dst - 1;
  std::memcpy(dst, src, n);
  dst[n] = '\0';
}

}  // namespace

std::string next_child_name(int& number) {
  number = ++g_child_counter;
  std::lock_guard lock(g_mu);
  std::string name = "Process-";
  for (int i = 0; i < g_self.depth; ++i) name += std::to_string(g_self.path[i]) + ":";
  return name + std::to_string(number);
}

IdentitySeed make_child_identity(const std::string& name, int number, bool daemon,
                                 StartMethod method) {
  std::lock_guard lock(g_mu);
  IdentitySeed s = g_self;
  copy_name(s.name, name.c_str());
  copy_name(s.parent_name, g_self.name);
  s.parent_pid = ::getpid();
  s.daemon = daemon;
  s.start_method = static_cast<int>(method);
  s.parent_start_method = static_cast<int>(get_start_method());
  if (s.depth < IdentitySeed::kMaxDepth) s.path[s.depth++] = number;
  return s;
}

void install_identity(const IdentitySeed& seed) noexcept {
  // The child has one thread, and g_mu may have been held by another thread
  // of the parent at the fork: write without it, and renew the mutex.
  std::memcpy(&g_self, &seed, sizeof seed);
  new (&g_mu) std::mutex;
  g_child_counter.store(0, std::memory_order_relaxed);
  if (seed.start_method >= 0) inherit_start_method(static_cast<StartMethod>(seed.start_method));
}

void use_parent_start_method() noexcept {
  if (g_self.parent_start_method >= 0) {
    inherit_start_method(static_cast<StartMethod>(g_self.parent_start_method));
  }
}

}  // namespace multiproc::detail

namespace multiproc {

CurrentProcess current_process() {
  std::lock_guard lock(detail::g_mu);
  CurrentProcess self;
  self.pid = ::getpid();
  self.name = detail::g_self.name;
  self.daemon = detail::g_self.daemon;
  return self;
}

std::optional<ParentProcess> parent_process() {
  std::lock_guard lock(detail::g_mu);
  if (detail::g_self.parent_pid == 0) return std::nullopt;
  return ParentProcess{detail::g_self.parent_pid, detail::g_self.parent_name};
}

bool ParentProcess::is_alive() const {
  return ::getppid() == pid;
}

}  // namespace multiproc
