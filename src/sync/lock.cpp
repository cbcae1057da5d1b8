// Lock and RLock: the out-of-line members of detail::BasicLock, once for
// both, and RLock's own calls for Condition.
#include "multiproc/lock.hpp"

#include "multiproc/detail/wire.hpp"
#include "multiproc/error.hpp"
#include "sync/lock_ops.hpp"

namespace multiproc::detail {

namespace {

template <bool Recursive>
constexpr LockKind kKind = Recursive ? LockKind::recursive : LockKind::plain;
template <bool Recursive>
constexpr SharedKind kShared = Recursive ? SharedKind::rlock : SharedKind::lock;

}  // namespace

template <class Derived, bool Recursive>
BasicLock<Derived, Recursive>::BasicLock()
    : handle_(create_lock(kShared<Recursive>, kNames.type)) {}

template <class Derived, bool Recursive>
AcquireResult BasicLock<Derived, Recursive>::acquire_contended() {
  return lock_acquire_slow(state(kNames.acquire), kKind<Recursive>, sys::Deadline::never(),
                           kNames.acquire);
}

template <class Derived, bool Recursive>
AcquireResult BasicLock<Derived, Recursive>::acquire(std::chrono::nanoseconds timeout) {
  return lock_acquire(handle_, kKind<Recursive>, sys::Deadline::after(timeout), kNames.acquire);
}

template <class Derived, bool Recursive>
AcquireResult BasicLock<Derived, Recursive>::try_acquire() {
  return lock_try_acquire(handle_, kKind<Recursive>, kNames.try_acquire);
}

template <class Derived, bool Recursive>
void BasicLock<Derived, Recursive>::release_slow() {
  lock_release_slow(state(kNames.release), kKind<Recursive>, kNames.release);
}

template <class Derived, bool Recursive>
void BasicLock<Derived, Recursive>::make_consistent() {
  lock_make_consistent(handle_, kNames.make_consistent);
}

template <class Derived, bool Recursive>
void BasicLock<Derived, Recursive>::lock_contended() {
  lock_lock_slow(state(kNames.lock), kKind<Recursive>, kNames.lock);
}

template <class Derived, bool Recursive>
bool BasicLock<Derived, Recursive>::try_lock() {
  return lock_try_lock(handle_, kKind<Recursive>, kNames.try_lock);
}

template <class Derived, bool Recursive>
int BasicLock<Derived, Recursive>::fd() const {
  return handle_.fd(kNames.fd);
}

template <class Derived, bool Recursive>
Derived BasicLock<Derived, Recursive>::from_fd(int fd) {
  return Derived(adopt_lock(fd, kShared<Recursive>, kNames.type));
}

template <class Derived, bool Recursive>
void BasicLock<Derived, Recursive>::multiproc_export(WireWriter& w) const {
  w.fd(fd());
}

template <class Derived, bool Recursive>
Derived BasicLock<Derived, Recursive>::multiproc_import(WireReader& r) {
  return from_fd(r.fd());
}

template class BasicLock<Lock, false>;
template class BasicLock<RLock, true>;

}  // namespace multiproc::detail

namespace multiproc {

int RLock::release_all() {
  int levels = detail::lock_release_all(state("Condition::wait"));
  if (levels < 0) throw UsageError("Condition::wait: this thread does not hold the RLock");
  return levels;
}

void RLock::reacquire(int levels) {
  detail::LockState& s = state("Condition::wait");
  detail::lock_result(s, detail::lock_restore(s, levels), "Condition::wait");
}

}  // namespace multiproc
