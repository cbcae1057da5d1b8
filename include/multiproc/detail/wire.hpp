// Internal: the byte and descriptor stream a task crosses into a child with
// (spawn, forkserver, and pool workers).
//
// WireWriter appends fixed-width integers, length-prefixed byte strings and
// descriptors; a descriptor is written as its index in the list that travels
// beside the bytes (SCM_RIGHTS, or inherited at fixed numbers). WireReader
// reads them back and never trusts the bytes: every length is checked against
// what is left, every descriptor index against the list, and a violation is a
// DecodeError.
//
// Values cross in one of two ways:
//   * Serializable types (serialization.hpp): type tag + encoded bytes.
//     Numbers, enums, strings and vectors of numbers are encoded here,
//     without cereal (LightValue), so that a Process with such arguments
//     needs no more than process.hpp; every other type goes through
//     serialization.hpp, which adds its put_value / get_value overloads and
//     SerializedArg;
//   * shared objects (Queue, Connection, Lock, Event, Value, SharedMemory,
//     ...): their descriptors, through the member pair
//       void multiproc_export(detail::WireWriter&) const;
//       static T multiproc_import(detail::WireReader&);
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <cerrno>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "multiproc/detail/type_tag.hpp"
#include "multiproc/error.hpp"

namespace multiproc::detail {

class WireWriter {
 public:
  void u32(std::uint32_t v) { raw(&v, sizeof v); }
  void u64(std::uint64_t v) { raw(&v, sizeof v); }
  void bytes(std::span<const std::byte> b) {
    u64(b.size());
    raw(b.data(), b.size());
  }
  void str(std::string_view s) { bytes(std::as_bytes(std::span(s.data(), s.size()))); }
  // Records `fd` (borrowed: the caller keeps it open until the bytes are sent).
  void fd(int fd) {
    u32(static_cast<std::uint32_t>(fds_.size()));
    fds_.push_back(fd);
  }
  void raw(const void* p, std::size_t n) {
    if (n != 0) data_.append(static_cast<const char*>(p), n);
  }

  std::string& data() noexcept { return data_; }
  void reserve(std::size_t bytes) { data_.reserve(bytes); }
  const std::vector<int>& fds() const noexcept { return fds_; }

 private:
  std::string data_;
  std::vector<int> fds_;
};

class WireReader {
 public:
  // `fds` are borrowed: importers duplicate what they keep.
  WireReader(std::span<const std::byte> in, std::span<const int> fds) noexcept
      : in_(in), fds_(fds) {}

  std::uint32_t u32() { return fixed<std::uint32_t>(); }
  std::uint64_t u64() { return fixed<std::uint64_t>(); }
  std::span<const std::byte> bytes() {
    std::uint64_t n = u64();
    if (n > remaining()) fail("a length of " + std::to_string(n) + " bytes");
    auto out = in_.subspan(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return out;
  }
  std::string str() {
    auto b = bytes();
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
  }
  int fd() {
    std::uint32_t i = u32();
    if (i >= fds_.size()) fail("descriptor index " + std::to_string(i));
    return fds_[i];
  }
  void raw(void* p, std::size_t n) {
    if (n > remaining()) fail("a field of " + std::to_string(n) + " bytes");
    if (n != 0) std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
  }
  std::size_t remaining() const noexcept { return in_.size() - pos_; }
  std::span<const std::byte> rest() const noexcept { return in_.subspan(pos_); }

 private:
  template <class T>
  T fixed() {
    T v;
    raw(&v, sizeof v);
    return v;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw DecodeError("multiproc: corrupt task message: " + what + " at offset " +
                      std::to_string(pos_) + " of " + std::to_string(in_.size()) + " (with " +
                      std::to_string(fds_.size()) + " descriptors)");
  }

  std::span<const std::byte> in_;
  std::span<const int> fds_;
  std::size_t pos_ = 0;
};

// A shared object that crosses as descriptors.
template <class T>
concept Transferable = requires(const T& t, WireWriter& w, WireReader& r) {
  t.multiproc_export(w);
  { T::multiproc_import(r) } -> std::same_as<T>;
};

// A number or an enum: its bytes (serialization.hpp's path 1).
template <class T>
concept Scalar = std::is_arithmetic_v<T> || std::is_enum_v<T>;

template <class T>
struct ContiguousOfScalar : std::false_type {};
template <class C, class Tr, class A>
struct ContiguousOfScalar<std::basic_string<C, Tr, A>> : std::bool_constant<Scalar<C>> {};
template <class E, class A>
struct ContiguousOfScalar<std::vector<E, A>>
    : std::bool_constant<Scalar<E> && !std::is_same_v<E, bool>> {};

// The values this header encodes itself, with the same bytes as
// serialization.hpp would (type tag, then the value's own bytes).
template <class T>
concept LightValue = Scalar<T> || ContiguousOfScalar<T>::value;

// Sent as they are, with no cereal: shared objects and light values.
template <class T>
concept LightSendable = Transferable<T> || LightValue<T>;

// Known here never to cross: an address or a view of memory in this process.
template <class T>
struct ViewOfMemory : std::false_type {};
template <class T>
struct ViewOfMemory<std::reference_wrapper<T>> : std::true_type {};
template <class C, class Tr>
struct ViewOfMemory<std::basic_string_view<C, Tr>> : std::true_type {};
template <class E, std::size_t N>
struct ViewOfMemory<std::span<E, N>> : std::true_type {};
template <class T>
concept NeverSendable = std::is_pointer_v<T> || std::is_member_pointer_v<T> ||
    std::is_reference_v<T> || ViewOfMemory<T>::value;

// How a value of any other type crosses: defined by serialization.hpp, for
// every T, as { static constexpr bool sendable; put(w, v); get(r) }. Only
// declared here: a header that sends such a type includes serialization.hpp.
template <class T>
struct SerializedArg;

// Whether serialization.hpp was included (SerializedArg is complete).
template <class T>
concept SerializationVisible = requires {
  sizeof(SerializedArg<T>);
};

template <class T>
requires LightSendable<T>
void put_value(WireWriter& w, const T& value) {
  if constexpr (Transferable<T>) {
    value.multiproc_export(w);
  } else if constexpr (Scalar<T>) {
    // Fixed size: the tag and the bytes, no length.
    w.u32(type_tag_v<T>);
    w.raw(&value, sizeof value);
  } else {
    w.u32(type_tag_v<T>);
    w.bytes(std::as_bytes(std::span(value.data(), value.size())));
  }
}

// A string or vector of scalars from its elements' bytes. Throws DecodeError.
template <class T>
T decode_contiguous(std::span<const std::byte> bytes) {
  using E = typename T::value_type;
  if (bytes.size() % sizeof(E) != 0) {
    throw DecodeError("multiproc: message of " + std::to_string(bytes.size()) +
                      " bytes is not a whole number of " + std::to_string(sizeof(E)) +
                      "-byte elements");
  }
  auto* first = reinterpret_cast<const E*>(bytes.data());
  if (reinterpret_cast<std::uintptr_t>(first) % alignof(E) == 0) {
    return T(first, first + bytes.size() / sizeof(E));  // one copy, no zero-fill
  }
  T value;
  value.resize(bytes.size() / sizeof(E));
  if (!bytes.empty()) std::memcpy(static_cast<void*>(value.data()), bytes.data(), bytes.size());
  return value;
}

template <class T>
requires LightSendable<T> T get_value(WireReader& r) {
  if constexpr (Transferable<T>) {
    return T::multiproc_import(r);
  } else if constexpr (Scalar<T>) {
    check_tag<T>(r.u32());
    std::array<std::byte, sizeof(T)> raw;
    r.raw(raw.data(), raw.size());
    return std::bit_cast<T>(raw);
  } else {
    check_tag<T>(r.u32());
    return decode_contiguous<T>(r.bytes());
  }
}

// A duplicate of a received descriptor, for importers that take ownership.
inline int dup_received(int fd) {
  int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) throw SystemError("duplicating a received descriptor", errno);
  return copy;
}

}  // namespace multiproc::detail
