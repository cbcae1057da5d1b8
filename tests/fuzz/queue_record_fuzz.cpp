// libFuzzer target: what a Queue's consumer reads from the shared ring that
// any producer process can write (src/queue/core.cpp, large_item.cpp). A
// hostile producer controls the records, the tail and the header's idea of
// the file's size; a get() must end in an item, a ProtocolError or a
// DecodeError, never a crash (SIGBUS from mapping past the file), a huge
// allocation or a hang.
//
// Input: [tail: u16][file_size: u32][ring bytes...]
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture f;
  if (size < 6) return 0;
  std::uint16_t tail;
  std::uint32_t file_size;
  std::memcpy(&tail, data, 2);
  std::memcpy(&file_size, data + 2, 4);
  data += 6;
  size -= 6;
  std::memset(f.base + q::kHeaderSize, 0, kCapacity);
  std::memcpy(f.base + q::kHeaderSize, data, std::min<std::size_t>(size, kCapacity));
  // What a hostile producer can write: the tail, the counts, the file size.
  f.header.head.store(0);
  f.header.tail.store(tail % (2 * kCapacity));
  f.header.get_count.store(0);
  f.header.put_count.store(1);
  f.header.file_size.store(file_size);
  f.header.spare_extent.store(0);
  for (int i = 0; i < 16; ++i) {
    try {
      if (!f.queue->get(consume, nullptr, std::chrono::steady_clock::now())) break;
    } catch (const multiproc::ProtocolError&) {
      break;
    } catch (const multiproc::DecodeError&) {
    }
  }
  f.header.file_size.store(f.real_file_size);
  return 0;
}
