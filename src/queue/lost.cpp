// join()'s question: can the unfinished items of a JoinableQueue still be
// done? Not when none is queued and every one is held by a consumer thread
// that has ended (consumers.hpp).
#include <pthread.h>

#include <cerrno>

#include "queue/consumers.hpp"
#include "sys/thread_identity.hpp"

namespace multiproc::detail::queue {
namespace {

// The fields the answer depends on, read without a lock.
struct Snapshot {
  struct Slot {
    std::uint64_t owner, got, done;
    std::uint32_t pid;
    bool operator==(const Slot&) const = default;
  };
  std::uint32_t taking;
  std::uint64_t put, got, done;
  Slot slots[kConsumerSlots + 1];
  bool operator==(const Snapshot&) const = default;
};

void collect(const Header& h, Snapshot& s) noexcept {
  s.taking = h.taking_slot.load(std::memory_order_acquire);
  s.put = h.put_count.load(std::memory_order_acquire);
  s.got = h.get_count.load(std::memory_order_acquire);
  s.done = h.done_count.load(std::memory_order_acquire);
  for (std::uint32_t i = 0; i <= kConsumerSlots; ++i) {
    const ConsumerSlot& c = h.slots[i];
    s.slots[i] = {c.owner.load(std::memory_order_acquire), c.got.load(std::memory_order_acquire),
                  c.done.load(std::memory_order_acquire), c.pid.load(std::memory_order_acquire)};
  }
}

// Two collects in a row that agree are a consistent view: every field
// only grows, or (a slot's owner) changes to a value it never had before,
// so nothing can change and change back unseen between them.
bool consistent_snapshot(const Header& h, Snapshot& a) noexcept {
  Snapshot b;
  collect(h, a);
  for (int tries = 0; tries < 4; ++tries) {
    collect(h, b);
    if (a == b) return true;
    a = b;
  }
  return false;  // busy: not a queue whose consumers all died
}

// A take left half-done by a consumer that died is repaired by the next
// get(); with no other consumer, join() does it: it takes get_lock only if
// it is free (or its holder died), for the few stores of repair_take.
void repair_if_consumers_idle(Header& h) noexcept {
  int r = pthread_mutex_trylock(&h.get_lock);
  if (r == EOWNERDEAD) {
    pthread_mutex_consistent(&h.get_lock);
    r = 0;
  }
  if (r == 0) {
    repair_take(h);
    pthread_mutex_unlock(&h.get_lock);
    wake_sleepers(h.space_seq, h.producers_waiting);
  } else if (r == EBUSY) {
    recover_if_holder_ended(&h.get_lock);  // the next call gets EOWNERDEAD
  }
}

}  // namespace

bool find_lost(QueueCore::Impl& q, std::uint64_t& unfinished, std::vector<LostHolder>& holders) {
  Header& h = *q.header;
  if (h.taking_slot.load(std::memory_order_acquire) != 0) repair_if_consumers_idle(h);
  Snapshot s;
  // A take in progress (a live consumer's, or a dead one's not yet
  // repaired), or an item still queued: wait. (get_count may pass put_count
  // for an instant, an item taken before its producer counted it.)
  if (!consistent_snapshot(h, s) || s.taking != 0 || s.done >= s.put || s.got < s.put) {
    return false;
  }
  auto held = [](const Snapshot::Slot& c) { return c.got > c.done ? c.got - c.done : 0; };
  if (held(s.slots[kOverflowSlot]) > 0) return false;  // holders not known: assume alive
  holders.clear();
  for (std::uint32_t i = 0; i < kConsumerSlots; ++i) {
    const Snapshot::Slot& c = s.slots[i];
    if (held(c) == 0) continue;
    if (c.owner == 0 || !sys::thread_has_ended(c.owner)) return false;
    holders.push_back(
        {static_cast<pid_t>(c.pid), static_cast<pid_t>(c.owner & 0xffffffffu), held(c)});
  }
  unfinished = s.put - s.done;
  return !holders.empty();
}

}  // namespace multiproc::detail::queue
