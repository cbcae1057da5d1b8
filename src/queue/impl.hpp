// Internal to src/queue: QueueCore's per-process state, and the pieces that
// core.cpp, large_item.cpp and support.cpp share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "multiproc/detail/fd_check.hpp"
#include "multiproc/detail/queue_core.hpp"
#include "queue/layout.hpp"
#include "sys/deadline.hpp"
#include "sys/unique_fd.hpp"

namespace multiproc::detail {

struct QueueCore::Impl {
  sys::UniqueFd memfd;
  sys::UniqueFd eventfd;
  detail::FdCheck memfd_check;
  detail::FdCheck eventfd_check;
  queue::Header* header = nullptr;
  std::byte* ring = nullptr;
  std::size_t mapped = 0;
  // Positions last read from the other side; they only grow, so a stale copy
  // is safe. head_seen is used under put_lock, tail_seen under get_lock.
  std::uint64_t head_seen = 0;
  std::uint64_t tail_seen = 0;
  // The head when this process last overflowed an unbounded queue (under
  // put_lock): while it has not moved, no consumer is draining the ring.
  std::uint64_t head_at_overflow = ~std::uint64_t{0};

  ~Impl();
  std::uint64_t mask() const noexcept { return header->capacity - 1; }
  // The memfd, for large items; UsageError in a forked child that was not
  // given the queue's descriptors (its small items still work, by mapping).
  int file() const;
};

namespace queue {

// Tests only: called with the item's bytes written but not yet committed, and
// inside a get() with the item taken but the head not yet moved, so a test
// can kill the process right there.
extern void (*g_test_hook_before_commit)();
extern void (*g_test_hook_before_head_moves)();

sys::Deadline to_sys(const QueueCore::Deadline& d);

// Holds a robust mutex; a holder that died leaves a consistent state by
// construction, so EOWNERDEAD is simply taken over. A holder that died
// without the kernel marking the lock is found too (recover_if_holder_ended).
class Guard {
 public:
  Guard(pthread_mutex_t* mutex, const sys::Deadline& deadline);
  ~Guard();
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
  bool locked() const noexcept { return locked_; }

 private:
  pthread_mutex_t* mutex_;
  bool locked_ = false;
};

// If `mutex` is held by a thread that has ended and the kernel did not mark
// it FUTEX_OWNER_DIED, marks it so and wakes a waiter (support.cpp).
void recover_if_holder_ended(pthread_mutex_t* mutex);

// Sleeps until `ready()` or the deadline; spins briefly first. `seq` and
// `waiting` are the futex word and waiter count of that condition.
template <class Ready>
bool sleep_until(Ready ready, std::atomic<std::uint32_t>& seq, std::atomic<std::uint32_t>& waiting,
                 const sys::Deadline& deadline);
// Wakes the sleepers on `seq`, if any waits (they re-check their condition).
void wake_sleepers(std::atomic<std::uint32_t>& seq,
                   const std::atomic<std::uint32_t>& waiting) noexcept;

// Large items live in the memfd beyond the ring.
void write_large(QueueCore::Impl& q, std::span<const std::byte> bytes, LargeRef& ref);
// The pages of a large item a get() has read. They are given back
// (release_extent) only once the head has moved past the item's record.
struct ReadExtent {
  std::uint64_t offset = 0;
  std::size_t span = 0;  // 0: nothing to give back
};
void read_large(QueueCore::Impl& q, const LargeRef& ref, QueueCore::Consumer consume, void* context,
                ReadExtent& extent);
void release_extent(QueueCore::Impl& q, const ReadExtent& extent) noexcept;

}  // namespace queue
}  // namespace multiproc::detail

#include "queue/sleep_impl.hpp"
