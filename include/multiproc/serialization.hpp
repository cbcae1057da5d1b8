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

// FNV-1a over the compiler's spelling of T: the same in every process built
// from the same source, different for different types.
template <class T>
constexpr std::uint32_t type_tag() {
  std::string_view name = __PRETTY_FUNCTION__;
  std::uint32_t h = 2166136261u;
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  return h == 0 ? 1 : h;  // 0 is reserved for raw bytes
}

// The tag as a constant: computed once by the compiler, never at run time
// (the hash walks a long string).
template <class T>
inline constexpr std::uint32_t type_tag_v = type_tag<T>();

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

// Checks the type tag of a received message against T.
template <class T>
void check_tag(std::uint32_t tag) {
  if (tag != detail::type_tag_v<T>) {
    throw DecodeError(tag == 0 ? "multiproc: received raw bytes where a typed value was expected "
                                 "(sent with send_bytes?)"
                               : "multiproc: received a value of another type than the one "
                                 "asked for");
  }
}

}  // namespace multiproc

// ExceptionInfo travels as type name + message + origin PID.
namespace cereal {
template <class Archive>
void serialize(Archive& ar, multiproc::ExceptionInfo& e) {
  ar(e.type, e.message, e.pid);
}
}  // namespace cereal
