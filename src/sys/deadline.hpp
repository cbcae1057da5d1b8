// A point on CLOCK_MONOTONIC (std::chrono::steady_clock) after which a wait
// gives up. Wall-clock jumps never move it. Thread-safe value type.
#pragma once

#include <time.h>

#include <chrono>
#include <optional>

namespace multiproc::sys {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  static Deadline never() noexcept { return Deadline(); }
  // A zero or negative `d` is a deadline already passed (a wait polls once);
  // one too far to represent (nanoseconds::max()) saturates instead of
  // overflowing into the past.
  static Deadline after(std::chrono::nanoseconds d) noexcept {
    Deadline dl;
    Clock::time_point now = Clock::now();
    if (d <= std::chrono::nanoseconds::zero()) {
      dl.at_ = now;
    } else if (d > Clock::time_point::max() - now) {
      dl.at_ = Clock::time_point::max();
    } else {
      dl.at_ = now + d;
    }
    return dl;
  }

  static Deadline at(Clock::time_point t) noexcept {
    Deadline dl;
    dl.at_ = t;
    return dl;
  }

  bool is_never() const noexcept { return !at_.has_value(); }
  // The earlier of this deadline and `d` from now: a wait that must wake
  // periodically to check something.
  Deadline capped(std::chrono::nanoseconds d) const noexcept {
    Deadline soon = after(d);
    return at_ && *at_ < *soon.at_ ? *this : soon;
  }
  bool expired() const noexcept { return at_ && Clock::now() >= *at_; }

  // The deadline as an absolute CLOCK_MONOTONIC timespec (steady_clock is
  // CLOCK_MONOTONIC on Linux), for FUTEX_WAIT_BITSET; nullptr for never.
  const timespec* absolute(timespec& storage) const noexcept {
    if (!at_) return nullptr;
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(at_->time_since_epoch()).count();
    storage.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    storage.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    return &storage;
  }

  // Time left as a timespec for ppoll/futex (zero once expired); nullptr for never.
  const timespec* remaining(timespec& storage) const noexcept {
    if (!at_) return nullptr;
    auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(*at_ - Clock::now());
    if (left.count() < 0) left = std::chrono::nanoseconds(0);
    storage.tv_sec = static_cast<time_t>(left.count() / 1'000'000'000);
    storage.tv_nsec = static_cast<long>(left.count() % 1'000'000'000);
    return &storage;
  }

 private:
  Deadline() = default;
  std::optional<Clock::time_point> at_;
};

}  // namespace multiproc::sys
