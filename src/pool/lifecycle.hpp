// The pool's lifecycle: running -> closed (close(): no new jobs, submitted
// work goes on) -> joined (join()), or running/closed -> terminating
// (terminate(): stop now) -> joined. What each state allows is decided
// here; the transitions are the engine's close/terminate/join
// (lifecycle.cpp). Guarded by the engine's lock.
#pragma once

namespace multiproc::detail::pool {

enum class PoolState { running, closed, terminating, joined };

// New jobs (open_job).
inline bool accepts_jobs(PoolState s) noexcept {
  return s == PoolState::running;
}
// More chunks for an open job (imap feeds lazily after close()).
inline bool accepts_chunks(PoolState s) noexcept {
  return s == PoolState::running || s == PoolState::closed;
}
// Whether dead workers are replaced: while there is, or may be, work.
inline bool keeps_workers(PoolState s, bool work_pending) noexcept {
  return s == PoolState::running || (s == PoolState::closed && work_pending);
}

}  // namespace multiproc::detail::pool
