// multiproc/value.hpp — one value of type T in shared memory.
//
//   mp::Value<long> counter(0);                 // with its own RLock, as Python's lock=True
//   mp::Process p([](mp::Value<long> c) {
//     std::lock_guard guard(c.get_lock());      // one read-modify-write under the lock
//     c.set(c.value() + 1);
//   }, counter);
//   p.start(); p.join();
//   counter.value();                            // 1
//
//   mp::Value<double> ratio(0.5, mp::no_lock);  // no lock: the caller synchronises
//   mp::Value<long> shared(0, counter.get_lock());  // share another object's lock
//   mp::Value<int> plain(0, mp::Lock());        // a plain Lock, as Python's lock=Lock()
//
// T must be trivially copyable: its bytes are shared as they are, so it may
// hold no pointer to one process's memory and needs no destructor.
//
// value() and set() take the lock, when there is one, for that single read
// or write (as Python's .value does); a read-modify-write needs get_lock()
// around it, which is why the default lock is recursive. With a plain Lock
// (Python's lock=Lock()), value() and set() while the same thread holds
// get_lock() are a UsageError, where Python would deadlock. get_lock()
// returns an AnyLock (lock.hpp): the Lock or RLock it was made with. Without a lock, value() and
// set() are plain copies: concurrent use is the caller's to order, and
// atomic() gives a std::atomic_ref for types the hardware handles lock-free.
// get_obj() is the shared object itself, unguarded.
//
// A handle is a cheap reference: copies refer to the same value (and lock).
// Forked children share every Value created before the fork; pass the handle
// as a Process argument so that its descriptors (value and lock) stay open in
// the child. Each handle carries descriptors for a later spawn start method:
// fd() and get_lock().fd(), rebuilt with from_fd(fd, RLock::from_fd(lock_fd)).
//
// Memory ordering: the lock orders accesses made under it; atomic() is as
// ordered as the std::atomic_ref operations used.
//
// Fork safety: forked children share the value and its lock (lock.hpp).
// Thread safety: a handle may be used by any number of threads at once; the
// data itself is guarded only by its lock. Async-signal safety: none of the
// locked methods is async-signal-safe; atomic() operations on a lock-free
// type are. Destruction: the value lives while any process maps it.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <atomic>
#include <mutex>
#include <optional>
#include <type_traits>
#include <vector>

#include "multiproc/detail/shared_handle.hpp"
#include "multiproc/detail/wire.hpp"
#include "multiproc/error.hpp"
#include "multiproc/lock.hpp"

namespace multiproc {

template <class T>
class Value {
  static_assert(!std::is_pointer_v<T>,
                "multiproc: Value<T> cannot hold a pointer: each process maps the shared memory "
                "at its own address, so an address from one process means nothing in another. "
                "Store an index or an offset instead");
  static_assert(std::is_trivially_copyable_v<T>,
                "multiproc: Value<T> shares T's bytes between processes as they are, so T must "
                "be trivially copyable (numbers, enums, and structs or std::array of them; no "
                "std::string, std::vector or pointers inside). For text use a fixed char[N] "
                "member or Array<char>; for other values send them through a Queue or a Pipe");
  static_assert(!std::is_const_v<T> && !std::is_volatile_v<T>,
                "multiproc: Value<T> needs an unqualified T (drop const or volatile)");
  static_assert(alignof(T) <= 4096, "multiproc: Value<T>: T is aligned beyond a page");

 public:
  // A value initialised with `initial`, guarded as `lock` says (a new RLock
  // by default, a Lock or RLock given, or no_lock).
  explicit Value(const T& initial = T{}, detail::LockChoice lock = {})
      : handle_(detail::SharedHandle::create(detail::SharedKind::value, kLayout, "Value")),
        lock_(std::move(lock).resolve()) {
    ::new (handle_.state()) T(initial);
  }

  // A copy of the value (under the lock, if any).
  T value() const {
    const T* p = object("Value::value");
    if (!lock_) return *p;
    std::lock_guard guard(*lock_);
    return *p;
  }

  // Stores `v` (under the lock, if any).
  void set(const T& v) {
    T* p = object("Value::set");
    if (!lock_) {
      *p = v;
      return;
    }
    std::lock_guard guard(*lock_);
    *p = v;
  }

  // The lock. Throws UsageError for a Value made with no_lock.
  AnyLock& get_lock() const {
    if (!lock_) throw UsageError("Value::get_lock: this Value was made with no_lock");
    return *lock_;
  }
  bool has_lock() const noexcept { return lock_.has_value(); }

  // The shared object itself, unguarded.
  T& get_obj() const { return *object("Value::get_obj"); }

  // Lock-free atomic access to the shared object.
  std::atomic_ref<T> atomic() const requires std::atomic_ref<T>::is_always_lock_free {
    return std::atomic_ref<T>(*object("Value::atomic"));
  }

  // The value's memfd (its lock has its own: get_lock().fd()).
  int fd() const { return handle_.fd("Value::fd"); }
  // A handle to the Value<T> behind `fd` (duplicated; the caller keeps its
  // own), guarded by `lock` if given. UsageError if `fd` is not a Value of
  // a type with T's size and alignment.
  static Value from_fd(int fd, std::optional<AnyLock> lock = std::nullopt) {
    return Value(detail::SharedHandle::adopt(fd, detail::SharedKind::value, kLayout, "Value"),
                 std::move(lock));
  }
  void multiproc_descriptors(std::vector<int>& out) const {
    handle_.descriptors(out);
    if (lock_) lock_->multiproc_descriptors(out);
  }
  // Crossing into a spawned or forkserver child as descriptors (detail/wire.hpp).
  void multiproc_export(detail::WireWriter& w) const { detail::export_with_lock(w, fd(), lock_); }
  static Value multiproc_import(detail::WireReader& r) {
    int fd = r.fd();
    return from_fd(fd, detail::import_lock(r));
  }

 private:
  static constexpr detail::SharedLayout kLayout{sizeof(T), 1, alignof(T)};

  Value(detail::SharedHandle handle, std::optional<AnyLock> lock) noexcept
      : handle_(std::move(handle)), lock_(std::move(lock)) {}

  T* object(const char* operation) const { return static_cast<T*>(handle_.checked(operation)); }

  detail::SharedHandle handle_;
  mutable std::optional<AnyLock> lock_;
};

}  // namespace multiproc
