// An asymmetric memory barrier between processes (membarrier(2),
// MEMBARRIER_CMD_GLOBAL_EXPEDITED): the frequent side of a Dekker-style
// handshake pays only a compiler barrier, the rare side a system call that
// runs a full barrier on every CPU running a registered process.
//
//   frequent side (registered):  store X; light_barrier(); load Y
//   rare side:                   store Y; heavy_barrier(); load X
//   => at least one of the two loads sees the other side's store.
#pragma once

#include <atomic>

namespace multiproc::sys {

// Registers this process for the heavy barrier (inherited by forked
// children). Returns true when the frequent side may use light_barrier();
// false when the kernel offers no such barrier: use a full fence instead.
// Thread-safe; the system call is made once per process.
bool membarrier_register() noexcept;

inline void light_barrier() noexcept {
  std::atomic_signal_fence(std::memory_order_seq_cst);
}

// The heavy barrier. Returns false when it is not available, in which case
// the caller must not rely on the frequent side's light barrier.
bool heavy_barrier() noexcept;

}  // namespace multiproc::sys
