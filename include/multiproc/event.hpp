// multiproc/event.hpp — a flag that processes wait on, settable from a
// signal handler.
//
//   mp::Event stop;                                  // before starting the children
//   std::signal(SIGTERM, [](int) { g_stop->set(); });  // async-signal-safe
//   mp::Process worker([](mp::Event s) {
//     while (!s.wait(100ms)) do_some_work();         // or s.is_set()
//   }, stop);
//   worker.start();
//   stop.wait();                                     // main loop ends on SIGTERM
//
// Python's Event.set() takes a lock, so calling it from a signal handler
// that interrupted a wait() on the same event deadlocks. This one takes none:
// set() is one atomic exchange and, only when some process sleeps on the
// event, one futex wake. A handler may call it while the same thread, another
// thread or another process waits on or polls the event.
//
// A handle is a cheap reference: copies refer to the same event. Forked
// children share every event created before the fork; pass the handle as a
// Process argument so that its descriptor stays open in the child.
//
// Implementation: a 32-bit word in shared memory used as a futex word (never
// FUTEX_PRIVATE_FLAG): the flag, and a count of the times it was set so that
// a set() then clear() while a waiter sleeps still wakes it; and a count of
// sleepers, so that set() makes no system call when nobody sleeps. A waiter
// spins up to 2 us before it sleeps. Deadlines use CLOCK_MONOTONIC. A waiter
// killed while asleep leaves the sleeper count raised, which only costs
// later set() calls a futex wake that finds nobody.
//
// Memory ordering: set() is a release operation; wait() or is_set() that
// returns true is an acquire operation: what a process wrote before set() is
// visible to the process that saw the event set.
//
// Async-signal safety: set(), clear() and is_set() are async-signal-safe
// (atomic operations and at most one futex wake; no allocation, no lock). On
// a moved-from handle they throw UsageError, which is not. wait() is not
// meant for signal handlers.
//
// Fork safety: forked children share the flag; nothing is held per process.
// Thread safety: a handle may be used by any number of threads at once.
// Destruction: the event lives while any process maps it.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <chrono>
#include <vector>

#include "multiproc/detail/shared_handle.hpp"
#include "multiproc/detail/wire_fwd.hpp"
#include "multiproc/stop.hpp"

namespace multiproc {

class Event {
 public:
  // A new event, not set.
  Event();

  // Sets the flag and wakes every waiter. Async-signal-safe.
  void set();
  // Clears the flag. Async-signal-safe.
  void clear();
  // Whether the flag is set now. Async-signal-safe.
  bool is_set() const;
  // Waits until the flag is set (returns at once if it is). A set() that
  // happens during the wait wakes it even if clear() follows at once.
  void wait() const;
  // Waits at most `timeout` (CLOCK_MONOTONIC). True when the flag was set
  // (now or at some point during the wait), false on timeout, as Python's
  // wait(timeout).
  bool wait(std::chrono::nanoseconds timeout) const;
  // Waits until set; Interrupted when `stop` is requested first.
  void wait(std::stop_token stop) const {
    detail::until_stopped(stop, "Event::wait", [&](auto slice) { return wait(slice); });
  }

  // The event's memfd, for passing to another process; from_fd rebuilds a
  // handle from it (duplicating it) and refuses a descriptor that is not an
  // Event with UsageError.
  int fd() const;
  static Event from_fd(int fd);
  void multiproc_descriptors(std::vector<int>& out) const { handle_.descriptors(out); }
  // Crossing into a spawned or forkserver child as descriptors (detail/wire.hpp).
  void multiproc_export(detail::WireWriter& w) const;
  static Event multiproc_import(detail::WireReader& r);

 private:
  explicit Event(detail::SharedHandle handle) noexcept : handle_(std::move(handle)) {}
  detail::SharedHandle handle_;
};

}  // namespace multiproc
