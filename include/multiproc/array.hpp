// multiproc/array.hpp — a fixed-size array of T in shared memory.
//
//   mp::Array<double> data(1 << 20);            // zero-initialised, with its own RLock
//   mp::Array<int> primes{2, 3, 5, 7};          // from a list (or any range)
//   mp::Process p([](mp::Array<double> d) {
//     std::lock_guard guard(d.get_lock());
//     for (double& x : d.span()) x *= 2;
//   }, data);
//
// The elements are contiguous: span() is a std::span<T> over the shared
// memory itself, so reads and writes cost what they cost on local memory.
// T must be trivially copyable (its bytes are shared as they are).
//
// Like Python's Array, it has an RLock by default (mp::no_lock for none, or
// a Lock or RLock to share; get_lock() returns it as an AnyLock). Element access through span() and
// operator[] is not guarded: hold get_lock() around accesses that other processes may race with.
//
// As with std::vector, Array<int>{3} is the one-element array {3} and
// Array<int>(3) is three zeros. A zero, negative or absurd size (more than
// 1 TiB) is a UsageError.
//
// A handle is a cheap reference: copies refer to the same array (and lock).
// Forked children share every Array created before the fork; pass the handle
// as a Process argument so that its descriptors stay open in the child.
//
// Fork safety: forked children share the elements and the lock (lock.hpp).
// Thread safety: a handle may be used by any number of threads at once; the
// elements are guarded only by the lock. Async-signal safety: element access
// is plain memory access; get_lock() and the lock are not async-signal-safe.
// Destruction: the array lives while any process maps it.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <type_traits>
#include <vector>

#include "multiproc/detail/shared_handle.hpp"
#include "multiproc/detail/wire.hpp"
#include "multiproc/error.hpp"
#include "multiproc/lock.hpp"

namespace multiproc {

template <class T>
class Array {
  static_assert(!std::is_pointer_v<T>,
                "multiproc: Array<T> cannot hold a pointer: each process maps the shared memory "
                "at its own address, so an address from one process means nothing in another. "
                "Store an index or an offset instead");
  static_assert(std::is_trivially_copyable_v<T>,
                "multiproc: Array<T> shares T's bytes between processes as they are, so T must "
                "be trivially copyable (numbers, enums, and structs or std::array of them; no "
                "std::string, std::vector or pointers inside). For text use a fixed char[N] "
                "member or Array<char>; for other values send them through a Queue or a Pipe");
  static_assert(!std::is_const_v<T> && !std::is_volatile_v<T>,
                "multiproc: Array<T> needs an unqualified T (drop const or volatile)");
  static_assert(alignof(T) <= 4096, "multiproc: Array<T>: T is aligned beyond a page");

 public:
  // `n` value-initialised elements (zeros for arithmetic types).
  explicit Array(std::size_t n, detail::LockChoice lock = {}) requires std::default_initializable<T>
      : Array(create(n), std::move(lock).resolve()) {
    std::uninitialized_value_construct_n(data(), size());
  }

  // The elements of `values`, in order.
  Array(std::initializer_list<T> values, detail::LockChoice lock = {})
      : Array(create(values.size()), std::move(lock).resolve()) {
    std::uninitialized_copy(values.begin(), values.end(), data());
  }

  template <std::ranges::sized_range R>
  requires(!std::same_as<std::remove_cvref_t<R>, Array> &&
           std::convertible_to<std::ranges::range_reference_t<R>,
                               T>) explicit Array(R&& values, detail::LockChoice lock = {})
      : Array(create(std::ranges::size(values)), std::move(lock).resolve()) {
    T* out = data();
    for (auto&& v : values) ::new (static_cast<void*>(out++)) T(v);
  }

  std::size_t size() const noexcept { return static_cast<std::size_t>(handle_.count()); }
  T* data() const { return static_cast<T*>(handle_.checked("Array::data")); }
  std::span<T> span() const { return {data(), size()}; }
  T* begin() const { return data(); }
  T* end() const { return data() + size(); }
  // Unchecked, as std::vector's; at() checks the bound.
  T& operator[](std::size_t i) const { return data()[i]; }
  T& at(std::size_t i) const {
    if (i >= size()) throw UsageError("Array::at: index out of range");
    return data()[i];
  }

  // The lock. Throws UsageError for an Array made with no_lock.
  AnyLock& get_lock() const {
    if (!lock_) throw UsageError("Array::get_lock: this Array was made with no_lock");
    return *lock_;
  }
  bool has_lock() const noexcept { return lock_.has_value(); }

  // The array's memfd (its lock has its own: get_lock().fd()); from_fd
  // rebuilds a handle (duplicating `fd`), guarded by `lock` if given.
  // UsageError if `fd` is not an Array of elements of T's size and alignment.
  int fd() const { return handle_.fd("Array::fd"); }
  static Array from_fd(int fd, std::optional<AnyLock> lock = std::nullopt) {
    return Array(detail::SharedHandle::adopt(fd, detail::SharedKind::array, layout(0), "Array"),
                 std::move(lock));
  }
  void multiproc_descriptors(std::vector<int>& out) const {
    handle_.descriptors(out);
    if (lock_) lock_->multiproc_descriptors(out);
  }
  // Crossing into a spawned or forkserver child as descriptors (detail/wire.hpp).
  void multiproc_export(detail::WireWriter& w) const { detail::export_with_lock(w, fd(), lock_); }
  static Array multiproc_import(detail::WireReader& r) {
    int fd = r.fd();
    return from_fd(fd, detail::import_lock(r));
  }

 private:
  static constexpr detail::SharedLayout layout(std::size_t n) { return {sizeof(T), n, alignof(T)}; }
  static detail::SharedHandle create(std::size_t n) {
    return detail::SharedHandle::create(detail::SharedKind::array, layout(n), "Array");
  }

  Array(detail::SharedHandle handle, std::optional<AnyLock> lock) noexcept
      : handle_(std::move(handle)), lock_(std::move(lock)) {}

  detail::SharedHandle handle_;
  mutable std::optional<AnyLock> lock_;
};

}  // namespace multiproc
