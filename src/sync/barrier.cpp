#include "multiproc/barrier.hpp"

#include <string>

#include "multiproc/error.hpp"
#include "sync/barrier_state.hpp"

namespace multiproc {
namespace {

using detail::BarrierGuard;
using detail::BarrierPhase;
using detail::BarrierState;
using detail::SharedHandle;
using detail::SharedKind;

SharedHandle create_barrier(int parties) {
  if (parties < 1) {
    throw UsageError("Barrier: " + std::to_string(parties) +
                     " parties; a barrier needs at least 1");
  }
  detail::lock_process_init();
  SharedHandle h = SharedHandle::create(SharedKind::barrier, detail::kBarrierLayout, "Barrier");
  auto* b = new (h.state()) BarrierState{};
  b->parties = static_cast<std::uint32_t>(parties);
  b->phase = BarrierPhase::filling;
  return h;
}

BarrierState& state(const SharedHandle& h, const char* operation) {
  return *static_cast<BarrierState*>(h.checked(operation));
}

[[noreturn]] void throw_broken(const char* why) {
  throw BrokenBarrierError(std::string("Barrier::wait: ") + why);
}

// Leaving wait(), normally or by an exception: the last party out of a
// drained or reset cycle opens the barrier for the next one.
class CountedParty {
 public:
  explicit CountedParty(BarrierState& b) : b_(b), index_(b.count++) {}
  ~CountedParty() {
    if (--b_.count == 0 &&
        (b_.phase == BarrierPhase::draining || b_.phase == BarrierPhase::resetting)) {
      b_.phase = BarrierPhase::filling;
      detail::barrier_notify_all(b_);
    }
  }
  CountedParty(const CountedParty&) = delete;
  CountedParty& operator=(const CountedParty&) = delete;
  std::uint32_t index() const { return index_; }

 private:
  BarrierState& b_;
  std::uint32_t index_;
};

// The last party runs the action and releases the others. It wakes them
// first: they then wait for the lock this party holds, so that its death
// during the action reaches them as an owner death (the barrier breaks)
// instead of leaving them asleep. They see the outcome when it lets go.
void release_cycle(BarrierState& b, const std::function<void()>* action) {
  detail::barrier_notify_all(b);
  try {
    if (action != nullptr && *action) (*action)();
  } catch (...) {
    detail::barrier_break(b);
    throw;
  }
  b.phase = BarrierPhase::draining;
}

void wait_for_release(BarrierState& b, BarrierGuard& guard, const sys::Deadline& deadline) {
  while (b.phase == BarrierPhase::filling) {
    if (!guard.wait(deadline) && b.phase == BarrierPhase::filling) {
      detail::barrier_break(b);
      throw_broken("timed out waiting for the other parties; the barrier is now broken");
    }
  }
  if (b.phase != BarrierPhase::draining) throw_broken("the barrier was broken or reset");
}

}  // namespace

Barrier::Barrier(int parties, std::function<void()> action,
                 std::optional<std::chrono::nanoseconds> timeout)
    : Barrier(create_barrier(parties), std::move(action), timeout) {}

Barrier::Barrier(SharedHandle handle, std::function<void()> action,
                 std::optional<std::chrono::nanoseconds> timeout)
    : handle_(std::move(handle)),
      action_(action ? std::make_shared<const std::function<void()>>(std::move(action)) : nullptr),
      timeout_(timeout) {}

int Barrier::wait() {
  return wait_with(timeout_);
}

int Barrier::wait(std::chrono::nanoseconds timeout) {
  return wait_with(timeout);
}

int Barrier::wait_with(std::optional<std::chrono::nanoseconds> timeout) {
  BarrierState& b = state(handle_, "Barrier::wait");
  sys::Deadline deadline = timeout ? sys::Deadline::after(*timeout) : sys::Deadline::never();
  BarrierGuard guard(b);
  // A cycle still draining (or resetting) must empty before this one fills.
  // A party of it that died inside wait() never leaves it: only this wait's
  // timeout ends the wait then, and breaks the barrier like any timeout.
  while (b.phase == BarrierPhase::draining || b.phase == BarrierPhase::resetting) {
    if (!guard.wait(deadline) &&
        (b.phase == BarrierPhase::draining || b.phase == BarrierPhase::resetting)) {
      detail::barrier_break(b);
      throw_broken(
          "timed out waiting for the previous cycle's parties to leave (one may have died "
          "inside wait()); the barrier is now broken");
    }
  }
  if (b.phase == BarrierPhase::broken) throw_broken("the barrier is broken");
  CountedParty party(b);
  if (party.index() + 1 == b.parties) {
    release_cycle(b, action_.get());
  } else {
    wait_for_release(b, guard, deadline);
  }
  return static_cast<int>(party.index());
}

void Barrier::reset() {
  BarrierState& b = state(handle_, "Barrier::reset");
  BarrierGuard guard(b);
  if (b.count == 0) {
    b.phase = BarrierPhase::filling;
  } else if (b.phase != BarrierPhase::draining) {
    // Parties still waiting leave with an error; the last one out reopens
    // it. A draining cycle was released already: it empties as it would.
    b.phase = BarrierPhase::resetting;
  }
  detail::barrier_notify_all(b);
}

void Barrier::abort() {
  BarrierState& b = state(handle_, "Barrier::abort");
  BarrierGuard guard(b);
  detail::barrier_break(b);
}

bool Barrier::broken() const {
  BarrierState& b = state(handle_, "Barrier::broken");
  BarrierGuard guard(b);
  return b.phase == BarrierPhase::broken;
}

int Barrier::n_waiting() const {
  BarrierState& b = state(handle_, "Barrier::n_waiting");
  BarrierGuard guard(b);
  return b.phase == BarrierPhase::filling ? static_cast<int>(b.count) : 0;
}

int Barrier::parties() const {
  return static_cast<int>(state(handle_, "Barrier::parties").parties);
}

int Barrier::fd() const {
  return handle_.fd("Barrier::fd");
}

Barrier Barrier::from_fd(int fd, std::function<void()> action,
                         std::optional<std::chrono::nanoseconds> timeout) {
  detail::lock_process_init();
  return Barrier(SharedHandle::adopt(fd, SharedKind::barrier, detail::kBarrierLayout, "Barrier"),
                 std::move(action), timeout);
}

}  // namespace multiproc
