#include <linux/futex.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <vector>

#include "multiproc/error.hpp"
#include "queue/consumers.hpp"
#include "queue/impl.hpp"
#include "sys/futex.hpp"
#include "sys/proc_fs.hpp"
#include "sys/tsan.hpp"

namespace multiproc::detail::queue {

void (*g_test_hook_before_commit)() = nullptr;
void (*g_test_hook_before_head_moves)() = nullptr;

sys::Deadline to_sys(const QueueCore::Deadline& d) {
  return d ? sys::Deadline::at(*d) : sys::Deadline::never();
}

namespace {

// How long a lock() waits before it looks whether the holder still exists.
constexpr std::chrono::milliseconds kOwnerCheck{500};

int lock_until(pthread_mutex_t* mutex, const sys::Deadline& deadline) {
  timespec ts;
  sys::tsan_pre_lock(mutex);
  int r = pthread_mutex_clocklock(mutex, CLOCK_MONOTONIC, deadline.absolute(ts));
  sys::tsan_post_lock(mutex, r == 0 || r == EOWNERDEAD);
  return r;
}

}  // namespace

// A robust mutex whose holder dies is marked FUTEX_OWNER_DIED by the kernel,
// from the holder's robust list, as it exits. The soak test (make soak) saw
// that mark missing about once in ten minutes of SIGKILL storms: a producer
// slept forever on a lock word naming a thread that no longer existed. So a
// wait on the lock wakes every kOwnerCheck to look at the word; if it names a
// thread that has ended, it does what the kernel does for a dead holder:
// keeps FUTEX_WAITERS, sets FUTEX_OWNER_DIED and wakes a waiter, so that the
// next lock attempt returns EOWNERDEAD. A live holder is never touched.
void recover_if_holder_ended(pthread_mutex_t* mutex) {
  // glibc keeps the futex word in __data.__lock: the holder's TID, and the
  // FUTEX_WAITERS and FUTEX_OWNER_DIED bits.
  auto* word = reinterpret_cast<std::atomic<std::uint32_t>*>(&mutex->__data.__lock);
  std::uint32_t seen = word->load();
  auto tid = static_cast<pid_t>(seen & FUTEX_TID_MASK);
  // A zombie counts as ended: the kernel processes a thread's robust list
  // before it becomes one.
  if (tid == 0 || (seen & FUTEX_OWNER_DIED) != 0 || !sys::proc::task_has_ended(tid)) return;
  std::uint32_t marked = (seen & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
  if (word->compare_exchange_strong(seen, marked)) sys::futex_wake(*word, 1);
}

Guard::Guard(pthread_mutex_t* mutex, const sys::Deadline& deadline) : mutex_(mutex) {
  for (;;) {
    int r = lock_until(mutex, deadline.capped(kOwnerCheck));
    if (r == EOWNERDEAD) {
      // The holder died; every change it made is either committed or invisible.
      pthread_mutex_consistent(mutex);
      r = 0;
    }
    if (r == 0) {
      locked_ = true;
      return;
    }
    if (r != ETIMEDOUT) throw SystemError("locking a queue", r);
    if (deadline.expired()) return;
    recover_if_holder_ended(mutex);
  }
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
  // After the count, so that a join() looking in between sees this
  // consumer still holding the item (and waits), never the reverse.
  if ((h.flags & kJoinable) != 0) credit_task_done(*impl_);
  if (done + 1 == h.put_count.load()) wake_sleepers(h.done_seq, h.joiners);
}

namespace {

// How often a waiting join() looks for unfinished items held by consumers
// that have ended (docs/queues.md states the bound).
constexpr std::chrono::milliseconds kJoinCheck{20};

[[noreturn]] void throw_lost(std::uint64_t unfinished, const std::vector<LostHolder>& holders) {
  std::vector<ConsumerLost::Consumer> consumers;
  consumers.reserve(holders.size());
  for (const LostHolder& l : holders) consumers.push_back({l.pid, l.tid, l.items});
  throw ConsumerLost(unfinished, std::move(consumers));
}

}  // namespace

bool QueueCore::join(const Deadline& deadline) {
  Impl& q = *impl_;
  Header& h = *q.header;
  auto all_done = [&] { return h.done_count.load() >= h.put_count.load(); };
  const bool joinable = (h.flags & kJoinable) != 0;
  sys::Deadline d = to_sys(deadline);
  std::uint64_t unfinished = 0;
  std::vector<LostHolder> holders;
  for (;;) {
    if (all_done()) return true;
    if (joinable && find_lost(q, unfinished, holders)) throw_lost(unfinished, holders);
    if (d.expired()) return false;
    if (sleep_until(all_done, h.done_seq, h.joiners, d.capped(kJoinCheck))) return true;
  }
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
