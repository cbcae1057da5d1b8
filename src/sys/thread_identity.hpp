// Who owns a lock: a thread, named by its TID plus the time it started, so
// that a TID the kernel has since given to another thread is not mistaken
// for the owner. The TID and start time of the calling thread are read once
// per thread (and again in a forked child) and cached.
#pragma once

#include <cstdint>

namespace multiproc::sys {

struct ThreadIdentity {
  std::uint32_t tid = 0;  // 0 until computed
  std::uint32_t tag = 0;  // from the thread's start time; never 0 when known
  // Both in one word, TID in the low half: what a lock word holds.
  std::uint64_t word() const noexcept { return std::uint64_t{tag} << 32 | tid; }
};

namespace detail {
// constinit: no per-access initialisation wrapper; initial-exec: one
// %fs-relative load, even in a shared library.
extern constinit thread_local ThreadIdentity t_identity __attribute__((tls_model("initial-exec")));
const ThreadIdentity& compute_thread_identity() noexcept;
}  // namespace detail

// The calling thread's identity. Not async-signal-safe the first time a
// thread calls it (it reads /proc/thread-self/stat).
inline const ThreadIdentity& this_thread_identity() noexcept {
  if (detail::t_identity.tid != 0) [[likely]]
    return detail::t_identity;
  return detail::compute_thread_identity();
}

// Whether the thread of identity word `word` (see ThreadIdentity::word) has
// ended: its TID is gone, names a zombie, or now names a thread that started
// at another time than its tag says. Reads /proc/<tid>/stat (kill(tid, 0)
// when /proc is not mounted). Errs towards "alive" when it cannot tell.
bool thread_has_ended(std::uint64_t word) noexcept;

}  // namespace multiproc::sys
