// Internal: a CodeRef on the wire. Every message that names a function
// (a process target's decoder and callable, a pool worker's runner and
// callable) writes and reads it through these two functions, so its format
// (today: str object, u64 offset) changes in one place.
#pragma once

#include "multiproc/detail/code_ref.hpp"
#include "multiproc/detail/wire.hpp"

namespace multiproc::detail {

inline void put_code_ref(WireWriter& out, const CodeRef& ref) {
  out.str(ref.object);
  out.u64(ref.offset);
}

// Throws DecodeError on a truncated reference.
inline CodeRef get_code_ref(WireReader& in) {
  CodeRef ref;
  ref.object = in.str();
  ref.offset = in.u64();
  return ref;
}

}  // namespace multiproc::detail
