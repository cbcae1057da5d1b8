// Internal: the 32-bit tag of a C++ type that every typed message carries,
// so that receiving it as another type is a clear DecodeError instead of
// garbage. Light on purpose (no cereal): the task wire uses it too.
#pragma once

#include <cstdint>
#include <string_view>

#include "multiproc/error.hpp"

namespace multiproc {

namespace detail {

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
