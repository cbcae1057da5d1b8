#include "start/child_signals.hpp"

#include <unistd.h>

namespace multiproc::detail {
namespace {

// SIGTERM with the parent deciding: a signal from the parent (terminate(),
// the pool's stop) or from the child itself (raise, abort paths) ends the
// child as SIGTERM always did; one from anyone else (a shell or systemd
// signalling the whole group) is dropped, and the parent, which got the
// same signal, decides. Async-signal-safe: getppid, getpid, sigaction, raise.
void on_sigterm(int signo, siginfo_t* info, void*) {
  pid_t from = info->si_pid;
  if (from != ::getppid() && from != ::getpid()) return;
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(signo, &dfl, nullptr);
  // Blocked while this handler runs: pending now, it acts with the default
  // disposition (death by SIGTERM) as soon as the handler returns.
  ::raise(signo);
}

}  // namespace

void apply_child_signals(const ChildSignals& policy) noexcept {
  if (policy.ignore_sigint || policy.parent_decides) ::signal(SIGINT, SIG_IGN);
  if (!policy.parent_decides) return;
  ::signal(SIGHUP, SIG_IGN);
  struct sigaction term {};
  term.sa_sigaction = on_sigterm;
  term.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&term.sa_mask);
  ::sigaction(SIGTERM, &term, nullptr);
}

void add_policy_signals(const ChildSignals& policy, sigset_t* set) noexcept {
  if (policy.ignore_sigint || policy.parent_decides) sigaddset(set, SIGINT);
  if (!policy.parent_decides) return;
  sigaddset(set, SIGHUP);
  sigaddset(set, SIGTERM);
}

}  // namespace multiproc::detail
