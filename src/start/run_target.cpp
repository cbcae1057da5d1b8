#include "start/run_target.hpp"

#include <cxxabi.h>
#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <string>
#include <typeinfo>

#include "multiproc/exception_info.hpp"
#include "sys/syscall.hpp"

namespace multiproc::detail {
namespace {

void report_uncaught(const char* name, const ExceptionSink& sink, const std::string& type,
                     const char* message) {
  sink.record(sink.context, type, message);
  // One write, so that lines of concurrent children do not interleave.
  std::string line = "multiproc: uncaught exception in " + std::string(name) + " (pid " +
                     std::to_string(::getpid()) + "): " + type;
  if (*message != '\0') line += ": " + std::string(message);
  line += '\n';
  sys::write_all(STDERR_FILENO, line.data(), line.size());
}

}  // namespace

CurrentException describe_current_exception() {
  try {
    throw;
  } catch (const std::exception& e) {
    return {type_name(typeid(e)), e.what()};
  } catch (...) {
    const std::type_info* t = abi::__cxa_current_exception_type();
    return {t != nullptr ? type_name(*t) : "unknown exception", ""};
  }
}

int report_current_exception(const char* process_name, const ExceptionSink& sink) noexcept {
  try {
    CurrentException e = describe_current_exception();
    report_uncaught(process_name, sink, e.type, e.message.c_str());
  } catch (...) {
    // Out of memory while reporting: the exit code still tells.
  }
  return 1;
}

int run_target(ProcessTarget& target, const char* process_name,
               const ExceptionSink& sink) noexcept {
  try {
    return target.run();
  } catch (...) {
    return report_current_exception(process_name, sink);
  }
}

}  // namespace multiproc::detail
