#include "multiproc/exit_status.hpp"

#include <signal.h>
#include <string.h>

#include "multiproc/exception_info.hpp"

namespace multiproc {

std::string signal_name(int signo) {
  if (signo >= SIGRTMIN && signo <= SIGRTMAX) {
    return signo == SIGRTMIN ? "SIGRTMIN" : "SIGRTMIN+" + std::to_string(signo - SIGRTMIN);
  }
  const char* abbrev = sigabbrev_np(signo);
  return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(signo);
}

std::string ExitStatus::describe() const {
  if (exited()) return "exited with code " + std::to_string(value);
  std::string s = "killed by signal " + std::to_string(value) + " (" + signal_name(value) + ")";
  if (oom_killed) s += " by the kernel's out-of-memory killer";
  return core_dumped ? s + ", core dumped" : s;
}

std::string ExceptionInfo::describe() const {
  std::string s = type + " in pid " + std::to_string(pid);
  return message.empty() ? s : s + ": " + message;
}

}  // namespace multiproc
