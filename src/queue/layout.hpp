// The shared state of a queue: one memfd holding a header, a ring of
// records, and beyond the ring, page-aligned space for large items.
//
//   [ Header (4 KiB) | ring (capacity bytes) | large items at growing offsets ... ]
//
// Producers hold put_lock, consumers get_lock (robust, process-shared
// mutexes): a producer and a consumer never contend. A put becomes visible
// only when `tail` moves past it; a get is final only when `head` moves past
// it. A process that dies holding a lock therefore leaves nothing half-done:
// the next holder gets EOWNERDEAD and carries on.
//
// A JoinableQueue also knows who holds its unfinished items: a slot per
// consumer thread (ConsumerSlot, src/queue/consumers.hpp) counts the items
// that thread took and the task_done() calls credited to it, so that join()
// can tell items held by consumers that have ended from items that may
// still be done.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace multiproc::detail::queue {

constexpr std::uint32_t kMagic = 0x5155504d;  // "MPUQ"
constexpr std::uint32_t kVersion = 3;         // 2: consumer slots; 3: shutdown flag
constexpr std::size_t kHeaderSize = 4096;
constexpr std::size_t kPage = 4096;

// Header::flags
constexpr std::uint32_t kJoinable = 1;  // a JoinableQueue: consumers keep slots

// One consumer thread's account, on its own cache line. `owner` is the
// thread's identity (ThreadIdentity::word(): TID and start-time tag, as a
// Lock names its owner); 0: free. A slot is taken with a compare-and-swap
// of `owner` and kept for the thread's life; one whose owner has ended and
// holds nothing may be taken over. The thread holds `got - done` items.
struct alignas(64) ConsumerSlot {
  std::atomic<std::uint64_t> owner;
  std::atomic<std::uint32_t> pid;  // the owner's process, for reports
  std::uint32_t pad;
  std::atomic<std::uint64_t> got;   // items taken: written under get_lock only
  std::atomic<std::uint64_t> done;  // task_done() credited: compare-and-swap, never above got
};

// Slots for this many consumer threads at once, plus one shared by any
// further ones (kOverflowSlot, whose items are never reported lost).
constexpr std::uint32_t kConsumerSlots = 48;
constexpr std::uint32_t kOverflowSlot = kConsumerSlots;

struct alignas(64) Header {
  std::uint32_t magic;
  std::uint32_t version;
  std::uint32_t type_tag;
  std::uint32_t flags;     // kJoinable
  std::uint64_t capacity;  // ring bytes, a power of two
  std::uint64_t maxsize;   // items; 0: unbounded
  pthread_mutex_t put_lock;
  pthread_mutex_t get_lock;

  // Producer side (written under put_lock).
  alignas(64) std::atomic<std::uint64_t> tail;  // committed ring position (bytes, monotonic)
  std::atomic<std::uint64_t> put_count;         // committed items
  std::atomic<std::uint64_t> file_end;          // where the next large item goes
  std::atomic<std::uint64_t> file_size;         // the memfd's size
  // An extent of a large item already read, kept with its pages for the next
  // large item (packed by pack_extent; 0: none). Consumers leave it, producers
  // take it, each with one atomic operation, so the two locks need not meet.
  alignas(64) std::atomic<std::uint64_t> spare_extent;

  // Consumer side (written under get_lock).
  alignas(64) std::atomic<std::uint64_t> head;  // ring position of the next record
  std::atomic<std::uint64_t> get_count;         // items taken
  std::atomic<std::uint64_t> done_count;        // JoinableQueue: task_done calls
  // A take in progress (JoinableQueue, under get_lock): slot index + 1, or 0.
  // The consumer fills the three values below, sets taking_slot, then
  // stores its slot's got, the head and get_count, and clears taking_slot.
  // The next holder of get_lock finds a take left half-done by a consumer
  // that died and completes it (the head moved) or voids it (it did not).
  std::atomic<std::uint32_t> taking_slot;
  std::atomic<std::uint64_t> taking_head;   // the head before the take
  std::atomic<std::uint64_t> taking_got;    // the slot's got after it
  std::atomic<std::uint64_t> taking_count;  // get_count after it

  // Sleeping: futex sequence words, bumped only when someone waits.
  alignas(64) std::atomic<std::uint32_t> data_seq;
  std::atomic<std::uint32_t> consumers_waiting;
  std::atomic<std::uint32_t> pollers;  // wait() callers
  alignas(64) std::atomic<std::uint32_t> space_seq;
  std::atomic<std::uint32_t> producers_waiting;
  alignas(64) std::atomic<std::uint32_t> done_seq;
  std::atomic<std::uint32_t> joiners;

  // Queue::shutdown: 0 open, 1 shut down (gets drain), 2 shut down at once.
  alignas(64) std::atomic<std::uint32_t> shut;

  ConsumerSlot slots[kConsumerSlots + 1];
};
static_assert(sizeof(Header) <= kHeaderSize);

// Records in the ring are 8-byte aligned and never wrap: a pad record fills
// the ring's end instead.
enum class Kind : std::uint16_t { inline_item = 1, pad = 2, large_item = 3 };

struct Record {
  std::uint32_t size;  // whole record, header included, multiple of 8
  Kind kind;
  std::uint16_t slack;  // padding after the payload (0..7)
};
static_assert(sizeof(Record) == 8);

// The body of a large_item record: where the bytes are in the memfd.
struct LargeRef {
  std::uint64_t offset;
  std::uint64_t length;
};

constexpr std::size_t kLargeRecordSize = sizeof(Record) + sizeof(LargeRef);

// An extent as pages: 40 bits of offset, 24 of length (up to 64 GiB).
constexpr std::uint64_t pack_extent(std::uint64_t offset, std::uint64_t length) {
  return (offset / kPage) << 24 | (length / kPage);
}
constexpr std::uint64_t extent_offset(std::uint64_t packed) {
  return (packed >> 24) * kPage;
}
constexpr std::uint64_t extent_length(std::uint64_t packed) {
  return (packed & 0xffffff) * kPage;
}
constexpr bool packable(std::uint64_t offset, std::uint64_t length) {
  return length / kPage < (1u << 24) && offset / kPage < (std::uint64_t{1} << 40);
}

constexpr std::uint64_t align8(std::uint64_t n) {
  return (n + 7) & ~std::uint64_t{7};
}
constexpr std::uint64_t align_page(std::uint64_t n) {
  return (n + kPage - 1) & ~(kPage - 1);
}

}  // namespace multiproc::detail::queue
