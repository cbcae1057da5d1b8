#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
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

}  // namespace

// Under put_lock. The space is taken from file_end only once the bytes are
// written: a producer killed here leaves nothing a consumer could see.
void write_large(QueueCore::Impl& q, std::span<const std::byte> bytes, LargeRef& ref) {
  Header& h = *q.header;
  std::uint64_t offset = h.file_end.load();
  std::uint64_t end = offset + align_page(bytes.size());
  ensure_size(q, end);
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
  h.file_end.store(end);
  ref = {offset, bytes.size()};
}

// Under get_lock. Maps the item, hands it to `consume`, then frees its pages.
void read_large(QueueCore::Impl& q, const LargeRef& ref, QueueCore::Consumer consume,
                void* context) {
  if (ref.length == 0) {
    consume(context, {});
    return;
  }
  if (ref.offset % kPage != 0 || ref.offset + ref.length > q.header->file_end.load()) {
    throw ProtocolError("multiproc: queue record points outside the queue");
  }
  std::size_t span = align_page(ref.length);
  void* p = ::mmap(nullptr, span, PROT_READ, MAP_SHARED | MAP_POPULATE, q.file(),
                   static_cast<off_t>(ref.offset));
  if (p == MAP_FAILED) throw SystemError("mapping a large queue item", errno);
  struct Unmap {
    void* p;
    std::size_t n;
    int fd;
    std::uint64_t offset;
    ~Unmap() {
      ::munmap(p, n);
      // Give the pages back; the offset range is never used again.
      ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                  static_cast<off_t>(n));
    }
  } unmap{p, span, q.file(), ref.offset};
  consume(context, {static_cast<const std::byte*>(p), static_cast<std::size_t>(ref.length)});
}

}  // namespace multiproc::detail::queue
