#include "start/forkserver.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "multiproc/error.hpp"
#include "multiproc/exit_status.hpp"
#include "process/child_setup.hpp"
#include "process/fork_launcher.hpp"
#include "process/identity.hpp"
#include "start/forkserver_protocol.hpp"
#include "start/unix_socket.hpp"
#include "start/zygote.hpp"
#include "sys/syscall.hpp"

namespace multiproc::detail {
namespace {

struct State {
  std::mutex mu;
  pid_t owner = 0;  // the process the zygote serves; another one (a fork) forgets it
  pid_t zygote = 0;
  sys::UniqueFd pidfd;
  sys::UniqueFd control;
  void (*preload)() = nullptr;
  bool exit_handler = false;
};

// Never destroyed: the exit handler and late children still use it.
State& state() {
  static State* s = new State;
  return *s;
}

// A fork of this process inherited the record but not the zygote (its
// descriptors were closed in the child): drop it without closing anything.
void forget_if_inherited(State& s) {
  if (s.owner == ::getpid()) return;
  (void)s.pidfd.release();
  (void)s.control.release();
  s.zygote = 0;
  s.owner = ::getpid();
}

// Waits for the zygote to end (at most `grace`, then SIGKILL) and reaps it.
// Returns how it ended.
ExitStatus reap_zygote(State& s, int grace_ms) {
  pollfd p{s.pidfd.get(), POLLIN, 0};
  if (::poll(&p, 1, grace_ms) == 0) sys::pidfd_send_signal(s.pidfd.get(), SIGKILL);
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  sys::waitid_pidfd(s.pidfd.get(), &info, WEXITED);
  s.pidfd.reset();
  s.control.reset();
  s.zygote = 0;
  return info.si_code == CLD_EXITED
             ? ExitStatus::exited_with(info.si_status)
             : ExitStatus::killed_by(info.si_status, info.si_code == CLD_DUMPED);
}

[[noreturn]] void zygote_died(State& s, const char* when) {
  pid_t pid = s.zygote;
  ExitStatus how = reap_zygote(s, 1000);
  throw Error("forkserver: the zygote (pid " + std::to_string(pid) + ") " + when + ": " +
              how.describe() + "; the next forkserver start starts a new one");
}

void start_locked(State& s) {
  int threads = sys::thread_count();
  if (threads > 1) {
    throw UsageError(
        "forkserver: the zygote must be forked while the process has one thread, and it has " +
        std::to_string(threads) +
        "; call multiproc::init(argc, argv, {.forkserver = true}) first thing in main");
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    throw SystemError("socketpair", errno);
  sys::UniqueFd client(sv[0]);
  sys::UniqueFd server(sv[1]);

  ZygoteConfig config{server.get(), s.preload};
  IdentitySeed identity = make_child_identity("forkserver", 0, true);
  int keep = server.get();
  ChildSetup setup;
  setup.parent_pid = ::getpid();
  setup.death_signal = SIGKILL;
  setup.keep_fds = &keep;
  setup.keep_count = 1;
  setup.identity = &identity;
  setup.entry = zygote_main;
  setup.context = &config;
  pid_t pid = fork_child(setup, false);
  server.reset();
  int pidfd = sys::pidfd_open(pid);
  if (pidfd < 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    throw SystemError("pidfd_open (forkserver)", -pidfd);
  }
  s.zygote = pid;
  s.pidfd = sys::UniqueFd(pidfd);
  s.control = std::move(client);
  if (!s.exit_handler) {
    std::atexit(stop_forkserver);
    s.exit_handler = true;
  }

  ForkReply hello;
  if (recv_exact(s.control.get(), &hello, sizeof hello) != 0) zygote_died(s, "died while starting");
  if (hello.error != 0) {
    reap_zygote(s, 1000);
    if (hello.error == ECANCELED) throw Error("forkserver: the preload hook threw");
    throw SystemError("forkserver: the zygote could not start", hello.error);
  }
}

}  // namespace

void start_forkserver(void (*preload)()) {
  State& s = state();
  std::lock_guard lock(s.mu);
  forget_if_inherited(s);
  s.preload = preload;
  if (s.zygote == 0) start_locked(s);
}

void set_forkserver_preload(void (*preload)()) noexcept {
  State& s = state();
  std::lock_guard lock(s.mu);
  s.preload = preload;
}

LaunchedChild forkserver_child(const LaunchRequest& request) {
  State& s = state();
  std::lock_guard lock(s.mu);
  forget_if_inherited(s);
  if (s.zygote == 0) start_locked(s);

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    throw SystemError("socketpair", errno);
  sys::UniqueFd mine(sv[0]);
  sys::UniqueFd theirs(sv[1]);
  if (request.descriptors.size() + 1 > kMaxForkDescriptors) {
    throw UsageError("start(): forkserver children take at most " +
                     std::to_string(kMaxForkDescriptors - 1) + " descriptors of arguments");
  }
  std::vector<int> fds{theirs.get()};
  fds.insert(fds.end(), request.descriptors.begin(), request.descriptors.end());

  ForkRequest header;
  header.magic = kForkRequestMagic;
  header.version = kForkRequestVersion;
  header.requester_pid = ::getpid();
  header.death_signal = request.death_signal;
  header.descriptor_count = static_cast<std::uint32_t>(fds.size());
  header.message_size = request.message->size();
  int r = send_with_fds(s.control.get(), &header, sizeof header, fds);
  if (r == -EBADF) {
    throw UsageError("start(): a descriptor of an argument is not open in this process");
  }
  if (r == 0) r = send_exact(s.control.get(), request.message->data(), request.message->size());
  if (r != 0) zygote_died(s, "stopped taking requests");

  ForkReply reply;
  std::vector<int> received;
  r = recv_with_fds(s.control.get(), &reply, sizeof reply, received, 1);
  sys::UniqueFd pidfd(received.empty() ? -1 : received[0]);
  for (std::size_t i = 1; i < received.size(); ++i) sys::close_fd(received[i]);
  if (r != 1) zygote_died(s, "died while serving a request");
  if (reply.error != 0) {
    if (reply.error == EINVAL) zygote_died(s, "refused a malformed request");
    throw SystemError("forkserver: fork", reply.error);
  }
  if (!pidfd) throw Error("forkserver: the zygote's reply carried no pidfd");
  return LaunchedChild{reply.pid, std::move(pidfd), std::move(mine)};
}

std::optional<pid_t> forkserver_pid() {
  State& s = state();
  std::lock_guard lock(s.mu);
  forget_if_inherited(s);
  return s.zygote != 0 ? std::optional<pid_t>(s.zygote) : std::nullopt;
}

void stop_forkserver() noexcept {
  State& s = state();
  std::lock_guard lock(s.mu);
  if (s.owner != ::getpid() || s.zygote == 0) return;
  s.control.reset();  // the zygote sees the end of its channel and exits
  reap_zygote(s, 1000);
}

}  // namespace multiproc::detail
