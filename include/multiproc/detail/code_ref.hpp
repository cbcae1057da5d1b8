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
#pragma once

#include <cstdint>
#include <string>

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

template <class Fn>
CodeRef code_ref_of(Fn* fn) {
  return code_ref(reinterpret_cast<const void*>(fn));
}

template <class Fn>
Fn* resolve_function(const CodeRef& ref) {
  return reinterpret_cast<Fn*>(const_cast<void*>(resolve_code(ref)));
}

}  // namespace multiproc::detail
