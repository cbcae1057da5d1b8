#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "multiproc/error.hpp"
#include "queue/consumers.hpp"
#include "queue/impl.hpp"

namespace multiproc::detail {

using namespace queue;

namespace {

constexpr std::uint64_t kMinCapacity = 64 * 1024;
// How long an unbounded put waits for a draining consumer before it stores
// the item beyond the ring.
constexpr auto kOverflowGrace = std::chrono::milliseconds(2);

std::chrono::steady_clock::time_point to_time_point(const sys::Deadline& d) {
  timespec ts;
  const timespec* at = d.absolute(ts);
  if (at == nullptr) return std::chrono::steady_clock::time_point::max();
  return std::chrono::steady_clock::time_point(std::chrono::seconds(at->tv_sec) +
                                               std::chrono::nanoseconds(at->tv_nsec));
}
constexpr std::uint64_t kMaxCapacity = std::uint64_t{1} << 30;

void init_robust_mutex(pthread_mutex_t* m) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  int r = pthread_mutex_init(m, &a);
  pthread_mutexattr_destroy(&a);
  if (r != 0) throw SystemError("pthread_mutex_init (queue lock)", r);
}

std::unique_ptr<QueueCore::Impl> map_queue(sys::UniqueFd memfd, sys::UniqueFd efd,
                                           std::uint64_t capacity) {
  auto impl = std::make_unique<QueueCore::Impl>();
  std::size_t bytes = kHeaderSize + capacity;
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memfd.get(), 0);
  if (p == MAP_FAILED) throw SystemError("mmap of a queue", errno);
  impl->memfd_check = detail::FdCheck(memfd.get());
  impl->eventfd_check = detail::FdCheck(efd.get());
  impl->memfd = std::move(memfd);
  impl->eventfd = std::move(efd);
  impl->header = static_cast<Header*>(p);
  impl->ring = static_cast<std::byte*>(p) + kHeaderSize;
  impl->mapped = bytes;
  return impl;
}

// The ring position where a record of `size` bytes goes, and whether a pad
// record must fill the ring's end first.
struct Slot {
  std::uint64_t pad;  // bytes of padding before the record (0: none)
  std::uint64_t at;   // position of the record
};

Slot slot_for(std::uint64_t tail, std::uint64_t size, std::uint64_t capacity) {
  std::uint64_t to_end = capacity - (tail & (capacity - 1));
  return size <= to_end ? Slot{0, tail} : Slot{to_end, tail + to_end};
}

void write_record(QueueCore::Impl& q, std::uint64_t at, Kind kind, std::uint64_t size,
                  std::uint64_t payload = 0) {
  auto slack = kind == Kind::inline_item ? size - sizeof(Record) - payload : 0;
  Record r{static_cast<std::uint32_t>(size), kind, static_cast<std::uint16_t>(slack)};
  std::memcpy(q.ring + (at & q.mask()), &r, sizeof r);
}

std::byte* record_body(QueueCore::Impl& q, std::uint64_t at) {
  return q.ring + (at & q.mask()) + sizeof(Record);
}

// Commits a record ending at `new_tail`: from here on consumers see it.
void commit(QueueCore::Impl& q, std::uint64_t new_tail) {
  if (g_test_hook_before_commit != nullptr) g_test_hook_before_commit();
  Header& h = *q.header;
  h.tail.store(new_tail, std::memory_order_seq_cst);
  h.put_count.store(h.put_count.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  wake_sleepers(h.data_seq, h.consumers_waiting);
  if (h.pollers.load(std::memory_order_seq_cst) > 0 && q.eventfd_check.valid(q.eventfd.get())) {
    std::uint64_t one = 1;
    (void)!::write(q.eventfd.get(), &one, sizeof one);  // EAGAIN at the counter's limit is fine
  }
}

}  // namespace

QueueCore::Impl::~Impl() {
  if (header != nullptr) ::munmap(header, mapped);
  // In a forked child that was not given the descriptors, they are not ours.
  if (!memfd_check.valid(memfd.get())) memfd.release();
  if (!eventfd_check.valid(eventfd.get())) eventfd.release();
}

int QueueCore::Impl::file() const {
  if (!memfd_check.valid(memfd.get())) {
    throw UsageError(
        "Queue: this process does not have the queue's descriptors (it was captured, not passed "
        "to the Process); pass the Queue as a Process argument to put or get large items");
  }
  return memfd.get();
}

QueueCore::QueueCore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
QueueCore::~QueueCore() = default;

std::shared_ptr<QueueCore> QueueCore::create(const Options& options, std::uint32_t type_tag,
                                             bool joinable) {
  if (options.capacity < kMinCapacity || options.capacity > kMaxCapacity) {
    throw UsageError("Queue: capacity_bytes " + std::to_string(options.capacity) +
                     " is not between 64 KiB and 1 GiB");
  }
  std::uint64_t capacity = std::bit_ceil(options.capacity);
  sys::UniqueFd memfd(::memfd_create("multiproc-queue", MFD_CLOEXEC));
  if (!memfd) throw SystemError("memfd_create (queue)", errno);
  std::uint64_t size = kHeaderSize + capacity;
  if (::ftruncate(memfd.get(), static_cast<off_t>(size)) != 0) {
    throw SystemError("ftruncate (queue)", errno);
  }
  sys::UniqueFd efd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!efd) throw SystemError("eventfd (queue)", errno);
  auto impl = map_queue(std::move(memfd), std::move(efd), capacity);
  auto* h = new (impl->header) Header{};
  h->magic = kMagic;
  h->version = kVersion;
  h->type_tag = type_tag;
  h->capacity = capacity;
  h->maxsize = options.maxsize;
  h->flags = joinable ? kJoinable : 0;
  h->file_end.store(size);
  h->file_size.store(size);
  init_robust_mutex(&h->put_lock);
  init_robust_mutex(&h->get_lock);
  return std::shared_ptr<QueueCore>(new QueueCore(std::move(impl)));
}

std::shared_ptr<QueueCore> QueueCore::adopt(int memfd, int eventfd, std::uint32_t type_tag) {
  struct stat st;
  Header probe;
  if (::fstat(memfd, &st) != 0 || static_cast<std::size_t>(st.st_size) < kHeaderSize ||
      ::pread(memfd, &probe, sizeof probe, 0) != static_cast<ssize_t>(sizeof probe) ||
      probe.magic != kMagic || probe.version != kVersion) {
    throw UsageError("Queue::from_fd: descriptor " + std::to_string(memfd) + " is not a queue");
  }
  if (probe.type_tag != type_tag) {
    throw UsageError("Queue::from_fd: the queue holds another item type");
  }
  return std::shared_ptr<QueueCore>(
      new QueueCore(map_queue(sys::UniqueFd(memfd), sys::UniqueFd(eventfd), probe.capacity)));
}

bool QueueCore::put(std::span<const std::byte> bytes, const Deadline& deadline) {
  Impl& q = *impl_;
  Header& h = *q.header;
  sys::Deadline d = to_sys(deadline);
  Guard guard(&h.put_lock, d);
  if (!guard.locked()) return false;
  // Shut down: refuse now, and wake from any wait for room to refuse.
  auto shut = [&] { return h.shut.load(std::memory_order_seq_cst) != 0; };
  auto refuse_if_shut = [&] {
    if (shut()) throw ShutDown("Queue::put: the queue was shut down");
  };
  refuse_if_shut();

  if (h.maxsize > 0) {
    auto room = [&] {
      return h.put_count.load(std::memory_order_relaxed) -
                     h.get_count.load(std::memory_order_seq_cst) <
                 h.maxsize ||
             shut();
    };
    if (!room() && !sleep_until(room, h.space_seq, h.producers_waiting, d)) return false;
    refuse_if_shut();
  }

  // Small items go in the ring, up to capacity - reserve; the reserve is kept
  // for references to items stored beyond the ring (large ones, and any item
  // of an unbounded queue whose ring is full): a quarter of the ring, room
  // for capacity / 96 such items (87,381 for the default 8 MiB).
  const std::uint64_t cap = h.capacity;
  const std::uint64_t reserve = cap / 4;
  std::uint64_t inline_size = align8(sizeof(Record) + bytes.size());
  bool fits_inline = inline_size <= cap / 4;
  std::uint64_t tail = h.tail.load(std::memory_order_relaxed);

  auto free_for = [&](std::uint64_t size, std::uint64_t limit) {
    Slot s = slot_for(tail, size, cap);
    auto fits = [&] { return s.at + size - q.head_seen <= limit; };
    if (fits()) return true;
    q.head_seen = h.head.load(std::memory_order_seq_cst);
    return fits();
  };

  if (fits_inline && !free_for(inline_size, cap - reserve)) {
    // Full. A bounded queue waits for room. An unbounded one waits only
    // while a consumer is draining the ring (the head moved since this
    // process last overflowed), and briefly; otherwise the item goes beyond
    // the ring at once, so put() never waits for a consumer that is not there.
    auto room = [&] { return free_for(inline_size, cap - reserve) || shut(); };
    if (h.maxsize > 0) {
      if (!sleep_until(room, h.space_seq, h.producers_waiting, d)) return false;
      refuse_if_shut();
    } else if (q.head_seen != q.head_at_overflow) {
      auto grace = sys::Deadline::at(
          std::min(std::chrono::steady_clock::now() + kOverflowGrace, to_time_point(d)));
      if (!sleep_until(room, h.space_seq, h.producers_waiting, grace)) {
        q.head_at_overflow = q.head_seen;
      }
    }
  }
  if (fits_inline && free_for(inline_size, cap - reserve)) {
    Slot s = slot_for(tail, inline_size, cap);
    if (s.pad > 0) write_record(q, tail, Kind::pad, s.pad);
    write_record(q, s.at, Kind::inline_item, inline_size, bytes.size());
    if (!bytes.empty()) std::memcpy(record_body(q, s.at), bytes.data(), bytes.size());
    commit(q, s.at + inline_size);
    return true;
  }

  // Large, or the ring is full: the bytes go beyond the ring, a reference in it.
  if (!free_for(kLargeRecordSize, cap) &&
      !sleep_until([&] { return free_for(kLargeRecordSize, cap) || shut(); }, h.space_seq,
                   h.producers_waiting, d)) {
    return false;
  }
  refuse_if_shut();
  LargeRef ref;
  write_large(q, bytes, ref);
  Slot s = slot_for(tail, kLargeRecordSize, cap);
  if (s.pad > 0) write_record(q, tail, Kind::pad, s.pad);
  write_record(q, s.at, Kind::large_item, kLargeRecordSize);
  std::memcpy(record_body(q, s.at), &ref, sizeof ref);
  commit(q, s.at + kLargeRecordSize);
  return true;
}

bool QueueCore::get(Consumer consume, void* context, const Deadline& deadline) {
  Impl& q = *impl_;
  Header& h = *q.header;
  sys::Deadline d = to_sys(deadline);
  // A JoinableQueue credits each item to the consumer thread's slot.
  const bool joinable = (h.flags & kJoinable) != 0;
  const std::uint32_t slot = joinable ? consumer_slot(q) : 0;
  Guard guard(&h.get_lock, d);
  if (!guard.locked()) return false;
  // A take that the previous holder left half-done: it died.
  if (joinable && h.taking_slot.load(std::memory_order_relaxed) != 0) repair_take(h);

  for (;;) {
    std::uint64_t head = h.head.load(std::memory_order_relaxed);
    // tail_seen is this process's last look at the tail. Other consumers may
    // have moved the head past it since, so only head < tail_seen proves data.
    auto has_data = [&] {
      if (head < q.tail_seen) return true;
      q.tail_seen = h.tail.load(std::memory_order_seq_cst);
      return head < q.tail_seen;
    };
    // Shut down: what is queued is still delivered; an empty queue refuses.
    auto refuse_if_empty_and_shut = [&] {
      if (!has_data() && h.shut.load(std::memory_order_seq_cst) != 0) {
        throw ShutDown("Queue::get: the queue was shut down and is empty");
      }
    };
    refuse_if_empty_and_shut();
    auto data_or_shut = [&] { return has_data() || h.shut.load(std::memory_order_seq_cst) != 0; };
    if (!has_data() && !sleep_until(data_or_shut, h.data_seq, h.consumers_waiting, d)) {
      return false;
    }
    refuse_if_empty_and_shut();

    Record r;
    std::memcpy(&r, q.ring + (head & q.mask()), sizeof r);
    std::uint64_t room = h.capacity - (head & q.mask());
    if (r.size < sizeof r || r.size % 8 != 0 || r.size > room || r.slack > 7 ||
        r.size - sizeof r < r.slack) {
      throw ProtocolError("multiproc: queue record corrupt (size " + std::to_string(r.size) + ")");
    }
    if (r.kind == Kind::pad) {
      h.head.store(head + r.size, std::memory_order_seq_cst);
      continue;
    }
    // The item leaves the queue even if decoding it throws: a bad item must
    // not block the queue forever.
    std::exception_ptr failure;
    ReadExtent extent;
    try {
      if (r.kind == Kind::inline_item) {
        consume(context, {record_body(q, head), r.size - sizeof r - r.slack});
      } else if (r.kind == Kind::large_item) {
        LargeRef ref;
        std::memcpy(&ref, record_body(q, head), sizeof ref);
        read_large(q, ref, consume, context, extent);
      } else {
        throw ProtocolError("multiproc: queue record of unknown kind");
      }
    } catch (...) {
      failure = std::current_exception();
    }
    if (g_test_hook_before_head_moves != nullptr) g_test_hook_before_head_moves();
    if (joinable) {
      take_item(h, slot, head, head + r.size);
    } else {
      h.head.store(head + r.size, std::memory_order_seq_cst);
      h.get_count.store(h.get_count.load(std::memory_order_relaxed) + 1, std::memory_order_seq_cst);
    }
    // Only now may a producer reuse the item's pages: a consumer killed
    // before the head moved leaves the item, whole, to the next one (a
    // consumer killed after this line leaves at worst the pages unreclaimed).
    release_extent(q, extent);
    wake_sleepers(h.space_seq, h.producers_waiting);
    if (failure) std::rethrow_exception(failure);
    return true;
  }
}

void QueueCore::shutdown(bool immediate) {
  Header& h = *impl_->header;
  std::uint32_t want = immediate ? 2 : 1;
  std::uint32_t was = h.shut.load(std::memory_order_seq_cst);
  while (was < want && !h.shut.compare_exchange_weak(was, want, std::memory_order_seq_cst)) {
  }
  if (immediate) {
    // Empty the queue now; each item dropped counts as done, so that join()
    // does not wait for items nobody will get (Python's rule).
    std::uint64_t dropped = 0;
    try {
      while (get([](void*, std::span<const std::byte>) {}, nullptr,
                 std::chrono::steady_clock::now())) {
        ++dropped;
      }
    } catch (const ShutDown&) {
      // Empty.
    }
    // task_done() per item, so that this thread's consumer slot (which get
    // credited) is debited too; a user's early task_done() may have counted
    // some already.
    try {
      for (; dropped > 0 && (h.flags & kJoinable) != 0; --dropped) task_done();
    } catch (const UsageError&) {
      // Every item already counted as done.
    }
  }
  wake_sleepers(h.data_seq, h.consumers_waiting);
  wake_sleepers(h.space_seq, h.producers_waiting);
  wake_sleepers(h.done_seq, h.joiners);
}

bool QueueCore::is_shutdown() const noexcept {
  return impl_->header->shut.load(std::memory_order_seq_cst) != 0;
}

std::uint64_t QueueCore::qsize() const noexcept {
  const Header& h = *impl_->header;
  std::uint64_t got = h.get_count.load(std::memory_order_acquire);
  std::uint64_t put = h.put_count.load(std::memory_order_acquire);
  return put > got ? put - got : 0;
}

std::uint64_t QueueCore::maxsize() const noexcept {
  return impl_->header->maxsize;
}
int QueueCore::memfd() const noexcept {
  return impl_->memfd.get();
}
int QueueCore::eventfd() const noexcept {
  return impl_->eventfd.get();
}

}  // namespace multiproc::detail
