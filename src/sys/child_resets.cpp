#include "sys/child_resets.hpp"

#include <atomic>
#include <cstdlib>

namespace multiproc::sys {
namespace {

constexpr int kMaxResets = 8;
constinit std::atomic<ChildReset> g_resets[kMaxResets]{};
constinit std::atomic<int> g_count{0};

}  // namespace

bool on_fork_child(ChildReset reset) noexcept {
  int i = g_count.fetch_add(1);
  if (i >= kMaxResets) std::abort();
  g_resets[i].store(reset, std::memory_order_release);
  return true;
}

void run_child_resets() noexcept {
  int n = g_count.load(std::memory_order_acquire);
  if (n > kMaxResets) n = kMaxResets;
  for (int i = 0; i < n; ++i) {
    ChildReset reset = g_resets[i].load(std::memory_order_acquire);
    if (reset != nullptr) reset();
  }
}

}  // namespace multiproc::sys
