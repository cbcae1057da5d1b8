// How a child ended, from the siginfo_t that waitid(WEXITED) filled in:
// CLD_EXITED gives the exit code, CLD_KILLED and CLD_DUMPED the signal (and
// whether it dumped core). The one place that reads si_code and si_status.
// Pure, async-signal-safe.
#pragma once

#include <signal.h>

#include "multiproc/exit_status.hpp"

namespace multiproc::sys {

inline ExitStatus exit_status_from(const siginfo_t& info) noexcept {
  if (info.si_code == CLD_EXITED) return ExitStatus::exited_with(info.si_status);
  return ExitStatus::killed_by(info.si_status, info.si_code == CLD_DUMPED);
}

}  // namespace multiproc::sys
