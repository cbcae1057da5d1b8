// A brief, bounded spin before a futex sleep. When the other side is about
// to act (it runs on another CPU), waiting a microsecond or two in user space
// is cheaper than sleeping: a sleep and its wake-up cost two system calls
// and two context switches (~5 us on the development machine), and a waiter
// that does not sleep spares the waker its futex_wake too. The budget is
// time, not iterations: `pause` takes from 3 to 30 ns depending on the CPU.
#pragma once

#include <chrono>

namespace multiproc::sys {

// Less than the sleep and wake-up it may save, so that a spin in vain costs
// at most about half of what a successful one saves (docs/performance.md).
inline constexpr std::chrono::nanoseconds kSpinBudget{2000};

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Spins until `done()` or `budget` has passed; returns done()'s last value.
template <class Done>
bool spin_until(Done done, std::chrono::nanoseconds budget = kSpinBudget) noexcept {
  if (done()) return true;
  const auto end = std::chrono::steady_clock::now() + budget;
  for (;;) {
    for (int i = 0; i < 8; ++i) {  // a clock read costs ~20 ns: not on every turn
      cpu_relax();
      if (done()) return true;
    }
    if (std::chrono::steady_clock::now() >= end) return done();
  }
}

}  // namespace multiproc::sys
