// multiproc/serialization.hpp — how values cross process boundaries.
//
// Three paths, chosen at compile time:
//   1. Trivially copyable types (int, double, POD structs, std::array of them)
//      without a member serialize function: their bytes, copied once.
//   2. Contiguous ranges of trivially copyable elements (std::string,
//      std::vector<T>, std::basic_string<T>): the elements' bytes.
//   3. Everything else: cereal's binary archive — standard containers,
//      strings, tuples, optionals, variants, and your own types with the
//      usual `template <class A> void serialize(A& ar) { ar(x, y); }`.
//
//   struct Point { double x, y; };             // path 1
//   struct Job { std::string name; std::vector<int> ids;
//                template <class A> void serialize(A& ar) { ar(name, ids); } };  // path 3
//
// A type that none of the paths can carry is a compile-time error that says
// so. Pointers are refused: an address means nothing in another process.
//
// Every message also carries a 32-bit tag of its C++ type, so receiving it
// as another type is a clear DecodeError instead of garbage.
//
// Thread safety: the functions are pure; Encoded<T> is not shared.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <array>
#include <bit>
#include <cereal/types/array.hpp>
#include <cereal/types/deque.hpp>
#include <cereal/types/list.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/set.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/unordered_map.hpp>
#include <cereal/types/unordered_set.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "multiproc/detail/archive.hpp"
#include "multiproc/detail/type_tag.hpp"
#include "multiproc/detail/wire.hpp"
#include "multiproc/error.hpp"
#include "multiproc/exception_info.hpp"

namespace multiproc {

namespace detail {

// A class with a member serialize (or save/load) gets it used even when it is
// trivially copyable: its author wants control of the format (validation in
// load, say). Free-function serialization, as cereal has for std::array, does
// not change the byte-copy path.
template <class T>
concept HasOwnSerialization = cereal::traits::has_member_serialize<T, OutArchive>::value ||
    cereal::traits::has_member_save<T, OutArchive>::value ||
    cereal::traits::has_member_versioned_serialize<T, OutArchive>::value ||
    cereal::traits::has_member_versioned_save<T, OutArchive>::value;

// Trivially copyable types that are really pointers to memory elsewhere: their
// bytes would mean nothing in another process.
template <class T>
struct RefersElsewhere : std::false_type {};
template <class T>
struct RefersElsewhere<std::reference_wrapper<T>> : std::true_type {};
template <class C, class Tr>
struct RefersElsewhere<std::basic_string_view<C, Tr>> : std::true_type {};
template <class E, std::size_t N>
struct RefersElsewhere<std::span<E, N>> : std::true_type {};

template <class T>
concept TriviallySerializable =
    std::is_trivially_copyable_v<T> && !std::is_pointer_v<T> && !std::is_member_pointer_v<T> &&
    !RefersElsewhere<T>::value && !HasOwnSerialization<T>;

template <class T>
struct ContiguousOfTrivial : std::false_type {};
template <class C, class Tr, class A>
struct ContiguousOfTrivial<std::basic_string<C, Tr, A>>
    : std::bool_constant<TriviallySerializable<C>> {};
template <class E, class A>
struct ContiguousOfTrivial<std::vector<E, A>>
    : std::bool_constant<TriviallySerializable<E> && !std::is_same_v<E, bool>> {};

template <class T>
concept CerealSerializable = cereal::traits::is_output_serializable<T, OutArchive>::value &&
    cereal::traits::is_input_serializable<T, InArchive>::value;

}  // namespace detail

// Whether T can cross a process boundary.
template <class T>
concept Serializable = !std::is_pointer_v<T> && !detail::RefersElsewhere<T>::value &&
                       (detail::TriviallySerializable<T> || detail::ContiguousOfTrivial<T>::value ||
                        detail::CerealSerializable<T>);

// The encoded bytes of a value. For paths 1 and 2 it only points at the
// value's own bytes (keep the value alive); for path 3 it owns a buffer.
template <class T>
class Encoded {
  static_assert(!std::is_pointer_v<T>,
                "multiproc: a pointer cannot be sent to another process (the address means "
                "nothing there); send the value it points to");
  static_assert(Serializable<T>,
                "multiproc: this type cannot be sent to another process. Make it trivially "
                "copyable, or give it a cereal serialize function: "
                "template <class Archive> void serialize(Archive& ar) { ar(member1, member2); }");

 public:
  explicit Encoded(const T& value) {
    if constexpr (detail::TriviallySerializable<T>) {
      bytes_ = std::as_bytes(std::span<const T, 1>(&value, 1));
    } else if constexpr (detail::ContiguousOfTrivial<T>::value) {
      bytes_ = std::as_bytes(std::span(value.data(), value.size()));
    } else {
      detail::OutArchive archive(buffer_);
      archive(value);
      bytes_ = std::as_bytes(std::span(buffer_.data(), buffer_.size()));
    }
  }
  Encoded(const Encoded&) = delete;
  Encoded& operator=(const Encoded&) = delete;

  std::span<const std::byte> bytes() const noexcept { return bytes_; }
  static constexpr std::uint32_t tag() { return detail::type_tag_v<T>; }

 private:
  std::string buffer_;
  std::span<const std::byte> bytes_;
};

// Rebuilds a T from the bytes Encoded<T> produced. Throws DecodeError.
template <class T>
T decode(std::span<const std::byte> bytes) {
  static_assert(Serializable<T>, "multiproc: this type cannot be received from another process");
  if constexpr (detail::TriviallySerializable<T>) {
    if (bytes.size() != sizeof(T)) {
      throw DecodeError("multiproc: message of " + std::to_string(bytes.size()) +
                        " bytes cannot hold a value of " + std::to_string(sizeof(T)) + " bytes");
    }
    T value;
    std::memcpy(static_cast<void*>(&value), bytes.data(), sizeof(T));
    return value;
  } else if constexpr (detail::ContiguousOfTrivial<T>::value) {
    return detail::decode_contiguous<T>(bytes);
  } else {
    try {
      detail::InArchive archive(bytes);
      T value{};
      archive(value);
      if (archive.remaining() != 0) {
        throw DecodeError("multiproc: message has " + std::to_string(archive.remaining()) +
                          " bytes left over after decoding: sent as another type?");
      }
      return value;
    } catch (const cereal::Exception& e) {
      throw DecodeError(std::string("multiproc: cannot decode message: ") + e.what());
    }
  }
}

namespace detail {

// Whether a value of T can be an argument of a task sent to another process:
// a shared object (descriptors) or a serializable value.
template <class T>
concept Sendable = Transferable<T> || Serializable<T>;

// The put_value / get_value of detail/wire.hpp for every other sendable
// type: the type tag, then the encoded bytes.
template <class T>
requires(Sendable<T> && !LightSendable<T>) void put_value(WireWriter& w, const T& value) {
  if constexpr (TriviallySerializable<T>) {
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
requires(Sendable<T> && !LightSendable<T>) T get_value(WireReader& r) {
  check_tag<T>(r.u32());
  if constexpr (TriviallySerializable<T>) {
    std::array<std::byte, sizeof(T)> raw;
    r.raw(raw.data(), raw.size());
    return std::bit_cast<T>(raw);
  } else {
    return decode<T>(r.bytes());
  }
}

// How a Process argument of a type that wire.hpp does not encode itself
// crosses (declared there; see detail/process_target.hpp).
template <class T>
struct SerializedArg {
  static constexpr bool sendable = Sendable<T>;
  static void put(WireWriter& w, const T& value) requires Sendable<T> { put_value(w, value); }
  static T get(WireReader& r) requires Sendable<T> { return get_value<T>(r); }
};

}  // namespace detail

}  // namespace multiproc

// ExceptionInfo travels as type name + message + origin PID.
namespace cereal {
template <class Archive>
void serialize(Archive& ar, multiproc::ExceptionInfo& e) {
  ar(e.type, e.message, e.pid);
}
}  // namespace cereal
