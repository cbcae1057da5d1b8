#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "multiproc/error.hpp"
#include "queue/impl.hpp"

namespace multiproc::detail::queue {
namespace {

// The memfd grows in steps of at least this much (a sparse file: only the
// pages written take memory).
constexpr std::uint64_t kGrowStep = 64ull << 20;

void ensure_size(QueueCore::Impl& q, std::uint64_t end) {
  Header& h = *q.header;
  std::uint64_t size = h.file_size.load();
  if (end <= size) return;
  std::uint64_t target = std::max(end, size + kGrowStep);
  if (::ftruncate(q.file(), static_cast<off_t>(target)) != 0) {
    throw SystemError(
        "growing a queue for a large item of " + std::to_string(end - size) + " bytes", errno);
  }
  h.file_size.store(target);
}

void punch(int fd, std::uint64_t offset, std::uint64_t length) {
  if (length == 0) return;
  ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
              static_cast<off_t>(length));
}

// Where a large item of `length` page-rounded bytes goes: the spare extent
// (its pages already allocated: no zero-filling) when it is big enough,
// otherwise fresh space at the end of the file.
std::uint64_t place(QueueCore::Impl& q, std::uint64_t length) {
  Header& h = *q.header;
  if (std::uint64_t spare = h.spare_extent.exchange(0); spare != 0) {
    std::uint64_t offset = extent_offset(spare), have = extent_length(spare);
    if (have >= length) {
      punch(q.file(), offset + length, have - length);  // the rest is not kept
      return offset;
    }
    punch(q.file(), offset, have);
  }
  std::uint64_t offset = h.file_end.load();
  ensure_size(q, offset + length);
  h.file_end.store(offset + length);
  return offset;
}

}  // namespace

// Under put_lock. Nothing refers to the space until the record is committed:
// a producer killed here leaves nothing a consumer could see (at worst, the
// extent's pages until the queue is freed).
void write_large(QueueCore::Impl& q, std::span<const std::byte> bytes, LargeRef& ref) {
  std::uint64_t offset = place(q, align_page(bytes.size()));
  std::size_t done = 0;
  while (done < bytes.size()) {
    long n = ::pwrite(q.file(), bytes.data() + done,
                      std::min<std::size_t>(bytes.size() - done, 0x7ffff000),
                      static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw SystemError("writing a large queue item", errno);
    }
    done += static_cast<std::size_t>(n);
  }
  ref = {offset, bytes.size()};
}

// Under get_lock. Maps the item and hands it to `consume`; `extent` says
// which pages to give back once the head has moved (release_extent).
void read_large(QueueCore::Impl& q, const LargeRef& ref, QueueCore::Consumer consume, void* context,
                ReadExtent& extent) {
  if (ref.length == 0) {
    consume(context, {});
    return;
  }
  // The header's file_size is shared memory any producer can write: check
  // against the file itself, or mapping past its end would fault (SIGBUS) on
  // the first read. Written so that offset + length cannot wrap.
  struct stat st;
  if (::fstat(q.file(), &st) != 0) throw SystemError("fstat (queue file)", errno);
  auto file_size = static_cast<std::uint64_t>(st.st_size);
  if (ref.offset % kPage != 0 || ref.offset > file_size || ref.length > file_size - ref.offset) {
    throw ProtocolError("multiproc: queue record points outside the queue");
  }
  std::size_t span = align_page(ref.length);
  void* p = ::mmap(nullptr, span, PROT_READ, MAP_SHARED | MAP_POPULATE, q.file(),
                   static_cast<off_t>(ref.offset));
  if (p == MAP_FAILED) throw SystemError("mapping a large queue item", errno);
  struct Unmap {
    void* p;
    std::size_t n;
    ~Unmap() { ::munmap(p, n); }
  } unmap{p, span};
  extent = {ref.offset, span};
  consume(context, {static_cast<const std::byte*>(p), static_cast<std::size_t>(ref.length)});
}

void release_extent(QueueCore::Impl& q, const ReadExtent& extent) noexcept {
  if (extent.span == 0) return;
  // Keep the extent for the next large item if the spare slot is free;
  // otherwise give its pages back.
  std::uint64_t none = 0;
  if (!packable(extent.offset, extent.span) || !q.header->spare_extent.compare_exchange_strong(
                                                   none, pack_extent(extent.offset, extent.span))) {
    punch(q.memfd.get(), extent.offset, extent.span);
  }
}

}  // namespace multiproc::detail::queue
