// Internal to src/queue: who holds a JoinableQueue's unfinished items.
//
// Every consumer thread of a JoinableQueue has a slot in the queue's header
// (layout.hpp, ConsumerSlot) naming it by TID and start time. A get() credits
// the item to the caller's slot in the same critical section that moves the
// head; a task_done() debits the caller's slot. join() can then tell items
// that a live consumer may still finish from items held by consumers that
// have ended (find_lost), and stop waiting for the latter.
//
// Fast path, per item: get() finds its slot in a per-thread cache (one
// thread-local compare, one load of the slot's owner) and adds six plain
// stores to cache lines it already writes (the consumers' header line and
// its own slot); task_done() adds one uncontended compare-and-swap on the
// caller's own slot. No system call, no new contended atomic. A thread's
// first get() from a queue takes a slot with a compare-and-swap (and, when
// every slot is taken, reads /proc to find one whose owner has ended).
//
// A take is robust to a consumer killed at any instruction: see the
// taking_* fields of the header and repair_take().
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "queue/impl.hpp"

namespace multiproc::detail::queue {

// Tests only: called inside a get() of a JoinableQueue after the head moved
// past the item and before the take is complete.
extern void (*g_test_hook_after_head_moves)();

// The caller's slot in q (taking one on its first call), or kOverflowSlot
// when every slot is held by a live consumer. Call outside get_lock.
std::uint32_t consumer_slot(QueueCore::Impl& q);

// Under get_lock: completes or voids a take that a consumer left half-done
// when it died.
void repair_take(Header& h) noexcept;

// Under get_lock, instead of moving the head alone: moves the head past the
// record at `head` (next: the position after it) and credits the item to
// `slot`, in an order that repair_take() can always finish.
inline void take_item(Header& h, std::uint32_t slot, std::uint64_t head,
                      std::uint64_t next) noexcept {
  ConsumerSlot& s = h.slots[slot];
  std::uint64_t got = s.got.load(std::memory_order_relaxed) + 1;
  std::uint64_t count = h.get_count.load(std::memory_order_relaxed) + 1;
  h.taking_head.store(head, std::memory_order_relaxed);
  h.taking_got.store(got, std::memory_order_relaxed);
  h.taking_count.store(count, std::memory_order_relaxed);
  // Release stores: each one is issued after the ones above it, so that a
  // consumer killed between two of them leaves a prefix of the sequence.
  h.taking_slot.store(slot + 1, std::memory_order_release);
  s.got.store(got, std::memory_order_release);
  h.head.store(next, std::memory_order_seq_cst);
  if (g_test_hook_after_head_moves != nullptr) g_test_hook_after_head_moves();
  h.get_count.store(count, std::memory_order_seq_cst);
  h.taking_slot.store(0, std::memory_order_release);
}

// task_done(): debits one item from the caller's slot, or if it holds
// none (the item was got by another thread), from another slot that holds
// one: first of the caller's process, then the overflow slot, then any.
void credit_task_done(QueueCore::Impl& q) noexcept;

// A consumer that ended holding unfinished items.
struct LostHolder {
  pid_t pid;
  pid_t tid;
  std::uint64_t items;
};

// Whether every unfinished item of q is held by consumers that have ended:
// none is queued, and no live consumer (nor the overflow slot) holds one.
// Then fills `unfinished` and `holders` and returns true. Reads /proc for
// each slot that holds items. May take get_lock for an instant to repair a
// take left half-done (only when one is in progress).
bool find_lost(QueueCore::Impl& q, std::uint64_t& unfinished, std::vector<LostHolder>& holders);

}  // namespace multiproc::detail::queue
