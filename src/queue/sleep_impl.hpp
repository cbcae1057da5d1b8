// Internal to src/queue: the sleeping protocol, shared by producers (waiting
// for space) and consumers (waiting for data).
//
// A sleeper reads the sequence word, counts itself in `waiting`, re-checks its
// condition and only then sleeps on the word. A waker changes the state,
// then reads `waiting` (both sequentially consistent): one of the two always
// sees the other, so no wake-up is lost, and nobody pays a futex_wake when
// nobody sleeps.
#pragma once

#include <cerrno>
#include <chrono>

#include "sys/futex.hpp"

namespace multiproc::detail::queue {

constexpr auto kSpin = std::chrono::microseconds(5);

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

template <class Ready>
bool sleep_until(Ready ready, std::atomic<std::uint32_t>& seq, std::atomic<std::uint32_t>& waiting,
                 const sys::Deadline& deadline) {
  if (deadline.expired()) return ready();  // try_put / try_get: no spinning
  // Spin a little first: on a busy queue the other side is moments away, and
  // a futex round trip costs microseconds. The spin is bounded in time, not
  // iterations (a pause instruction takes 10 to 140 cycles depending on the
  // CPU), and kept short: when both sides share one CPU, spinning only delays
  // the side that would make us ready.
  auto spin_until = std::chrono::steady_clock::now() + kSpin;
  do {
    for (int i = 0; i < 32; ++i) {
      if (ready()) return true;
      cpu_relax();
    }
  } while (std::chrono::steady_clock::now() < spin_until);
  for (;;) {
    std::uint32_t observed = seq.load(std::memory_order_seq_cst);
    waiting.fetch_add(1, std::memory_order_seq_cst);
    if (ready()) {
      waiting.fetch_sub(1, std::memory_order_seq_cst);
      return true;
    }
    int r = sys::futex_wait(seq, observed, deadline);
    waiting.fetch_sub(1, std::memory_order_seq_cst);
    if (ready()) return true;
    if (r == -ETIMEDOUT || deadline.expired()) return false;
  }
}

}  // namespace multiproc::detail::queue
