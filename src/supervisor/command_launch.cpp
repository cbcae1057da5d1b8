// launch_command: see command_launch.hpp.
#include "supervisor/command_launch.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "contain/cgroup_dir.hpp"
#include "sys/child_pidfd.hpp"
#include "sys/signal_block.hpp"
#include "sys/signal_dispositions.hpp"
#include "sys/syscall.hpp"

extern char** environ;

namespace multiproc::detail {

namespace {

constexpr const char* kGroupStopVar = "MULTIPROC_GROUP_STOP_FD";

enum class Stage : int { pdeathsig, chdir, descriptors, execve, cgroup };

const char* stage_name(Stage stage) {
  switch (stage) {
    case Stage::pdeathsig:
      return "PR_SET_PDEATHSIG";
    case Stage::chdir:
      return "chdir";
    case Stage::descriptors:
      return "moving the group-stop descriptor to 3";
    case Stage::execve:
      return "execve";
    case Stage::cgroup:
      return "entering its cgroup (containment)";
  }
  return "?";
}

struct ExecFailure {
  int stage = 0;
  int err = 0;
};

// Owns the strings; `pointers` is the NULL-terminated array execve takes.
struct CStrings {
  std::vector<std::string> strings;
  std::vector<char*> pointers;
  void seal() {
    pointers.clear();
    for (auto& s : strings) pointers.push_back(s.data());
    pointers.push_back(nullptr);
  }
};

bool is_group_stop_var(const std::string& entry) {
  std::size_t n = std::strlen(kGroupStopVar);
  return entry.size() > n && entry.compare(0, n, kGroupStopVar) == 0 && entry[n] == '=';
}

CStrings build_env(const Command& command) {
  CStrings env;
  if (command.env) {
    for (const auto& e : *command.env)
      if (!is_group_stop_var(e)) env.strings.push_back(e);
  } else {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e)
      if (!is_group_stop_var(*e)) env.strings.emplace_back(*e);
  }
  env.strings.push_back(std::string(kGroupStopVar) + "=3");
  env.seal();
  return env;
}

std::string search_path(const Command& command) {
  if (command.env) {
    for (const auto& e : *command.env)
      if (e.rfind("PATH=", 0) == 0) return e.substr(5);
  }
  const char* p = std::getenv("PATH");
  return p != nullptr ? p : "/usr/local/bin:/usr/bin:/bin";
}

// The child, between fork and execve: async-signal-safe calls only.
[[noreturn]] void run_child(pid_t parent, int error_fd, int group_fd, int cgroup_dir,
                            const char* path, char* const* argv, char* const* envp,
                            const char* cwd) {
  auto fail = [error_fd](Stage stage) {
    ExecFailure f{static_cast<int>(stage), errno};
    (void)sys::write_all(error_fd, &f, sizeof f);
    ::_exit(127);
  };
  if (cgroup_dir >= 0) {
    int r = contain::write_cgroup_file(cgroup_dir, "cgroup.procs", "0");
    if (r != 0) {
      errno = -r;
      fail(Stage::cgroup);
    }
  }
  ::setpgid(0, 0);
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail(Stage::pdeathsig);
  if (::getppid() != parent) ::_exit(127);  // the parent died before the signal was armed
  sys::reset_signal_dispositions();
  if (cwd != nullptr && ::chdir(cwd) != 0) fail(Stage::chdir);
  // Away from 0..3 so that descriptor 3 can be the group-stop socket.
  int err = ::fcntl(error_fd, F_DUPFD_CLOEXEC, 4);
  if (err < 0) fail(Stage::descriptors);
  error_fd = err;
  if (group_fd == 3) {
    if (::fcntl(3, F_SETFD, 0) != 0) fail(Stage::descriptors);
  } else if (::dup2(group_fd, 3) != 3) {
    fail(Stage::descriptors);
  }
  // Everything above 3 closes at execve (the error pipe must live until then).
  ::syscall(SYS_close_range, 4U, ~0U, CLOSE_RANGE_CLOEXEC);
  sigset_t empty;
  sigemptyset(&empty);
  ::sigprocmask(SIG_SETMASK, &empty, nullptr);
  ::execve(path, argv, envp);
  fail(Stage::execve);
  ::_exit(127);
}

std::string describe_failure(const ExecFailure& f, const std::string& path, const Command& c) {
  std::string what = stage_name(static_cast<Stage>(f.stage));
  if (f.stage == static_cast<int>(Stage::execve)) what += " " + path;
  if (f.stage == static_cast<int>(Stage::chdir)) what += " " + c.cwd.value_or("");
  return what + ": " + std::strerror(f.err);
}

// Reads the child's {stage, errno}; false at end of file (execve succeeded).
bool read_failure(int fd, ExecFailure& f) {
  ssize_t n;
  do {
    n = ::read(fd, &f, sizeof f);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof f);
}

}  // namespace

std::string resolve_executable(const std::string& name, const std::string& path) {
  if (name.find('/') != std::string::npos) return name;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return {};
}

LaunchedCommand launch_command(const Command& command, int group_stop_fd, int cgroup_dir) {
  LaunchedCommand out;
  std::string path = resolve_executable(command.argv.at(0), search_path(command));
  if (path.empty()) {
    out.error = "execve " + command.argv[0] + ": not found in PATH";
    return out;
  }
  CStrings argv;
  argv.strings = command.argv;
  argv.seal();
  CStrings env = build_env(command);
  const char* cwd = command.cwd ? command.cwd->c_str() : nullptr;

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    out.error = std::string("pipe2: ") + std::strerror(errno);
    return out;
  }
  sys::UniqueFd read_end(pipe_fds[0]);
  sys::UniqueFd write_end(pipe_fds[1]);

  pid_t parent = ::getpid();
  pid_t pid;
  {
    // No handler of ours may run in the child before dispositions are reset.
    sys::BlockAllSignals blocked;
    pid = sys::fork_bare();
    if (pid == 0) {
      run_child(parent, write_end.get(), group_stop_fd, cgroup_dir, path.c_str(),
                argv.pointers.data(), env.pointers.data(), cwd);
    }
  }
  if (pid < 0) {
    out.error = std::string("fork: ") + std::strerror(-pid);
    return out;
  }
  write_end.reset();
  // Nobody else reaps our children (no SIGCHLD handler, no waitpid(-1)), so
  // the PID names this child until we reap it.
  int pidfd = sys::open_child_pidfd(pid);
  if (pidfd < 0) {
    out.error = std::string("pidfd_open: ") + std::strerror(-pidfd);
    return out;
  }
  ExecFailure failure;
  bool failed = read_failure(read_end.get(), failure);
  out.pidfd.reset(pidfd);
  if (failed) {
    siginfo_t info{};
    (void)sys::waitid_pidfd(pidfd, &info, WEXITED);
    out.pidfd.reset();
    out.error = describe_failure(failure, path, command);
    return out;
  }
  out.pid = pid;
  return out;
}

}  // namespace multiproc::detail
