// multiproc/lock.hpp — Lock and RLock, shared between processes, robust
// against the death of their owner.
//
//   mp::Lock lock;                        // create before starting the children
//   mp::Process p([](mp::Lock l) { std::lock_guard g(l); /* ... */ }, lock);
//   p.start();
//
//   switch (lock.acquire(5s)) {           // acquire() / acquire(timeout) / try_acquire()
//     case mp::AcquireResult::acquired: /* use the state */ lock.release(); break;
//     case mp::AcquireResult::owner_died:  // we hold it; its last owner died holding it
//       repair_shared_state();
//       lock.make_consistent();           // else the lock becomes unrecoverable at release
//       lock.release();
//       break;
//     case mp::AcquireResult::timed_out: break;
//   }
//
// A handle is a cheap reference: copying a Lock gives another handle to the
// same lock, as passing a Python object around does. Forked children share
// every lock created before the fork; pass the handle as a Process argument
// so that its descriptor (fd()) stays open in the child too.
//
// Implementation: a futex word in a shared memfd mapping (never
// FUTEX_PRIVATE_FLAG) holding the owner's TID and start time. Uncontended,
// acquire is one compare-and-swap and release one plain store, both inline:
// tens of times faster than Python's Lock (docs/performance.md). Owner death is
// detected the way a robust pthread mutex reports it, without its per-call
// bookkeeping: a lock found held is checked against its owner, and if that
// thread has ended (SIGKILL included; a zombie counts as ended) the caller
// takes it over with owner_died. A waiter already asleep learns of the death
// within ~10 ms. Deadlines use CLOCK_MONOTONIC. See docs/synchronization.md.
//
// Ownership is per thread: the thread that acquired releases. A process that
// forks while holding a lock keeps it; the child does not own it. (A child
// made without glibc's fork(), with _Fork, vfork or a raw clone, must not
// use locks: it would carry its parent's identity.) Processes that share a
// lock must be in one PID namespace.
//
// Memory ordering: a successful acquire synchronises with the release that
// made the lock available (acquire/release semantics), across processes.
//
// Fork safety: a lock held across a fork stays held by the forking thread
// (the child does not own it, and releasing it there is a UsageError).
// Thread safety: a handle may be used by any number of threads at once.
// Async-signal safety: no method is async-signal-safe (use Event or Semaphore
// from a signal handler).
// Destruction: dropping a handle unmaps this process's view once the last
// handle in the process goes; the lock lives while any process maps it. A
// lock still held then stays held: other processes get it, with owner_died,
// once the holding thread has ended.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <chrono>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "multiproc/detail/lock_word.hpp"
#include "multiproc/detail/shared_handle.hpp"
#include "multiproc/detail/wire_fwd.hpp"
#include "multiproc/stop.hpp"

namespace multiproc {

// The outcome of acquiring a Lock or RLock.
enum class AcquireResult {
  acquired,    // the caller holds the lock
  owner_died,  // the caller holds the lock; the previous owner died holding it
               // (call make_consistent() once the shared state is repaired)
  timed_out,   // not acquired: the deadline passed (or try_acquire found it held)
};

// A tag: Value and Array without a lock.
struct NoLock {
  explicit NoLock() = default;
};
inline constexpr NoLock no_lock{};

namespace detail {

// The names Lock and RLock give their calls in errors.
struct LockNames {
  const char* type;
  const char* acquire;
  const char* try_acquire;
  const char* release;
  const char* make_consistent;
  const char* lock;
  const char* try_lock;
  const char* locked;
  const char* fd;
};
inline constexpr LockNames kLockNames[2] = {
    {"Lock", "Lock::acquire", "Lock::try_acquire", "Lock::release", "Lock::make_consistent",
     "Lock::lock", "Lock::try_lock", "Lock::locked", "Lock::fd"},
    {"RLock", "RLock::acquire", "RLock::try_acquire", "RLock::release", "RLock::make_consistent",
     "RLock::lock", "RLock::try_lock", "RLock::locked", "RLock::fd"},
};

// Everything Lock and RLock share: one lock word, one contract; only what a
// second acquire by the holding thread does differs (src/sync/lock_ops.cpp).
// `Derived` is the public class, which from_fd and multiproc_import return.
template <class Derived, bool Recursive>
class BasicLock {
 public:
  // Blocks until acquired. Throws LockNotRecoverable if a previous owner died
  // and the lock was released without make_consistent(); UsageError if the
  // handle was moved from, or (Lock) this thread already holds it.
  [[nodiscard]] AcquireResult acquire() {
    if (lock_acquire_fast(state(kNames.acquire), this_thread_word())) [[likely]] {
      return AcquireResult::acquired;
    }
    return acquire_contended();
  }
  // As acquire(), but gives up after `timeout` (CLOCK_MONOTONIC) with timed_out.
  [[nodiscard]] AcquireResult acquire(std::chrono::nanoseconds timeout);
  // As acquire(); Interrupted when `stop` is requested first.
  [[nodiscard]] AcquireResult acquire(std::stop_token stop) {
    AcquireResult r = AcquireResult::timed_out;
    until_stopped(stop, "acquire", [&](auto slice) {
      r = acquire(slice);
      return r != AcquireResult::timed_out;
    });
    return r;
  }
  // Never blocks: timed_out when another thread holds the lock (or, for a
  // Lock, this one), acquired or owner_died otherwise.
  [[nodiscard]] AcquireResult try_acquire();
  // Releases the lock (an RLock: one level). Throws UsageError if this
  // thread does not hold it.
  void release() {
    if (lock_release_fast(state(kNames.release), this_thread_word())) [[likely]] {
      return;
    }
    release_slow();
  }
  // After owner_died: marks the protected state consistent again. Throws
  // UsageError if the lock is not held in the owner-died state.
  void make_consistent();

  // BasicLockable / Lockable, for std::lock_guard and std::unique_lock.
  // lock() cannot return owner_died, and a throwing lock() must not leave the
  // lock held with no guard to release it: on owner death it releases the
  // lock without marking it consistent (so it becomes unrecoverable, since
  // no one can vouch for the state) and throws OwnerDied. Use acquire() to
  // recover instead. try_lock() returns false when the lock is held, and
  // throws OwnerDied as lock() does.
  void lock() {
    if (lock_acquire_fast(state(kNames.lock), this_thread_word())) [[likely]] {
      return;
    }
    lock_contended();
  }
  void unlock() { release(); }
  bool try_lock();

  // Whether any thread of any process holds the lock now (Python's
  // locked()). A snapshot: it may change at once. Never blocks; a lock whose
  // owner died still counts as held until someone takes it over.
  bool locked() const { return state(kNames.locked).word.load(std::memory_order_acquire) != 0; }

  // The lock's memfd, for passing to another process (SCM_RIGHTS, or an
  // inherited descriptor). Close-on-exec; owned by the handle.
  int fd() const;
  // A handle to the lock behind `fd`, which must come from fd() of the same
  // class in some process. Duplicates `fd` (the caller keeps its own).
  // Throws UsageError if `fd` is not one.
  static Derived from_fd(int fd);

  // A Process argument keeps these descriptors open in the child.
  void multiproc_descriptors(std::vector<int>& out) const { handle_.descriptors(out); }
  // Crossing into a spawned or forkserver child as descriptors (detail/wire.hpp).
  void multiproc_export(WireWriter& w) const;
  static Derived multiproc_import(WireReader& r);

 protected:
  static constexpr const LockNames& kNames = kLockNames[Recursive ? 1 : 0];

  // A new unlocked lock. Throws SystemError if the shared memory cannot be made.
  BasicLock();
  explicit BasicLock(SharedHandle handle) noexcept : handle_(std::move(handle)) {}
  LockState& state(const char* operation) const {
    return *static_cast<LockState*>(handle_.checked(operation));
  }

  SharedHandle handle_;

 private:
  // The paths that are not the uncontended one (inline above).
  AcquireResult acquire_contended();
  void release_slow();
  void lock_contended();
};

}  // namespace detail

// A non-recursive lock. Acquiring it twice from the same thread is a
// UsageError (not a deadlock); releasing a lock the thread does not hold is a
// UsageError. Its operations: detail::BasicLock above.
class Lock : public detail::BasicLock<Lock, false> {
 public:
  // A new unlocked lock. Throws SystemError if the shared memory cannot be made.
  Lock() = default;

 private:
  friend BasicLock;
  explicit Lock(detail::SharedHandle handle) noexcept : BasicLock(std::move(handle)) {}
};

// A recursive lock: the thread that holds it may acquire it again, and must
// release it as many times. Releasing it when not held is a UsageError.
// Otherwise as Lock, owner death included (owner_died is reported to the
// first acquire after the death; the caller then holds it once).
class RLock : public detail::BasicLock<RLock, true> {
 public:
  // A new unlocked lock. Throws SystemError if the shared memory cannot be made.
  RLock() = default;

 private:
  friend BasicLock;
  friend class Condition;
  explicit RLock(detail::SharedHandle handle) noexcept : BasicLock(std::move(handle)) {}
  // For Condition::wait: releases every level this thread holds and returns
  // how many (UsageError when it holds none); reacquire(n) takes them back.
  int release_all();
  void reacquire(int levels);
};

// Defined once, in the library (src/sync/lock.cpp).
extern template class detail::BasicLock<Lock, false>;
extern template class detail::BasicLock<RLock, true>;

// A handle to either a Lock or an RLock: what Value::get_lock() and
// Array::get_lock() return, since those may be guarded by either (Python's
// lock=Lock() or lock=RLock()). Same contract as the lock it holds (see
// above): thread-safe, not async-signal-safe, a cheap reference.
class AnyLock {
 public:
  AnyLock(Lock lock) : lock_(std::move(lock)) {}   // NOLINT: implicit on purpose
  AnyLock(RLock lock) : lock_(std::move(lock)) {}  // NOLINT: implicit on purpose

  // Whether it is an RLock.
  bool recursive() const noexcept { return std::holds_alternative<RLock>(lock_); }
  // The lock itself; nullptr when it is the other kind.
  Lock* as_lock() noexcept { return std::get_if<Lock>(&lock_); }
  RLock* as_rlock() noexcept { return std::get_if<RLock>(&lock_); }

  [[nodiscard]] AcquireResult acquire() {
    return std::visit([](auto& l) { return l.acquire(); }, lock_);
  }
  [[nodiscard]] AcquireResult acquire(std::chrono::nanoseconds timeout) {
    return std::visit([&](auto& l) { return l.acquire(timeout); }, lock_);
  }
  [[nodiscard]] AcquireResult acquire(std::stop_token stop) {
    return std::visit([&](auto& l) { return l.acquire(stop); }, lock_);
  }
  [[nodiscard]] AcquireResult try_acquire() {
    return std::visit([](auto& l) { return l.try_acquire(); }, lock_);
  }
  void release() {
    std::visit([](auto& l) { l.release(); }, lock_);
  }
  void make_consistent() {
    std::visit([](auto& l) { l.make_consistent(); }, lock_);
  }
  void lock() {
    std::visit([](auto& l) { l.lock(); }, lock_);
  }
  void unlock() { release(); }
  bool try_lock() {
    return std::visit([](auto& l) { return l.try_lock(); }, lock_);
  }
  bool locked() const {
    return std::visit([](const auto& l) { return l.locked(); }, lock_);
  }
  int fd() const {
    return std::visit([](const auto& l) { return l.fd(); }, lock_);
  }

  void multiproc_descriptors(std::vector<int>& out) const {
    std::visit([&](const auto& l) { l.multiproc_descriptors(out); }, lock_);
  }
  // Crossing as descriptors: a u32 kind (1 RLock, 2 Lock), then the lock.
  void multiproc_export(detail::WireWriter& w) const;
  static AnyLock multiproc_import(detail::WireReader& r);

 private:
  std::variant<Lock, RLock> lock_;
};

namespace detail {

// How a Value or Array is guarded: a new RLock (the default, as Python's
// lock=True), the Lock or RLock given (shared with other objects), or none
// (no_lock, as Python's lock=False).
class LockChoice {
 public:
  LockChoice() = default;
  LockChoice(NoLock) : none_(true) {}                    // NOLINT: implicit on purpose
  LockChoice(RLock lock) : given_(std::move(lock)) {}    // NOLINT: implicit on purpose
  LockChoice(Lock lock) : given_(std::move(lock)) {}     // NOLINT: implicit on purpose
  LockChoice(AnyLock lock) : given_(std::move(lock)) {}  // NOLINT: implicit on purpose

  std::optional<AnyLock> resolve() && {
    if (none_) return std::nullopt;
    if (given_) return std::move(given_);
    return AnyLock(RLock());
  }

 private:
  bool none_ = false;
  std::optional<AnyLock> given_;
};

}  // namespace detail
namespace detail {

// Value and Array cross with their optional RLock: the object's descriptor,
// then whether a lock follows, then the lock.
void export_with_lock(WireWriter& w, int fd, const std::optional<AnyLock>& lock);
std::optional<AnyLock> import_lock(WireReader& r);

}  // namespace detail

}  // namespace multiproc
