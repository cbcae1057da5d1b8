// multiproc/stop.hpp — interrupting blocking calls with a std::stop_token.
//
//   std::stop_source stop;                     // or the signal bridge's token
//   try {
//     int x = queue.get(stop.get_token());     // any blocking call has this form
//   } catch (const mp::Interrupted&) { ... }   // stop requested while it waited
//
// Every blocking call of the library has an overload taking a
// std::stop_token: Process::join, Queue::get/put, JoinableQueue::join,
// Connection::recv/recv_bytes, wait(), Event::wait, Semaphore::acquire,
// Lock/RLock::acquire, Condition::wait, Barrier::wait, AsyncResult::get/wait
// and Pool::map/starmap/map_outcomes/imap (MapOptions::stop). A stop already
// requested throws at once; one requested while the call waits makes it throw
// Interrupted within about 20 ms. The operation itself is not undone: a
// Process keeps running, a pool task goes on (terminate the pool to stop
// it), an item not yet taken stays in the queue.
//
// How: the call waits in slices of at most 20 ms and checks the token between
// them. This needs no wake-up machinery shared with other processes, costs
// nothing without a token, and a few wake-ups a second with one.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <chrono>
#include <stop_token>
#include <string>

#include "multiproc/error.hpp"

namespace multiproc::detail {

inline constexpr std::chrono::milliseconds kStopSlice{20};

// steady_clock::now() + timeout, saturating: a zero or negative timeout is
// "now" (the wait polls once, as Python's), and one too long to represent
// (nanoseconds::max(), hours::max()) waits forever instead of overflowing
// into the past.
template <class Rep, class Period>
std::chrono::steady_clock::time_point deadline_after(std::chrono::duration<Rep, Period> timeout) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point now = Clock::now();
  if (timeout <= timeout.zero()) return now;
  // Compare in the duration's own unit first: hours::max() does not fit in
  // nanoseconds.
  const auto room = Clock::time_point::max() - now;
  if (timeout >= std::chrono::duration_cast<std::chrono::duration<Rep, Period>>(room) ||
      std::chrono::duration_cast<Clock::duration>(timeout) >= room) {
    return Clock::time_point::max();
  }
  return now + std::chrono::duration_cast<Clock::duration>(timeout);
}

[[noreturn]] inline void throw_interrupted(const char* operation) {
  throw Interrupted(std::string(operation) + ": interrupted by a stop request");
}

// Calls `attempt(slice)` — which waits at most `slice` and returns something
// that converts to true once it succeeded — until it succeeds; throws
// Interrupted when `stop` is requested (checked before every slice).
template <class Attempt>
auto until_stopped(const std::stop_token& stop, const char* operation, Attempt attempt) {
  for (;;) {
    if (stop.stop_requested()) throw_interrupted(operation);
    auto r = attempt(std::chrono::nanoseconds(kStopSlice));
    if (r) return r;
  }
}

}  // namespace multiproc::detail
