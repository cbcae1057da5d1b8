#include "start/zygote_client.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "multiproc/detail/code_ref.hpp"
#include "multiproc/error.hpp"
#include "multiproc/exit_status.hpp"
#include "start/child_setup.hpp"
#include "start/fork_launcher.hpp"
#include "start/forkserver_protocol.hpp"
#include "start/identity.hpp"
#include "start/unix_socket.hpp"
#include "start/zygote.hpp"
#include "sys/child_pidfd.hpp"
#include "sys/exit_status.hpp"
#include "sys/syscall.hpp"

namespace multiproc::detail {
namespace {

// Waits for the zygote to end (at most `grace_ms`, then SIGKILL) and reaps it.
ExitStatus reap(int pidfd, int grace_ms) {
  pollfd p{pidfd, POLLIN, 0};
  if (::poll(&p, 1, grace_ms) == 0) sys::pidfd_send_signal(pidfd, SIGKILL);
  siginfo_t info;
  std::memset(&info, 0, sizeof info);
  sys::waitid_pidfd(pidfd, &info, WEXITED);
  return sys::exit_status_from(info);
}

}  // namespace

ZygoteClient::ZygoteClient(std::string name, bool lazy) : name_(std::move(name)), lazy_(lazy) {}

ZygoteClient::~ZygoteClient() {
  stop();
}

void ZygoteClient::forget_if_inherited() {
  if (owner_.load() == ::getpid()) return;
  (void)pidfd_.release();
  (void)control_.release();
  zygote_ = 0;
  started_once_ = false;
  owner_.store(::getpid());
}

void ZygoteClient::reset_after_fork() noexcept {
  new (&mu_) std::mutex;
  forget_if_inherited();
}

ExitStatus ZygoteClient::reap_locked(int grace_ms) {
  ExitStatus how = reap(pidfd_.get(), grace_ms);
  pidfd_.reset();
  control_.reset();
  zygote_ = 0;
  return how;
}

void ZygoteClient::died(const char* when) {
  pid_t pid = zygote_;
  ExitStatus how = reap_locked(1000);
  throw Error(name_ + ": the zygote (pid " + std::to_string(pid) + ") " + when + ": " +
              how.describe() +
              (lazy_ ? "; the next start starts a new one" : "; no more children can start"));
}

void ZygoteClient::start_locked() {
  int threads = threads_unsafe_for_fork();
  if (threads > 1) {
    throw UsageError(name_ +
                     ": the zygote must be forked while the process has one thread, and it has " +
                     std::to_string(threads) + "; " + hint_);
  }
  warm_up_function_tags();  // every child of the zygote verifies tags
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    throw SystemError("socketpair", errno);
  sys::UniqueFd client(sv[0]);
  sys::UniqueFd server(sv[1]);

  ZygoteConfig config{server.get(), preload_};
  IdentitySeed identity = make_child_identity(name_, 0, true, StartMethod::forkserver);
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
  int pidfd = sys::open_child_pidfd(pid);
  if (pidfd < 0) throw SystemError(name_ + ": pidfd_open", -pidfd);
  zygote_ = pid;
  pidfd_ = sys::UniqueFd(pidfd);
  control_ = std::move(client);
  hello_pending_ = true;
}

void ZygoteClient::await_hello_locked() {
  if (!hello_pending_) return;
  hello_pending_ = false;
  ForkReply hello;
  if (recv_exact(control_.get(), &hello, sizeof hello) != 0) died("died while starting");
  if (hello.error != 0) {
    reap_locked(1000);
    if (hello.error == ECANCELED) throw Error(name_ + ": the preload hook threw");
    throw SystemError(name_ + ": the zygote could not start", hello.error);
  }
}

void ZygoteClient::start() {
  std::lock_guard lock(mu_);
  forget_if_inherited();
  if (zygote_ == 0) start_locked();
  await_hello_locked();
}

void ZygoteClient::start_async() {
  std::lock_guard lock(mu_);
  forget_if_inherited();
  if (zygote_ == 0) start_locked();
}

void ZygoteClient::set_preload(void (*preload)()) noexcept {
  std::lock_guard lock(mu_);
  preload_ = preload;
}

void ZygoteClient::set_start_hint(std::string hint) {
  std::lock_guard lock(mu_);
  hint_ = std::move(hint);
}

LaunchedChild ZygoteClient::launch(const LaunchRequest& request) {
  return std::move(launch_many({&request, 1}).front());
}

std::vector<LaunchedChild> ZygoteClient::launch_many(std::span<const LaunchRequest> requests) {
  std::lock_guard lock(mu_);
  forget_if_inherited();
  if (zygote_ == 0) {
    if (!lazy_ && started_once_) {
      throw Error(name_ + ": the zygote is gone; no more children can start");
    }
    start_locked();
  }
  started_once_ = true;

  // Send every request, then read every reply: the zygote forks the next
  // child while this process handles the previous reply.
  std::vector<sys::UniqueFd> mine;
  for (const LaunchRequest& request : requests) {
    // The channel, and a contained child's cgroup, travel with the arguments.
    std::size_t own = request.cgroup_dir >= 0 ? 2 : 1;
    if (request.descriptors.size() + own > kMaxForkDescriptors) {
      throw UsageError("Process::start: children of a zygote take at most " +
                       std::to_string(kMaxForkDescriptors - own) + " descriptors of arguments");
    }
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
      throw SystemError("socketpair", errno);
    mine.emplace_back(sv[0]);
    sys::UniqueFd theirs(sv[1]);
    std::vector<int> fds{theirs.get()};
    fds.insert(fds.end(), request.descriptors.begin(), request.descriptors.end());
    if (request.cgroup_dir >= 0) fds.push_back(request.cgroup_dir);

    ForkRequest header;
    header.magic = kForkRequestMagic;
    header.version = kForkRequestVersion;
    header.requester_pid = ::getpid();
    header.death_signal = request.death_signal;
    header.descriptor_count = static_cast<std::uint32_t>(fds.size());
    header.message_size = request.message->size();
    header.flags = (request.signals.ignore_sigint ? kForkIgnoreSigint : 0) |
                   (request.signals.parent_decides ? kForkParentDecidesSignals : 0) |
                   (request.cgroup_dir >= 0 ? kForkIntoCgroup : 0) |
                   (request.own_group ? kForkOwnGroup : 0);
    int r = send_with_fds(control_.get(), &header, sizeof header, fds);
    if (r == -EBADF && control_) {
      throw UsageError("Process::start: a descriptor of an argument is not open in this process");
    }
    if (r == 0) r = send_exact(control_.get(), request.message->data(), request.message->size());
    if (r != 0) died("stopped taking requests");
  }
  await_hello_locked();

  std::vector<LaunchedChild> out;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    ForkReply reply;
    std::vector<int> received;
    int r = recv_with_fds(control_.get(), &reply, sizeof reply, received, 1);
    sys::UniqueFd pidfd(received.empty() ? -1 : received[0]);
    for (std::size_t j = 1; j < received.size(); ++j) sys::close_fd(received[j]);
    if (r != 1) died("died while serving a request");
    if (reply.error != 0) {
      if (reply.error == EINVAL) died("refused a malformed request");
      // The children already forked are ours: kill and reap them first.
      for (LaunchedChild& c : out) {
        sys::pidfd_send_signal(c.pidfd.get(), SIGKILL);
        siginfo_t info;
        sys::waitid_pidfd(c.pidfd.get(), &info, WEXITED);
      }
      throw SystemError(name_ + ": fork", reply.error);
    }
    if (!pidfd) throw Error(name_ + ": the zygote's reply carried no pidfd");
    out.push_back(LaunchedChild{reply.pid, std::move(pidfd), std::move(mine[i])});
  }
  return out;
}

std::optional<pid_t> ZygoteClient::pid() {
  std::lock_guard lock(mu_);
  forget_if_inherited();
  return zygote_ != 0 ? std::optional<pid_t>(zygote_) : std::nullopt;
}

void ZygoteClient::close_channel() noexcept {
  if (owner_.load() != ::getpid()) return;
  std::lock_guard lock(mu_);
  control_.reset();
}

void ZygoteClient::stop() noexcept {
  // An inherited copy's lock may have been held at the fork: do not touch it.
  if (owner_.load() != ::getpid()) return;
  std::lock_guard lock(mu_);
  if (zygote_ == 0) return;
  control_.reset();  // the zygote sees the end of its channel and exits
  reap_locked(1000);
}

}  // namespace multiproc::detail
