// SupervisorReport and ChildExit: their readable forms.
#include <sstream>

#include "multiproc/supervisor_report.hpp"

namespace multiproc {

std::string_view to_string(StopReason reason) noexcept {
  switch (reason) {
    case StopReason::none:
      return "running";
    case StopReason::stop_requested:
      return "stop requested";
    case StopReason::group_stop_requested:
      return "group stop requested";
    case StopReason::significant_child_exited:
      return "significant child exited";
    case StopReason::intensity_exceeded:
      return "restart intensity exceeded";
    case StopReason::all_children_ended:
      return "all children ended";
  }
  return "?";
}

std::string ChildExit::describe() const {
  std::string out = child;
  if (pid != 0) out += " (pid " + std::to_string(pid) + ")";
  out += ": ";
  out += status ? status->describe() : "failed to start: " + start_error;
  if (restarted) out += ", restarted";
  if (during_shutdown) out += ", during shutdown";
  return out;
}

std::string SupervisorReport::describe() const {
  std::string out(to_string(reason));
  if (!child.empty()) {
    out += reason == StopReason::group_stop_requested ? " by " : ": ";
    out += child;
    if (child_pid != 0 && child.rfind("pid ", 0) != 0)
      out += " (pid " + std::to_string(child_pid) + ")";
  }
  if (!message.empty()) out += ": " + message;
  return out;
}

const ChildReport* SupervisorReport::find(std::string_view name) const noexcept {
  for (const auto& c : children)
    if (c.name == name) return &c;
  return nullptr;
}

std::string to_string(const SupervisorReport& report) {
  std::ostringstream out;
  out << "supervisor: " << report.describe() << (report.ok() ? " (ok)" : " (failed)") << '\n';
  for (const auto& c : report.children) {
    out << "  child " << c.name << ": " << c.starts << " start(s), " << c.restarts << " restart(s)";
    if (c.last_pid != 0) out << ", last pid " << c.last_pid;
    if (c.last_status) out << ", last " << c.last_status->describe();
    if (!c.last_start_error.empty()) out << ", last start error: " << c.last_start_error;
    out << '\n';
  }
  for (const auto& e : report.history) out << "  exit: " << e.describe() << '\n';
  return out.str();
}

std::ostream& operator<<(std::ostream& out, const SupervisorReport& report) {
  return out << to_string(report);
}

}  // namespace multiproc
