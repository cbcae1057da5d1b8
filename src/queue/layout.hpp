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
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace multiproc::detail::queue {

constexpr std::uint32_t kMagic = 0x5155504d;  // "MPUQ"
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kHeaderSize = 4096;
constexpr std::size_t kPage = 4096;

struct alignas(64) Header {
  std::uint32_t magic;
  std::uint32_t version;
  std::uint32_t type_tag;
  std::uint32_t pad0;
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
