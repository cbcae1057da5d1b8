// multiproc/semaphore.hpp — counting semaphores shared between processes.
//
//   mp::Semaphore slots(4);               // at most 4 processes in the section
//   mp::Process p([](mp::Semaphore s) {
//     s.acquire();                        // or s.acquire(5s) / s.try_acquire()
//     use_a_slot();
//     s.release();
//   }, slots);
//
//   mp::BoundedSemaphore b(2);            // releasing above 2 is a UsageError
//
// A handle is a cheap reference: copies refer to the same semaphore. Forked
// children share every semaphore created before the fork; pass the handle
// as a Process argument so that its descriptor stays open in the child.
//
// Implementation: a 32-bit counter in shared memory used as a futex word
// (never FUTEX_PRIVATE_FLAG), and a count of sleepers so that release() makes
// no system call when nobody sleeps. acquire() spins up to 2 us before it
// sleeps. Deadlines use CLOCK_MONOTONIC. Values range from 0 to
// SEM_VALUE_MAX (INT_MAX).
//
// Memory ordering: release() is a release operation and a successful acquire
// an acquire operation: what a process wrote before release() is visible to
// the process whose acquire() takes that unit.
//
// Async-signal safety: release() is async-signal-safe on its success path
// (atomic operations and at most one futex wake: no allocation, no lock). Its
// error paths throw (over-release of a BoundedSemaphore, overflow past
// SEM_VALUE_MAX, a moved-from handle) and are not. get_value() is
// async-signal-safe too. acquire() is not meant for signal handlers.
//
// A process that dies never holds a semaphore the way it holds a Lock: a unit
// it took and did not give back is simply gone, as with POSIX semaphores.
//
// Fork safety: forked children share the count; nothing is held per process.
// Thread safety: a handle may be used by any number of threads at once.
// Destruction: as Lock: the semaphore lives while any process maps it.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <chrono>
#include <vector>

#include "multiproc/detail/shared_handle.hpp"
#include "multiproc/detail/wire_fwd.hpp"
#include "multiproc/stop.hpp"

namespace multiproc {

namespace detail {

// Everything Semaphore and BoundedSemaphore share: one counter, one contract;
// they differ in their bound and their errors (src/sync/semaphore.cpp).
// `Derived` is the public class, which from_fd and multiproc_import return.
template <class Derived, bool Bounded>
class BasicSemaphore {
 public:
  // Takes one unit, waiting while there is none.
  void acquire();
  // As acquire(), giving up after `timeout` (CLOCK_MONOTONIC): false then.
  bool acquire(std::chrono::nanoseconds timeout);
  // Waits for a unit; Interrupted when `stop` is requested first.
  void acquire(std::stop_token stop) {
    until_stopped(stop, "acquire", [&](auto slice) { return acquire(slice); });
  }
  // Takes one unit if there is one now.
  bool try_acquire();
  // Gives back one unit and wakes one waiter. Async-signal-safe. Throws
  // UsageError past the maximum (a BoundedSemaphore's initial value, else
  // SEM_VALUE_MAX); that error path is not async-signal-safe.
  void release();
  // The number of units now (a snapshot).
  int get_value() const;

  // The semaphore's memfd, for passing to another process; from_fd rebuilds
  // a handle from it (duplicating it) and refuses a descriptor that is not
  // one of the same class with UsageError.
  int fd() const;
  static Derived from_fd(int fd);
  void multiproc_descriptors(std::vector<int>& out) const { handle_.descriptors(out); }
  // Crossing into a spawned or forkserver child as descriptors (detail/wire.hpp).
  void multiproc_export(WireWriter& w) const;
  static Derived multiproc_import(WireReader& r);

 protected:
  // `value` units; UsageError outside 0..SEM_VALUE_MAX (BoundedSemaphore: 1..).
  explicit BasicSemaphore(int value);
  explicit BasicSemaphore(SharedHandle handle) noexcept : handle_(std::move(handle)) {}

  SharedHandle handle_;
};

}  // namespace detail

// A counting semaphore: at most SEM_VALUE_MAX units.
class Semaphore : public detail::BasicSemaphore<Semaphore, false> {
 public:
  // A semaphore holding `value` units (0..SEM_VALUE_MAX, else UsageError).
  explicit Semaphore(int value = 1) : BasicSemaphore(value) {}

 private:
  friend BasicSemaphore;
  explicit Semaphore(detail::SharedHandle handle) noexcept : BasicSemaphore(std::move(handle)) {}
};

// A semaphore that never holds more than its initial value: a release above
// it is a UsageError (a bug: more releases than acquires).
class BoundedSemaphore : public detail::BasicSemaphore<BoundedSemaphore, true> {
 public:
  // `value` (1..SEM_VALUE_MAX, else UsageError) is the initial and maximum value.
  explicit BoundedSemaphore(int value = 1) : BasicSemaphore(value) {}

  // The maximum (and initial) value.
  int max_value() const;

 private:
  friend BasicSemaphore;
  explicit BoundedSemaphore(detail::SharedHandle handle) noexcept
      : BasicSemaphore(std::move(handle)) {}
};

// Defined once, in the library (src/sync/semaphore.cpp).
extern template class detail::BasicSemaphore<Semaphore, false>;
extern template class detail::BasicSemaphore<BoundedSemaphore, true>;

}  // namespace multiproc
