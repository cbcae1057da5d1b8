// Runs a child's target and turns an exception escaping it into exit code 1,
// one line on stderr, and a record for the parent (through `sink`: the
// report page for fork, the task channel for spawn and forkserver).
#pragma once

#include <string>
#include <string_view>

#include "multiproc/detail/process_target.hpp"

namespace multiproc::detail {

struct ExceptionSink {
  void (*record)(void* context, std::string_view type, std::string_view message) = nullptr;
  void* context = nullptr;
};

// Returns the target's exit code, or 1 after an uncaught exception.
int run_target(ProcessTarget& target, const char* process_name, const ExceptionSink& sink) noexcept;

// The exception being handled: its demangled type name and what() (empty
// for one not derived from std::exception). Call inside a catch block.
struct CurrentException {
  std::string type;
  std::string message;
};
CurrentException describe_current_exception();

// Reports an exception thrown before the target could run (a task that does
// not decode, say) as if the target had thrown it. Returns 1.
int report_current_exception(const char* process_name, const ExceptionSink& sink) noexcept;

}  // namespace multiproc::detail
