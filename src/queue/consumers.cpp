#include "queue/consumers.hpp"

#include <unistd.h>

#include <cerrno>

#include "sys/thread_identity.hpp"

namespace multiproc::detail::queue {

void (*g_test_hook_after_head_moves)() = nullptr;

namespace {

// The slots this thread holds in the last few queues it consumed from. An
// entry is trusted only while the slot still names this thread, so a stale
// one (a queue unmapped and another mapped at its address, a forked child's
// copy) costs a scan, never a wrong slot.
struct CachedSlot {
  const Header* header;
  std::uint32_t index;
};
constexpr std::uint32_t kCached = 4;
constinit thread_local CachedSlot t_slots[kCached] __attribute__((tls_model("initial-exec"))) = {};
constinit thread_local std::uint32_t t_next __attribute__((tls_model("initial-exec"))) = 0;

std::uint32_t cached_slot(const Header& h, std::uint64_t me) noexcept {
  for (const CachedSlot& c : t_slots) {
    if (c.header != &h) continue;
    if (c.index == kOverflowSlot) return c.index;
    if (c.index < kConsumerSlots && h.slots[c.index].owner.load(std::memory_order_relaxed) == me) {
      return c.index;
    }
  }
  return kConsumerSlots + 1;  // none
}

void remember(const Header& h, std::uint32_t index) noexcept {
  t_slots[t_next++ % kCached] = CachedSlot{&h, index};
}

bool claim(ConsumerSlot& s, std::uint64_t seen, std::uint64_t me) noexcept {
  if (!s.owner.compare_exchange_strong(seen, me, std::memory_order_acq_rel)) return false;
  s.pid.store(static_cast<std::uint32_t>(::getpid()), std::memory_order_release);
  return true;
}

std::uint64_t held(const ConsumerSlot& s) noexcept {
  std::uint64_t done = s.done.load(std::memory_order_acquire);
  std::uint64_t got = s.got.load(std::memory_order_acquire);
  return got > done ? got - done : 0;
}

// A slot whose owner ended holding nothing, and that no take left half-done
// by that owner still refers to (repair_take would credit it later).
bool reclaimable(const Header& h, std::uint32_t i, std::uint64_t owner) noexcept {
  return owner != 0 && sys::thread_has_ended(owner) &&
         h.taking_slot.load(std::memory_order_acquire) != i + 1 && held(h.slots[i]) == 0;
}

std::uint32_t find_or_take_slot(Header& h, std::uint64_t me) noexcept {
  for (std::uint32_t i = 0; i < kConsumerSlots; ++i) {
    if (h.slots[i].owner.load(std::memory_order_relaxed) == me) return i;
  }
  for (std::uint32_t i = 0; i < kConsumerSlots; ++i) {
    if (h.slots[i].owner.load(std::memory_order_relaxed) == 0 && claim(h.slots[i], 0, me)) return i;
  }
  for (std::uint32_t i = 0; i < kConsumerSlots; ++i) {
    std::uint64_t owner = h.slots[i].owner.load(std::memory_order_acquire);
    if (reclaimable(h, i, owner) && claim(h.slots[i], owner, me)) return i;
  }
  return kOverflowSlot;
}

// Takes one item off the slot's account, if it holds one.
bool debit(ConsumerSlot& s) noexcept {
  std::uint64_t done = s.done.load(std::memory_order_relaxed);
  do {
    if (done >= s.got.load(std::memory_order_acquire)) return false;
  } while (!s.done.compare_exchange_weak(done, done + 1, std::memory_order_acq_rel,
                                         std::memory_order_relaxed));
  return true;
}

}  // namespace

std::uint32_t consumer_slot(QueueCore::Impl& q) {
  Header& h = *q.header;
  const std::uint64_t me = this_thread_word();
  std::uint32_t index = cached_slot(h, me);
  if (index <= kOverflowSlot) [[likely]]
    return index;
  index = find_or_take_slot(h, me);
  remember(h, index);
  return index;
}

void repair_take(Header& h) noexcept {
  std::uint32_t taking = h.taking_slot.load(std::memory_order_acquire);
  if (taking == 0) return;
  if (taking <= kConsumerSlots + 1) {  // anything else was not written by a consumer
    ConsumerSlot& s = h.slots[taking - 1];
    std::uint64_t got = h.taking_got.load(std::memory_order_relaxed);
    if (h.head.load(std::memory_order_relaxed) != h.taking_head.load(std::memory_order_relaxed)) {
      // The head moved: the item is the dead consumer's. Finish the take.
      if (s.got.load(std::memory_order_relaxed) < got) s.got.store(got, std::memory_order_release);
      std::uint64_t count = h.taking_count.load(std::memory_order_relaxed);
      if (h.get_count.load(std::memory_order_relaxed) < count) {
        h.get_count.store(count, std::memory_order_seq_cst);
      }
    } else if (s.got.load(std::memory_order_relaxed) == got) {
      // The item is still queued (the next get delivers it): the slot was
      // credited with it already; take that back.
      s.done.fetch_add(1, std::memory_order_acq_rel);
    }
  }
  h.taking_slot.store(0, std::memory_order_release);
}

void credit_task_done(QueueCore::Impl& q) noexcept {
  Header& h = *q.header;
  const std::uint64_t me = this_thread_word();
  std::uint32_t own = cached_slot(h, me);
  if (own > kOverflowSlot) {
    for (std::uint32_t i = 0; i < kConsumerSlots; ++i) {
      if (h.slots[i].owner.load(std::memory_order_relaxed) == me) own = i;
    }
  }
  if (own <= kOverflowSlot && debit(h.slots[own])) [[likely]]
    return;
  // The item was got by another thread (handed over), or task_done() is
  // called for an item nobody took yet (allowed, as in Python).
  auto pid = static_cast<std::uint32_t>(::getpid());
  for (std::uint32_t i = 0; i < kConsumerSlots; ++i) {
    if (h.slots[i].pid.load(std::memory_order_relaxed) == pid && debit(h.slots[i])) return;
  }
  if (debit(h.slots[kOverflowSlot])) return;
  for (std::uint32_t i = 0; i < kConsumerSlots; ++i) {
    if (debit(h.slots[i])) return;
  }
}

}  // namespace multiproc::detail::queue
