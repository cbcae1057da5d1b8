// multiproc/exception_info.hpp — an exception that escaped in another process.
//
// A child's uncaught exception reaches the parent as its demangled type name,
// its what() text and the PID it was thrown in:
//
//   p.join();
//   if (auto& e = p.exception()) std::cerr << e->describe() << '\n';
//   // "std::runtime_error in pid 4242: disk full"
//
// A plain value type: thread-safe to copy and read.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <sys/types.h>

#include <string>
#include <typeinfo>

namespace multiproc {

namespace detail {
// The demangled name of `type`, as ExceptionInfo::type spells it.
std::string type_name(const std::type_info& type);
}  // namespace detail

struct ExceptionInfo {
  std::string type;     // demangled type name, e.g. "std::runtime_error"
  std::string message;  // what(), or empty for a non-std::exception
  pid_t pid = 0;        // the process the exception was thrown in

  std::string describe() const;
  // Whether the exception was of type T exactly (by its demangled name; a
  // type derived from T is not T). Needs no registration.
  template <class T>
  bool is() const {
    return type == detail::type_name(typeid(T));
  }
  friend bool operator==(const ExceptionInfo&, const ExceptionInfo&) = default;
};

}  // namespace multiproc
