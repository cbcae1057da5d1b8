// multiproc/barrier.hpp — a barrier for a fixed number of processes.
//
//   mp::Barrier barrier(3);                       // Barrier(parties, action, timeout)
//   auto worker = [](mp::Barrier b) {
//     load_my_part();
//     int index = b.wait();                       // 0..parties-1, distinct per party
//     if (index == 0) std::puts("everyone has loaded");
//   };
//   mp::Process a(worker, barrier), b(worker, barrier);
//   a.start(); b.start();
//   barrier.wait();                               // the third party
//
// As Python's Barrier: wait() returns once `parties` processes (or threads)
// called it, and the barrier is reusable at once for the next cycle. The last
// party to arrive runs the action, if any, before the others are released.
// A broken barrier makes every wait() throw BrokenBarrierError until reset():
// it breaks on abort(), on reset() while parties wait, when a wait times out
// (the default timeout, or wait's own), when the action throws (that wait
// rethrows the action's exception, the others get BrokenBarrierError), and
// when a process dies holding the barrier's internal lock (SIGKILL during
// the action, for instance). A party that dies while waiting is not detected:
// the others wait for it until their timeout. Give waits a timeout when a
// party may die.
//
// A handle is a cheap reference: copies refer to the same barrier. The action
// belongs to the handle (each process runs its own copy of it); copies and
// forked children keep it, from_fd takes its own. Pass the handle as a
// Process argument so that its descriptor stays open in the child.
//
// Implementation: a robust process-shared mutex and a futex sequence word in
// shared memory (never FUTEX_PRIVATE_FLAG), Python's state machine on top.
// Deadlines use CLOCK_MONOTONIC.
//
// Memory ordering: what a party wrote before wait() is visible to every party
// after its wait() returns.
//
// Fork safety: forked children share the barrier and keep the handle's action.
// Thread safety: a handle may be used by any number of threads at once.
// Async-signal safety: no method is async-signal-safe.
// Destruction: the barrier lives while any process maps it.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "multiproc/detail/shared_handle.hpp"
#include "multiproc/detail/wire_fwd.hpp"
#include "multiproc/error.hpp"
#include "multiproc/stop.hpp"

namespace multiproc {

class Barrier {
 public:
  // A barrier for `parties` (>= 1, else UsageError) parties. `action` runs in
  // the last party to arrive; `timeout` is the default for wait().
  explicit Barrier(int parties, std::function<void()> action = {},
                   std::optional<std::chrono::nanoseconds> timeout = std::nullopt);

  // Waits until every party arrived; returns this party's arrival index
  // (0 for the first). Throws BrokenBarrierError (see above), UsageError on a
  // moved-from handle.
  int wait();
  // As wait(), with this timeout instead of the default.
  int wait(std::chrono::nanoseconds timeout);
  // As wait(); when `stop` is requested first, the barrier is aborted (every
  // party gets BrokenBarrierError, as a timeout would do) and this call
  // throws Interrupted.
  int wait(std::stop_token stop) {
    if (stop.stop_requested()) detail::throw_interrupted("Barrier::wait");
    std::stop_callback on_stop(stop, [this] { abort(); });
    try {
      return wait();
    } catch (const BrokenBarrierError&) {
      if (stop.stop_requested()) detail::throw_interrupted("Barrier::wait");
      throw;
    }
  }
  // Back to the empty, unbroken state; parties waiting now get
  // BrokenBarrierError.
  void reset();
  // Breaks the barrier: waiting and later parties get BrokenBarrierError.
  void abort();

  bool broken() const;
  // Parties waiting in the current cycle.
  int n_waiting() const;
  int parties() const;

  // The barrier's memfd, for passing to another process; from_fd rebuilds a
  // handle from it (duplicating it), with this process's action and default
  // timeout. UsageError if `fd` is not a Barrier.
  int fd() const;
  static Barrier from_fd(int fd, std::function<void()> action = {},
                         std::optional<std::chrono::nanoseconds> timeout = std::nullopt);
  void multiproc_descriptors(std::vector<int>& out) const { handle_.descriptors(out); }
  // Crossing into a spawned or forkserver child as descriptors (detail/wire.hpp).
  void multiproc_export(detail::WireWriter& w) const;
  static Barrier multiproc_import(detail::WireReader& r);

 private:
  Barrier(detail::SharedHandle handle, std::function<void()> action,
          std::optional<std::chrono::nanoseconds> timeout);
  int wait_with(std::optional<std::chrono::nanoseconds> timeout);

  detail::SharedHandle handle_;
  std::shared_ptr<const std::function<void()>> action_;
  std::optional<std::chrono::nanoseconds> timeout_;
};

}  // namespace multiproc
