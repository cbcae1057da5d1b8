// init(): the parent's bookkeeping, and the whole life of a spawned child.
#include "multiproc/init.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "multiproc/error.hpp"
#include "start/child_task.hpp"
#include "start/forkserver.hpp"
#include "start/identity.hpp"
#include "start/program_args.hpp"
#include "start/program_key.hpp"
#include "start/spawn.hpp"
#include "start/task_message.hpp"
#include "start/unix_socket.hpp"
#include "sys/syscall.hpp"

namespace multiproc {
namespace {

std::atomic<bool> g_initialized{false};

struct SpawnVariable {
  pid_t parent = 0;
  int death_signal = 0;
  int descriptors = 0;
  int signals = 0;  // encode_spawn_signals; the key follows (program_key.hpp)
};

[[noreturn]] void fail_spawned(const std::string& why) {
  std::string line =
      "multiproc: spawned child (pid " + std::to_string(::getpid()) + "): " + why + "\n";
  sys::write_all(STDERR_FILENO, line.data(), line.size());
  std::_Exit(70);
}

SpawnVariable parse_spawn_variable(const char* value) {
  SpawnVariable v;
  int version = 0;
  int used = 0;
  if (std::sscanf(value, "%d,%d,%d,%d,%d%n", &version, &v.parent, &v.death_signal, &v.descriptors,
                  &v.signals, &used) != 5 ||
      v.signals < 0 || v.signals > 3 || value[used] != ',' ||
      !detail::adopt_program_key(value + used + 1) || version != 1 || v.parent <= 0 ||
      v.death_signal < 0 || v.death_signal >= NSIG || v.descriptors < 0 || v.descriptors > 1024) {
    // Not the value itself: it holds the program's key.
    fail_spawned(std::string("malformed ") + detail::kSpawnEnv + " variable");
  }
  return v;
}

// The parent may have died before the death signal was armed; then only the
// changed parent PID tells.
void watch_parent(const SpawnVariable& v) {
  if (v.death_signal == 0) return;
  prctl(PR_SET_PDEATHSIG, v.death_signal);
  if (::getppid() != v.parent) {
    ::kill(::getpid(), v.death_signal);
    std::_Exit(128 + v.death_signal);
  }
}

std::string read_task(int channel) {
  std::uint64_t size = 0;
  if (detail::recv_exact(channel, &size, sizeof size) != 0) {
    fail_spawned("the parent closed the channel before sending the task");
  }
  if (size > (std::uint64_t{1} << 36)) fail_spawned("task of " + std::to_string(size) + " bytes");
  std::string bytes(size, '\0');
  if (detail::recv_exact(channel, bytes.data(), bytes.size()) != 0) {
    fail_spawned("the task arrived truncated");
  }
  return bytes;
}

[[noreturn]] void run_spawned_child(const char* value, int argc, char** argv) {
  SpawnVariable v = parse_spawn_variable(value);
  ::unsetenv(detail::kSpawnEnv);  // the child's own children must not see it
  // Started with the signals of its policy blocked: apply it, then let them in.
  detail::ChildSignals policy = detail::decode_spawn_signals(v.signals);
  detail::apply_child_signals(policy);
  sigset_t guarded;
  sigemptyset(&guarded);
  detail::add_policy_signals(policy, &guarded);
  pthread_sigmask(SIG_UNBLOCK, &guarded, nullptr);
  watch_parent(v);
  detail::save_program_args(argc, argv);
  g_initialized.store(true);

  const int channel = detail::kSpawnChannelFd;
  std::vector<int> fds;
  for (int i = 0; i < v.descriptors; ++i) fds.push_back(channel + 1 + i);
  std::string bytes = read_task(channel);
  int code;
  try {
    detail::TaskMessage m =
        detail::parse_task_message(std::as_bytes(std::span(bytes.data(), bytes.size())));
    if (m.descriptor_count != fds.size()) {
      throw DecodeError("multiproc: the task announces " + std::to_string(m.descriptor_count) +
                        " descriptors, " + std::to_string(fds.size()) + " were inherited");
    }
    detail::install_identity(m.identity);
    code = detail::run_task(m, fds, channel);
  } catch (...) {
    code = detail::report_failure_on_channel("spawned child", channel);
  }
  // A spawned child is a program of its own: it exits normally (atexit
  // handlers and static destructors run, its own children are ended).
  std::exit(code & 0xff);
}

}  // namespace

void init(int argc, char** argv, const InitOptions& options) {
  if (const char* value = std::getenv(detail::kSpawnEnv)) run_spawned_child(value, argc, argv);
  if (g_initialized.exchange(true)) throw UsageError("multiproc::init: called more than once");
  detail::save_program_args(argc, argv);
  detail::set_forkserver_preload(options.forkserver_preload);
  if (options.forkserver) detail::start_forkserver(options.forkserver_preload);
}

bool initialized() noexcept {
  return g_initialized.load();
}

}  // namespace multiproc
