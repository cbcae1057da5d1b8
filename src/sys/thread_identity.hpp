// Who owns a lock: a thread, named by its TID plus the time it started
// (multiproc/detail/lock_word.hpp), and whether that thread still lives.
#pragma once

#include <cstdint>

#include "multiproc/detail/lock_word.hpp"

namespace multiproc::sys {

using multiproc::detail::ThreadIdentity;

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
