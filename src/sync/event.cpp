#include "multiproc/event.hpp"

#include <cerrno>
#include <climits>
#include <string>

#include "multiproc/error.hpp"
#include "sys/futex.hpp"
#include "sys/spin.hpp"

namespace multiproc {
namespace {

using detail::SharedHandle;
using detail::SharedKind;

// The futex word: bit 0 is the flag; the bits above count the times it was
// set, so that a waiter whose event was set and cleared again before it woke
// still sees that it was set (as Python's wait() returns True then).
struct EventState {
  std::atomic<std::uint32_t> word;
  std::atomic<std::uint32_t> sleepers;  // processes in futex_wait on `word`
};

constexpr std::uint32_t kSetBit = 1;
constexpr detail::SharedLayout kLayout{sizeof(EventState), 1, alignof(EventState)};

EventState& state(const SharedHandle& h, const char* operation) {
  return *static_cast<EventState*>(h.checked(operation));
}

// 1 when the event is (or was, during the wait) set, 0 when the deadline
// passed first, -errno.
int wait_for_set(EventState& e, const sys::Deadline& deadline) noexcept {
  std::uint32_t seen = e.word.load(std::memory_order_acquire);
  if ((seen & kSetBit) != 0) return 1;
  if (sys::spin_until([&] { return e.word.load(std::memory_order_acquire) != seen; })) return 1;
  // Announce the sleeper before the futex re-reads the word (both seq_cst):
  // either set() sees the sleeper and wakes it, or the futex sees the change.
  e.sleepers.fetch_add(1, std::memory_order_seq_cst);
  int r = 0;
  while (e.word.load(std::memory_order_acquire) == seen) {
    r = sys::futex_wait(e.word, seen, deadline);
    if (r == -ETIMEDOUT || (r < 0 && r != -EINTR)) break;
  }
  e.sleepers.fetch_sub(1, std::memory_order_relaxed);
  if (e.word.load(std::memory_order_acquire) != seen) return 1;
  return r == -ETIMEDOUT ? 0 : r;
}

bool wait_or_throw(const SharedHandle& h, const sys::Deadline& deadline) {
  int r = wait_for_set(state(h, "Event::wait"), deadline);
  if (r < 0) throw SystemError("Event::wait: futex wait", -r);
  return r == 1;
}

}  // namespace

Event::Event() : handle_(SharedHandle::create(SharedKind::event, kLayout, "Event")) {
  new (handle_.state()) EventState{};
}

void Event::set() {
  EventState& e = state(handle_, "Event::set");
  std::uint32_t v = e.word.load(std::memory_order_relaxed);
  do {
    // Already set: a sleeper registered since then finds the word changed
    // from what it saw and does not sleep, so there is nobody to wake.
    if ((v & kSetBit) != 0) return;
  } while (!e.word.compare_exchange_weak(v, v + 2 + kSetBit, std::memory_order_seq_cst,
                                         std::memory_order_relaxed));
  if (e.sleepers.load(std::memory_order_seq_cst) != 0) sys::futex_wake(e.word, INT_MAX);
}

void Event::clear() {
  state(handle_, "Event::clear").word.fetch_and(~kSetBit, std::memory_order_relaxed);
}

bool Event::is_set() const {
  return (state(handle_, "Event::is_set").word.load(std::memory_order_acquire) & kSetBit) != 0;
}

void Event::wait() const {
  wait_or_throw(handle_, sys::Deadline::never());
}

bool Event::wait(std::chrono::nanoseconds timeout) const {
  return wait_or_throw(handle_, sys::Deadline::after(timeout));
}

int Event::fd() const {
  return handle_.fd("Event::fd");
}

Event Event::from_fd(int fd) {
  return Event(SharedHandle::adopt(fd, SharedKind::event, kLayout, "Event"));
}

}  // namespace multiproc
