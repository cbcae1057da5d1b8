// Internal: naming a function so that another process running the same
// program can find it.
//
// An address means nothing across exec (ASLR moves every object), so a
// function is named by the object file that holds it (its path as the
// dynamic linker knows it; "" for the main program) and its offset from that
// object's load address (found with dladdr). The receiver looks the object
// up among its own loaded objects (dl_iterate_phdr), loads it if it is a
// shared library not loaded yet that its parent process has mapped (so a
// message cannot make it load any other file), and checks that the address
// falls inside one of its executable segments before anything calls it.
// Trampolines are further checked against the registered entry points
// (entry_point.hpp).
//
// The user's function is not a registered entry (any function may be
// passed at run time), so its reference travels with a tag: HMAC-SHA256,
// under a key that only this program's process tree holds (program_key.hpp),
// of the trampoline's reference and the function's. A message not written by
// a process of the tree cannot name a function, and a tag cannot be moved to
// another trampoline, that is, to another signature (RELIABILITY 27,
// docs/reliability.md says exactly what this does and does not cover).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "multiproc/detail/wire_fwd.hpp"

namespace multiproc::detail {

struct CodeRef {
  std::string object;
  std::uint64_t offset = 0;
};

// Throws UsageError when `address` is in no loaded object (a JIT buffer, say).
CodeRef code_ref(const void* address);
// The address `ref` names in this process. Throws DecodeError when the object
// is not found or the offset is not inside its executable code.
const void* resolve_code(const CodeRef& ref);

// On the wire: the object's path, then the offset.
void write_code_ref(WireWriter& out, const CodeRef& ref);
CodeRef read_code_ref(WireReader& in);

// A function that `entry` (a trampoline) will call: its reference, then its
// tag. read_function_ref throws DecodeError when the tag is not the one this
// program's key gives for that trampoline and that function.
void write_function_ref(WireWriter& out, const CodeRef& entry, const CodeRef& fn);
CodeRef read_function_ref(WireReader& in, const CodeRef& entry);

template <class Fn>
CodeRef code_ref_of(Fn* fn) {
  return code_ref(reinterpret_cast<const void*>(fn));
}

template <class Fn>
Fn* resolve_function(const CodeRef& ref) {
  return reinterpret_cast<Fn*>(const_cast<void*>(resolve_code(ref)));
}

}  // namespace multiproc::detail
