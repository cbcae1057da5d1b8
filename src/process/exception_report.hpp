// A child's uncaught exception, carried to the parent through one anonymous
// shared page (a slot of a per-process slab) set up before the fork. The child writes it just
// before _exit; the parent reads it after reaping, so the exit orders the two. Not thread-safe; one
// writer (the child), then one reader (the parent).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "multiproc/exception_info.hpp"

namespace multiproc::detail {

class ExceptionReport {
 public:
  ExceptionReport();  // maps the page; throws SystemError
  ~ExceptionReport();
  ExceptionReport(const ExceptionReport&) = delete;
  ExceptionReport& operator=(const ExceptionReport&) = delete;

  // Child side. Truncates what does not fit; allocation-free.
  void record(std::string_view type, std::string_view message) noexcept;
  // Parent side, after the child ended.
  std::optional<ExceptionInfo> read(pid_t pid) const;

 private:
  struct Page;
  Page* page_;
  bool dedicated_ = false;  // its own mapping, not a slab slot
};

// Child side, right after fork (registered with sys/child_resets.hpp): the
// parent's slab is not this process's.
void forget_report_slab_after_fork() noexcept;

}  // namespace multiproc::detail
