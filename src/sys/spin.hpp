// A brief, bounded spin before a futex sleep. When the other side is about
// to act (it runs on another CPU), waiting a microsecond or two in user space
// is cheaper than sleeping: a sleep and its wake-up cost two system calls
// and two context switches (~5 us on the development machine), and a waiter
// that does not sleep spares the waker its futex_wake too. The budget is
// time, not iterations: `pause` takes from 3 to 30 ns depending on the CPU.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace multiproc::sys {

// Less than the sleep and wake-up it may save, so that a spin in vain costs
// at most about half of what a successful one saves (docs/performance.md).
inline constexpr std::chrono::nanoseconds kSpinBudget{2000};

// The budget in force: kSpinBudget, or what a benchmark set to measure the
// futex path alone (0: sleep at once). Inherited by forked children.
inline std::atomic<std::int64_t> g_spin_budget_ns{kSpinBudget.count()};
inline void set_spin_budget(std::chrono::nanoseconds budget) noexcept {
  g_spin_budget_ns.store(budget.count(), std::memory_order_relaxed);
}

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Spins until `done()` or the budget has passed; returns done()'s last value.
template <class Done>
bool spin_until(Done done) noexcept {
  if (done()) return true;
  std::int64_t budget = g_spin_budget_ns.load(std::memory_order_relaxed);
  if (budget <= 0) return false;
  const auto end = std::chrono::steady_clock::now() + std::chrono::nanoseconds(budget);
  for (;;) {
    for (int i = 0; i < 8; ++i) {  // a clock read costs ~20 ns: not on every turn
      cpu_relax();
      if (done()) return true;
    }
    if (std::chrono::steady_clock::now() >= end) return done();
  }
}

}  // namespace multiproc::sys
