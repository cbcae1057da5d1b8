#include "signals/kill_list.hpp"

#include <csignal>

#include <array>
#include <atomic>
#include <cstdint>

#include "contain/session.hpp"
#include "sys/syscall.hpp"

namespace multiproc::detail {
namespace {

// A slot holds 0 (empty), pidfd + 1 (so that descriptor 0 is representable)
// or -pgid.
constexpr std::size_t kSlots = 4096;
std::array<std::atomic<std::int64_t>, kSlots> g_slots{};

void add(std::int64_t entry) noexcept {
  for (auto& slot : g_slots) {
    std::int64_t empty = 0;
    if (slot.load(std::memory_order_relaxed) == 0 &&
        slot.compare_exchange_strong(empty, entry, std::memory_order_release)) {
      return;
    }
  }
}

void remove(std::int64_t entry) noexcept {
  for (auto& slot : g_slots) {
    std::int64_t expected = entry;
    if (slot.load(std::memory_order_relaxed) == entry &&
        slot.compare_exchange_strong(expected, 0, std::memory_order_release)) {
      return;
    }
  }
}

}  // namespace

void kill_list_add_pidfd(int pidfd) noexcept {
  if (pidfd >= 0) add(std::int64_t{pidfd} + 1);
}
void kill_list_remove_pidfd(int pidfd) noexcept {
  if (pidfd >= 0) remove(std::int64_t{pidfd} + 1);
}
void kill_list_add_group(pid_t pgid) noexcept {
  if (pgid > 0) add(-std::int64_t{pgid});
}
void kill_list_remove_group(pid_t pgid) noexcept {
  if (pgid > 0) remove(-std::int64_t{pgid});
}

void kill_list_kill_all() noexcept {
  contain::kill_session_trees();  // contained trees: every process at once
  for (auto& slot : g_slots) {
    std::int64_t entry = slot.load(std::memory_order_acquire);
    if (entry > 0) {
      // A descriptor closed and reused since is harmless: the call fails
      // with EBADF or EINVAL unless it is another pidfd of ours.
      (void)sys::pidfd_send_signal(static_cast<int>(entry - 1), SIGKILL);
    } else if (entry < 0) {
      (void)::kill(static_cast<pid_t>(entry), SIGKILL);  // -pgid: the group
    }
  }
}

void forget_kill_list_after_fork() noexcept {
  for (auto& slot : g_slots) slot.store(0, std::memory_order_relaxed);
}

}  // namespace multiproc::detail
