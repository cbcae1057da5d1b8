// libFuzzer target: what a Queue's consumer reads from the shared ring that
// any producer process can write (src/queue/core.cpp, large_item.cpp). A
// hostile producer controls the records, the tail and the header's idea of
// the file's size; a get() must end in an item, a ProtocolError or a
// DecodeError, never a crash (SIGBUS from mapping past the file), a huge
// allocation or a hang.
//
// A JoinableQueue's consumer slots and its record of a take in progress are
// in the same page, so any process can write them too: get() (which repairs
// a take it finds half-done), task_done() and join() must end normally, in
// a UsageError or a ConsumerLost, whatever they hold.
//
// Input: [tail: u16][file_size: u32][joinable block: 32 bytes][ring bytes...]
//   joinable block: [flags][taking_slot][taking_head: u16][taking_got]
//                   [taking_count][done_count][put_count]
//                   4 x [slot index][owner kind][owner tid: u16][got][done]
#include <sys/mman.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "multiproc/detail/queue_core.hpp"
#include "multiproc/error.hpp"
#include "multiproc/serialization.hpp"
#include "queue/layout.hpp"
#include "sys/thread_identity.hpp"

namespace {

using multiproc::detail::QueueCore;
namespace q = multiproc::detail::queue;

constexpr std::uint64_t kCapacity = 64 * 1024;  // the smallest a queue may have

struct Fixture {
  std::shared_ptr<QueueCore> queue = QueueCore::create({.maxsize = 0, .capacity = kCapacity}, 7);
  std::byte* base = static_cast<std::byte*>(::mmap(
      nullptr, q::kHeaderSize + kCapacity, PROT_READ | PROT_WRITE, MAP_SHARED, queue->memfd(), 0));
  q::Header& header = *reinterpret_cast<q::Header*>(base);
  std::uint64_t real_file_size = header.file_size.load();
};

void consume(void*, std::span<const std::byte> bytes) {
  (void)multiproc::decode<std::vector<std::string>>(bytes);
}

constexpr std::size_t kJoinableBlock = 32;

// Writes what a hostile process could into the joinable fields.
void write_joinable(q::Header& h, const std::uint8_t* b) {
  h.flags = b[0];
  h.taking_slot.store(b[1]);
  std::uint16_t taking_head;
  std::memcpy(&taking_head, b + 2, 2);
  h.taking_head.store(taking_head % (2 * kCapacity));
  h.taking_got.store(b[4]);
  h.taking_count.store(b[5]);
  h.done_count.store(b[6]);
  h.put_count.store(b[7]);
  for (int i = 0; i < 4; ++i) {
    const std::uint8_t* e = b + 8 + 6 * i;
    q::ConsumerSlot& slot = h.slots[e[0] % (q::kConsumerSlots + 1)];
    std::uint16_t tid;
    std::memcpy(&tid, e + 2, 2);
    switch (e[1] % 4) {
      case 0:
        slot.owner.store(0);
        break;
      case 1:
        slot.owner.store(multiproc::sys::this_thread_identity().word());
        break;  // this thread
      case 2:
        slot.owner.store(multiproc::sys::this_thread_identity().tid);
        break;  // no tag
      default:
        slot.owner.store(std::uint64_t{e[1]} << 32 | tid);
        break;  // anyone, or nobody
    }
    slot.pid.store(tid);
    slot.got.store(e[4]);
    slot.done.store(e[5]);
  }
}

void clear_joinable(q::Header& h) {
  h.flags = 0;
  h.taking_slot.store(0);
  h.done_count.store(0);
  for (q::ConsumerSlot& slot : h.slots) {
    slot.owner.store(0);
    slot.pid.store(0);
    slot.got.store(0);
    slot.done.store(0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture f;
  if (size < 6 + kJoinableBlock) return 0;
  std::uint16_t tail;
  std::uint32_t file_size;
  std::memcpy(&tail, data, 2);
  std::memcpy(&file_size, data + 2, 4);
  const std::uint8_t* joinable = data + 6;
  data += 6 + kJoinableBlock;
  size -= 6 + kJoinableBlock;
  std::memset(f.base + q::kHeaderSize, 0, kCapacity);
  std::memcpy(f.base + q::kHeaderSize, data, std::min<std::size_t>(size, kCapacity));
  // What a hostile producer can write: the tail, the counts, the file size.
  f.header.head.store(0);
  f.header.tail.store(tail % (2 * kCapacity));
  f.header.get_count.store(0);
  f.header.put_count.store(1);
  f.header.file_size.store(file_size);
  f.header.spare_extent.store(0);
  write_joinable(f.header, joinable);
  for (int i = 0; i < 16; ++i) {
    try {
      if (!f.queue->get(consume, nullptr, std::chrono::steady_clock::now())) break;
    } catch (const multiproc::ProtocolError&) {
      break;
    } catch (const multiproc::DecodeError&) {
    }
  }
  try {
    f.queue->task_done();
  } catch (const multiproc::UsageError&) {
  }
  try {
    (void)f.queue->join(std::chrono::steady_clock::now());
  } catch (const multiproc::ConsumerLost&) {
  }
  f.header.file_size.store(f.real_file_size);
  clear_joinable(f.header);
  return 0;
}
