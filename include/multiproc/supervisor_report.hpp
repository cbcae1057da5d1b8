// multiproc/supervisor_report.hpp — what Supervisor::run() returns: why the
// group stopped, and what happened to each child.
//
//   mp::SupervisorReport report = sup.run(bridge.token());
//   std::cout << report;                 // a readable summary, one line per exit
//   if (!report.ok()) ...                // intensity exceeded, a crash ended it
//   return report.exit_code();           // 0 for an orderly stop, 1 otherwise
//
// A plain value type: thread-safe to copy and read.
#pragma once

#include "multiproc/detail/config.hpp"  // first: the C++20 check

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "multiproc/exit_status.hpp"

namespace multiproc {

namespace detail {
class RunLoop;
}  // namespace detail

enum class StopReason {
  none,                      // run() has not ended yet
  stop_requested,            // the stop_token passed to run(), or request_stop()
  group_stop_requested,      // a child sent a GroupStop request
  significant_child_exited,  // AutoShutdown: a significant child ended for good
  intensity_exceeded,        // more than max_restarts restarts within period
  all_children_ended,        // every child ended and none will be restarted
};

// "stop requested", "group stop requested", ...
std::string_view to_string(StopReason reason) noexcept;

// One exit (or failed start) of one child, in the order they happened.
struct ChildExit {
  std::string child{};
  pid_t pid = 0;                       // 0 when the start failed before a fork
  std::optional<ExitStatus> status{};  // empty when the start failed
  std::string start_error{};           // why the start failed (errno text, exception)
  bool restarted = false;              // the supervisor started it again after this
  bool during_shutdown = false;        // it ended while the supervisor was stopping
  std::chrono::steady_clock::time_point at{};

  // "worker (pid 42): killed by signal 9 (SIGKILL), restarted".
  std::string describe() const;
};

struct ChildReport {
  std::string name{};
  int starts = 0;    // successful starts, the first included
  int restarts = 0;  // starts after the first (successful or not)
  pid_t last_pid = 0;
  std::optional<ExitStatus> last_status{};
  std::string last_start_error{};
};

struct SupervisorReport {
  StopReason reason = StopReason::none;
  // The child that caused the stop (group stop, significant exit, intensity);
  // for a group stop from a process that is not a supervised child:
  // "pid N".
  std::string child{};
  pid_t child_pid = 0;
  // A group stop's reason (the request's bytes).
  std::string message{};
  std::vector<ChildReport> children{};  // in start order
  std::vector<ChildExit> history{};     // every exit, in order

  // An orderly stop: stop requested, group stop, every child (or the
  // significant one) ended cleanly (exit 0 or SIGTERM). Not: intensity
  // exceeded, or the ending exit was a failure.
  bool ok() const noexcept { return ok_; }
  // The exit code a program may return: 0 when ok(), 1 otherwise.
  int exit_code() const noexcept { return ok_ ? 0 : 1; }
  // One line: "group stop requested by watcher (pid 42): the file appeared".
  std::string describe() const;
  const ChildReport* find(std::string_view name) const noexcept;

 private:
  friend class detail::RunLoop;  // decides ok()
  bool ok_ = false;
};

// describe(), then one line per child and per exit.
std::string to_string(const SupervisorReport& report);
std::ostream& operator<<(std::ostream& out, const SupervisorReport& report);

}  // namespace multiproc
