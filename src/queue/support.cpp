#include <unistd.h>

#include <cerrno>
#include <climits>

#include "multiproc/error.hpp"
#include "queue/impl.hpp"
#include "sys/futex.hpp"
#include "sys/tsan.hpp"

namespace multiproc::detail::queue {

void (*g_test_hook_before_commit)() = nullptr;
void (*g_test_hook_before_head_moves)() = nullptr;

sys::Deadline to_sys(const QueueCore::Deadline& d) {
  return d ? sys::Deadline::at(*d) : sys::Deadline::never();
}

Guard::Guard(pthread_mutex_t* mutex, const sys::Deadline& deadline) : mutex_(mutex) {
  timespec ts;
  const timespec* at = deadline.absolute(ts);
  int r;
  if (at == nullptr) {
    r = pthread_mutex_lock(mutex);
  } else {
    sys::tsan_pre_lock(mutex);
    r = pthread_mutex_clocklock(mutex, CLOCK_MONOTONIC, at);
    sys::tsan_post_lock(mutex, r == 0 || r == EOWNERDEAD);
  }
  if (r == EOWNERDEAD) {
    // The holder died; every change it made is either committed or invisible.
    pthread_mutex_consistent(mutex);
    r = 0;
  }
  if (r == ETIMEDOUT) return;
  if (r != 0) throw SystemError("locking a queue", r);
  locked_ = true;
}

Guard::~Guard() {
  if (locked_) pthread_mutex_unlock(mutex_);
}

void wake_sleepers(std::atomic<std::uint32_t>& seq,
                   const std::atomic<std::uint32_t>& waiting) noexcept {
  if (waiting.load(std::memory_order_seq_cst) == 0) return;
  seq.fetch_add(1, std::memory_order_seq_cst);
  sys::futex_wake(seq, INT_MAX);  // sleepers with other deadlines re-check and sleep again
}

}  // namespace multiproc::detail::queue

namespace multiproc::detail {

using namespace queue;

void QueueCore::task_done() {
  Header& h = *impl_->header;
  std::uint64_t done = h.done_count.load();
  do {
    if (done >= h.put_count.load()) {
      throw UsageError("JoinableQueue::task_done() called more times than there were items");
    }
  } while (!h.done_count.compare_exchange_weak(done, done + 1));
  if (done + 1 == h.put_count.load()) wake_sleepers(h.done_seq, h.joiners);
}

bool QueueCore::join(const Deadline& deadline) {
  Header& h = *impl_->header;
  auto all_done = [&] { return h.done_count.load() >= h.put_count.load(); };
  if (all_done()) return true;
  return sleep_until(all_done, h.done_seq, h.joiners, to_sys(deadline));
}

void QueueCore::add_poller() noexcept {
  impl_->header->pollers.fetch_add(1);
}
void QueueCore::remove_poller() noexcept {
  impl_->header->pollers.fetch_sub(1);
}

bool QueueCore::ready() noexcept {
  Header& h = *impl_->header;
  auto nonempty = [&] { return h.head.load() != h.tail.load(); };
  if (nonempty()) return true;
  // Empty: make the eventfd unreadable, then look again, in case an item
  // (and its write to the eventfd) came in between.
  std::uint64_t drained;
  if (impl_->eventfd_check.valid(impl_->eventfd.get())) {
    (void)!::read(impl_->eventfd.get(), &drained, sizeof drained);
  }
  return nonempty();
}

}  // namespace multiproc::detail
