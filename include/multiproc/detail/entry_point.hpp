// Internal: the functions a message from another process may name as the
// code to run first — the decoders and runners that the library instantiates
// for a task's types (its "trampolines").
//
// Each one registers its address at program start-up (or when the shared
// library holding it is loaded), through the dynamic initialisation of
// EntryPoint<Fn>::registered. Naming it in a message (entry_ref) is what
// instantiates that initialiser in the program; the receiving process runs
// the same program, so it registers the same entries before main. A child
// resolves a trampoline only if the address is registered (resolve_entry):
// no byte sequence can make it jump to any other code (RELIABILITY 27).
#pragma once

#include "multiproc/detail/code_ref.hpp"

namespace multiproc::detail {

// Records `address` as an entry point. Lock-free, so a forked child of a
// threaded process can consult the table.
bool register_entry(const void* address) noexcept;
bool is_registered_entry(const void* address) noexcept;
[[noreturn]] void throw_entry_table_full();
// The address `ref` names (resolve_code), if it is a registered entry point;
// DecodeError otherwise.
const void* resolve_entry_address(const CodeRef& ref);

template <auto Fn>
struct EntryPoint {
  static inline const bool registered = register_entry(reinterpret_cast<const void*>(Fn));
};

// Trampoline `Fn`, registered. Throws UsageError if the table of entries is
// full (more than 16,384 distinct task signatures).
template <auto Fn>
auto registered_entry() {
  if (!EntryPoint<Fn>::registered) throw_entry_table_full();
  return Fn;
}

// The code reference of trampoline `Fn`, for a message.
template <auto Fn>
CodeRef entry_ref() {
  return code_ref(reinterpret_cast<const void*>(registered_entry<Fn>()));
}

// The trampoline `ref` names, of type Fn*; DecodeError unless it is a
// registered entry point.
template <class Fn>
Fn* resolve_entry(const CodeRef& ref) {
  return reinterpret_cast<Fn*>(const_cast<void*>(resolve_entry_address(ref)));
}

}  // namespace multiproc::detail
