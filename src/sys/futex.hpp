// Futex operations on a 32-bit word that may live in memory shared between
// processes: never FUTEX_PRIVATE_FLAG, which only works within one process.
// Waits take an absolute CLOCK_MONOTONIC deadline, so a wall-clock jump
// changes nothing. Both functions are async-signal-safe.
#pragma once

#include <atomic>
#include <cstdint>

#include "sys/deadline.hpp"

namespace multiproc::sys {

// Sleeps while `*word == expected`, until woken or the deadline passes.
// Returns 0 when woken or when the value already differed, -ETIMEDOUT,
// -EINTR (a signal handler ran: the caller rechecks its condition), or
// another -errno.
int futex_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
               const Deadline& deadline) noexcept;

// Wakes up to `count` waiters (INT_MAX: all). Returns how many were woken.
int futex_wake(const std::atomic<std::uint32_t>& word, int count) noexcept;

// The same on the low 32 bits of a 64-bit word (little-endian: its first
// four bytes), for a lock word whose low half changes whenever it matters.
int futex_wait_low(const std::atomic<std::uint64_t>& word, std::uint32_t expected,
                   const Deadline& deadline) noexcept;
int futex_wake_low(const std::atomic<std::uint64_t>& word, int count) noexcept;

}  // namespace multiproc::sys
