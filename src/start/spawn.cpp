#include "start/spawn.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "contain/cgroup_dir.hpp"
#include "multiproc/error.hpp"
#include "start/fork_launcher.hpp"
#include "start/program_args.hpp"
#include "start/program_key.hpp"
#include "sys/child_pidfd.hpp"
#include "sys/proc_fs.hpp"
#include "sys/syscall.hpp"

extern char** environ;

namespace multiproc::detail {
namespace {

struct SpawnJob {
  const posix_spawn_file_actions_t* actions;
  const posix_spawnattr_t* attributes;
  char* const* argv;
  char* const* envp;
};

pid_t run_spawn(void* arg) {
  auto& job = *static_cast<SpawnJob*>(arg);
  pid_t pid = 0;
  int r = posix_spawn(&pid, sys::proc::kSelfExe, job.actions, job.attributes, job.argv, job.envp);
  return r == 0 ? pid : -r;
}

// RAII for the posix_spawn objects.
struct SpawnObjects {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  SpawnObjects() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~SpawnObjects() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnObjects(const SpawnObjects&) = delete;
  SpawnObjects& operator=(const SpawnObjects&) = delete;
};

sys::UniqueFd duplicate_at_or_above(int fd, int floor) {
  int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, floor);
  if (copy < 0) {
    if (errno == EBADF) {
      throw UsageError("Process::start: descriptor " + std::to_string(fd) +
                       " of an argument is not open in this process");
    }
    throw SystemError("duplicating descriptor " + std::to_string(fd), errno);
  }
  return sys::UniqueFd(copy);
}

// The environment with our variable in place of any inherited one.
std::vector<char*> child_environment(std::string& ours) {
  std::vector<char*> env;
  std::size_t prefix = std::strlen(kSpawnEnv);
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, kSpawnEnv, prefix) == 0 && (*e)[prefix] == '=') continue;
    env.push_back(*e);
  }
  env.push_back(ours.data());
  env.push_back(nullptr);
  return env;
}

// Writes the task; stops early if the child dies before reading it all (its
// exit status will say why).
void send_task(int channel, int pidfd, const std::string& message) noexcept {
  std::uint64_t size = message.size();
  std::string framed(reinterpret_cast<const char*>(&size), sizeof size);
  framed += message;
  std::size_t sent = 0;
  while (sent < framed.size()) {
    ssize_t n =
        ::send(channel, framed.data() + sent, framed.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return;  // EPIPE: the child is gone
    pollfd fds[2] = {{channel, POLLOUT, 0}, {pidfd, POLLIN, 0}};
    // A failed poll leaves the task unsent: the child then fails to read it
    // and exits, which its exit status reports.
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if ((fds[1].revents & POLLIN) != 0) return;
  }
}

}  // namespace

LaunchedChild spawn_child(const LaunchRequest& request) {
  char* const* argv = program_argv();
  if (argv == nullptr) {
    throw UsageError(
        "Process::start: the spawn start method needs multiproc::init(argc, argv) as the first "
        "statement of main (the child runs this program again and init runs its task)");
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    throw SystemError("socketpair", errno);
  sys::UniqueFd mine(sv[0]);
  sys::UniqueFd theirs(sv[1]);

  // The child's descriptors: channel at 3, arguments from 4. Sources are
  // first duplicated above that range, so no dup2 overwrites a source.
  const int count = static_cast<int>(request.descriptors.size());
  const int first_free = kSpawnChannelFd + 1 + count;
  std::vector<sys::UniqueFd> sources;
  sources.push_back(duplicate_at_or_above(theirs.get(), first_free));
  for (int fd : request.descriptors) sources.push_back(duplicate_at_or_above(fd, first_free));

  SpawnObjects o;
  int target = kSpawnChannelFd;
  for (const sys::UniqueFd& source : sources) {
    posix_spawn_file_actions_adddup2(&o.actions, source.get(), target++);
  }
  posix_spawn_file_actions_addclosefrom_np(&o.actions, first_free);
  sigset_t start_mask, all;
  sigemptyset(&start_mask);
  // The signals the child's policy changes stay blocked until init has
  // applied it: one sent in between stays pending, then meets the policy.
  add_policy_signals(request.signals, &start_mask);
  // Every disposition back to default, glibc's internal signals 32 and 33
  // included: its sigfillset leaves them out, and posix_spawn sets those two
  // to SIG_IGN in the child unless they are in this set.
  std::memset(&all, 0xff, sizeof all);
  posix_spawnattr_setsigmask(&o.attributes, &start_mask);
  posix_spawnattr_setsigdefault(&o.attributes, &all);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (request.own_group) {
    // The containment fallback: its own process group (a spawned child is
    // not made a subreaper: docs/containment.md).
    posix_spawnattr_setpgroup(&o.attributes, 0);
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(&o.attributes, flags);

  std::string variable = std::string(kSpawnEnv) + "=1," + std::to_string(::getpid()) + "," +
                         std::to_string(request.death_signal) + "," + std::to_string(count) + "," +
                         std::to_string(encode_spawn_signals(request.signals)) + "," +
                         program_key_hex();
  std::vector<char*> env = child_environment(variable);
  SpawnJob job{&o.actions, &o.attributes, argv, env.data()};
  pid_t pid = launch_from_long_lived_thread(run_spawn, &job);
  if (pid < 0) throw SystemError("posix_spawn /proc/self/exe", -pid);

  int pidfd = sys::open_child_pidfd(pid);
  if (pidfd < 0) throw SystemError("pidfd_open (pid " + std::to_string(pid) + ")", -pidfd);
  LaunchedChild child{pid, sys::UniqueFd(pidfd), std::move(mine)};
  if (request.cgroup_dir >= 0) {
    // Before its task: the child runs nothing of the user's but what sits
    // above init() in main (docs/containment.md) until the task arrives.
    int r = contain::CgroupDir::enter_pid(request.cgroup_dir, pid);
    if (r != 0) {
      sys::pidfd_send_signal(child.pidfd.get(), SIGKILL);
      siginfo_t info;
      sys::waitid_pidfd(child.pidfd.get(), &info, WEXITED);
      throw SystemError("Process::start: moving the spawned child into its cgroup", -r);
    }
  }
  send_task(child.channel.get(), child.pidfd.get(), *request.message);
  return child;
}

}  // namespace multiproc::detail
