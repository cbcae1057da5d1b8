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
//   * Serializable types (serialization.hpp): type tag + encoded bytes;
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
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "multiproc/error.hpp"
#include "multiproc/serialization.hpp"

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

// Whether a value of T can be an argument of a task sent to another process.
template <class T>
concept Sendable = Transferable<T> || Serializable<T>;

template <class T>
requires Sendable<T>
void put_value(WireWriter& w, const T& value) {
  if constexpr (Transferable<T>) {
    value.multiproc_export(w);
  } else if constexpr (TriviallySerializable<T>) {
    // Fixed size: the tag and the bytes, no length.
    w.u32(type_tag_v<T>);
    w.raw(&value, sizeof value);
  } else {
    Encoded<T> e(value);
    w.u32(e.tag());
    w.bytes(e.bytes());
  }
}

template <class T>
requires Sendable<T> T get_value(WireReader& r) {
  if constexpr (Transferable<T>) {
    return T::multiproc_import(r);
  } else if constexpr (TriviallySerializable<T>) {
    check_tag<T>(r.u32());
    std::array<std::byte, sizeof(T)> raw;
    r.raw(raw.data(), raw.size());
    return std::bit_cast<T>(raw);
  } else {
    check_tag<T>(r.u32());
    return decode<T>(r.bytes());
  }
}

// A duplicate of a received descriptor, for importers that take ownership.
inline int dup_received(int fd) {
  int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) throw SystemError("duplicating a received descriptor", errno);
  return copy;
}

}  // namespace multiproc::detail
