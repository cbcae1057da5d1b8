#include "sys/signal_dispositions.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace multiproc::sys {
namespace {

// The kernel's struct sigaction, for the two signals glibc will not touch.
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  std::uint64_t mask;
};

}  // namespace

void reset_signal_dispositions() noexcept {
  // 62 sigaction calls (~13 us here). Reading SigCgt/SigIgn from
  // /proc/self/status to skip default ones costs as much, so the loop stays.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sigaction(sig, &dfl, nullptr);
  }
  // glibc's own handlers on 32 and 33 stay (they end at execve anyway); an
  // ignored disposition, which execve keeps, is reset with the raw call.
  for (int sig = 32; sig <= 33; ++sig) {
    KernelSigaction old{};
    if (syscall(SYS_rt_sigaction, sig, nullptr, &old, sizeof old.mask) == 0 &&
        old.handler == SIG_IGN) {
      KernelSigaction def{};
      def.handler = SIG_DFL;
      syscall(SYS_rt_sigaction, sig, &def, nullptr, sizeof def.mask);
    }
  }
}

}  // namespace multiproc::sys
