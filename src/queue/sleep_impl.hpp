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

#include "sys/futex.hpp"
#include "sys/spin.hpp"

namespace multiproc::detail::queue {

template <class Ready>
bool sleep_until(Ready ready, std::atomic<std::uint32_t>& seq, std::atomic<std::uint32_t>& waiting,
                 const sys::Deadline& deadline) {
  if (deadline.expired()) return ready();  // try_put / try_get: no spinning
  // Spin a little first (sys/spin.hpp: bounded in time, and short, since
  // spinning only delays the other side when both share a CPU).
  if (sys::spin_until(ready)) return true;
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
