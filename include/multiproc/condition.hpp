// multiproc/condition.hpp — a condition variable shared between processes.
//
//   mp::Condition cond;                  // its own Lock; or Condition(lock), Condition(rlock)
//   mp::Value<int> items(0, mp::no_lock);
//   // consumer (any process):
//   {
//     std::unique_lock guard(cond);      // Condition is Lockable: it locks its lock
//     cond.wait_for([&] { return items.value() > 0; }, 5s);
//   }
//   // producer:
//   { std::lock_guard guard(cond); items.set(items.value() + 1); cond.notify(); }
//
// As Python's multiprocessing.Condition: wait() releases the lock (every
// level of an RLock), sleeps until notified or the timeout passes, and takes
// the lock back before returning. Waits may end spuriously, so wait in a loop
// on the condition, or use wait_for(predicate).
//
// A handle is a cheap reference: copies refer to the same condition and lock.
// Forked children share every condition created before the fork; pass the
// handle as a Process argument so that its descriptors (the condition's and
// its lock's) stay open in the child.
//
// Implementation: a 32-bit sequence counter in shared memory used as a futex
// word (never FUTEX_PRIVATE_FLAG); notify bumps it and wakes up to n
// sleepers. A sleeper count spares notify() the system call when nobody
// sleeps. Deadlines use CLOCK_MONOTONIC.
//
// Owner death: if a process dies holding the lock while others wait, the
// waiter that takes the lock back gets OwnerDied from wait() (as from
// Lock::lock(): the lock is released unrepaired and becomes unrecoverable).
//
// Memory ordering: what the notifier wrote under the lock is visible to the
// waiter once wait() has taken the lock back (the lock orders it).
//
// Fork safety: as its lock's (lock.hpp); the sequence word is shared.
// Thread safety: a handle may be used by any number of threads at once.
// Async-signal safety: none of the methods is async-signal-safe.
// Destruction: the condition lives while any process maps it.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <chrono>
#include <variant>
#include <vector>

#include "multiproc/detail/shared_handle.hpp"
#include "multiproc/detail/wire_fwd.hpp"
#include "multiproc/lock.hpp"
#include "multiproc/stop.hpp"

namespace multiproc {

class Condition {
 public:
  // A condition with its own new Lock.
  Condition();
  // A condition over `lock` (another handle to the same lock is kept).
  explicit Condition(Lock lock);
  explicit Condition(RLock lock);

  // The lock, as Python's acquire/release and `with cond:`.
  [[nodiscard]] AcquireResult acquire();
  [[nodiscard]] AcquireResult acquire(std::chrono::nanoseconds timeout);
  void release();
  void lock();
  void unlock() { release(); }
  bool try_lock();

  // Releases the lock, sleeps until notified, takes the lock back. The
  // calling thread must hold the lock (else UsageError, lock untouched).
  void wait();
  // As wait(), giving up after `timeout` (CLOCK_MONOTONIC). False on timeout;
  // the lock is held again either way.
  bool wait(std::chrono::nanoseconds timeout);
  // Waits until `predicate()` holds (checked with the lock held, as
  // wait_for); Interrupted when `stop` is requested first (the lock is held
  // again either way).
  template <class Predicate>
  void wait_for(Predicate predicate, std::stop_token stop) {
    detail::until_stopped(stop, "Condition::wait_for",
                          [&](auto slice) { return wait_for(predicate, slice); });
  }
  // Waits until `predicate()` is true (checked first, and after each wake-up,
  // with the lock held). Returns its last value: false means timed out.
  template <class Predicate>
  bool wait_for(Predicate predicate);
  template <class Predicate>
  bool wait_for(Predicate predicate, std::chrono::nanoseconds timeout);

  // Wakes up to `n` waiters / all waiters. Call with the lock held (as
  // Python requires) to be sure a waiter that is about to wait is counted.
  void notify(int n = 1);
  void notify_all();

  // The condition's own memfd, for passing to another process with its
  // lock's; from_fd rebuilds the condition around a handle to that lock.
  // UsageError if `fd` is not a Condition.
  int fd() const;
  static Condition from_fd(int fd, Lock lock);
  static Condition from_fd(int fd, RLock lock);
  void multiproc_descriptors(std::vector<int>& out) const;
  // Crossing into a spawned or forkserver child as descriptors (detail/wire.hpp).
  void multiproc_export(detail::WireWriter& w) const;
  static Condition multiproc_import(detail::WireReader& r);

 private:
  using AnyLock = std::variant<Lock, RLock>;
  Condition(detail::SharedHandle handle, AnyLock lock) noexcept;
  bool wait_until(std::chrono::steady_clock::time_point deadline, bool forever);

  detail::SharedHandle handle_;
  AnyLock lock_;
};

template <class Predicate>
bool Condition::wait_for(Predicate predicate) {
  while (!predicate()) wait();
  return true;
}

template <class Predicate>
bool Condition::wait_for(Predicate predicate, std::chrono::nanoseconds timeout) {
  const auto deadline = detail::deadline_after(timeout);
  while (!predicate()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    wait_until(deadline, false);
  }
  return true;
}

}  // namespace multiproc
