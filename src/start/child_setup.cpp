#include "start/child_setup.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

#include "contain/cgroup_dir.hpp"
#include "multiproc/detail/fd_check.hpp"
#include "signals/bridge_state.hpp"
#include "signals/kill_list.hpp"
#include "start/fork_launcher.hpp"
#include "start/forkserver.hpp"
#include "sys/child_resets.hpp"
#include "sys/signal_dispositions.hpp"
#include "sys/syscall.hpp"

namespace multiproc::detail {

void (*g_test_hook_before_death_signal)() = nullptr;

namespace {

[[noreturn]] void die_like_parent_death(int signo) noexcept {
  // The disposition is default again and every signal still blocked:
  // queue the death signal, then let it in.
  kill(getpid(), signo);
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, nullptr);
  _exit(128 + signo);  // a death signal whose default action is to ignore
}

}  // namespace

void run_child(const ChildSetup& setup) noexcept {
  // Before anything else, so that nothing the child starts is outside.
  if (setup.enter_cgroup >= 0 &&
      contain::write_cgroup_file(setup.enter_cgroup, "cgroup.procs", "0") != 0) {
    static constexpr char kWhy[] = "multiproc: a contained child could not enter its cgroup\n";
    (void)sys::write_all(STDERR_FILENO, kWhy, sizeof kWhy - 1);
    _exit(kContainmentFailedExit);
  }
  if (setup.own_group) {
    setpgid(0, 0);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
  }
  if (g_test_hook_before_death_signal != nullptr) g_test_hook_before_death_signal();
  if (setup.death_signal != 0) prctl(PR_SET_PDEATHSIG, setup.death_signal);
  sys::reset_signal_dispositions();
  apply_child_signals(setup.signals);
  sys::close_all_except(3, setup.keep_fds, setup.keep_count);
  // The parent may have died before PR_SET_PDEATHSIG took effect; then the
  // signal was never sent, and only the changed parent PID tells.
  if (setup.death_signal != 0 && getppid() != setup.parent_pid) {
    die_like_parent_death(setup.death_signal);
  }
  detail::bump_fork_generation();
  install_identity(*setup.identity);
  sys::run_child_resets();  // the child registry and the exception-report slab
  forget_launcher_after_fork();
  forget_forkserver_after_fork();
  forget_kill_list_after_fork();
  forget_signal_bridge_after_fork();

  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, nullptr);
  exit_child(setup.entry(setup.context));
}

}  // namespace multiproc::detail
