// signal_driver: runs a program as a terminal job would (in a process group
// of its own), signals it the way a terminal or an init system does, and
// checks how it ends. Used by ctest for the Ctrl-C and signal-burst items of
// RELIABILITY.md (11, 14) and for the examples.
//
//   signal_driver --ready TEXT [--signals INT,TERM,HUP] [--count N] [--leader-only]
//                 [--until-exit] [--again-when TEXT --again-after-ms M]
//                 --expect-exit CODES --within-ms W [--runs R]
//                 [--stderr-lines N] [--once TEXT]... -- PROGRAM ARGS...
//
// 1. Starts PROGRAM in a new process group, its stdout and stderr on pipes.
// 2. When TEXT appears on its stdout, sends N signals (rotating through the
//    list) to the whole group (Ctrl-C reaches every process of the
//    foreground group), or to the leader only (--leader-only: kill PID).
//    With --until-exit: sends the first signal alone, waits until the
//    program's stderr shows it arrived (signals pending together are
//    delivered lowest number first, so "first" would be ambiguous), then
//    keeps sending them, as fast as a loop can, until the program has exited
//    (a burst that outlives main).
// 3. With --again-when: once that text appears (on stdout), waits M ms (the
//    time a person takes to press Ctrl-C again) and sends one more signal.
// 4. Checks: the exit code is one of CODES (a death by signal N counts as
//    128+N, as a shell reports it; "signal" in CODES stands for 128 + the
//    first signal sent), within W ms of the last signal; stderr
//    has exactly N non-empty lines; each --once text appears exactly once in
//    stdout+stderr; and within 2 s no process of the group is left (this
//    driver is a subreaper, so orphans come back to it and are reaped).
// --runs R repeats the whole scenario R times, each run starting one further
// in the list of signals; every run must pass.
// Exit 0 when every check holds; 1 with what went wrong otherwise.
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string ready, again_when;
  std::vector<int> signals{SIGINT};
  int count = 1;
  bool leader_only = false;
  bool until_exit = false;
  int runs = 1;
  int again_after_ms = 0;
  std::vector<int> expect_exit;
  int within_ms = 2000;
  int stderr_lines = -1;
  std::vector<std::string> once;
  std::vector<char*> program;
};

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "signal_driver: %s\n", why.c_str());
  std::exit(1);
}

int signal_number(const std::string& name) {
  if (name == "INT") return SIGINT;
  if (name == "TERM") return SIGTERM;
  if (name == "HUP") return SIGHUP;
  if (name == "KILL") return SIGKILL;
  return std::atoi(name.c_str());
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto comma = list.find(',', start);
    out.push_back(list.substr(start, comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

Options parse(int argc, char** argv) {
  Options o;
  int i = 1;
  auto value = [&] {
    if (i + 1 >= argc) fail(std::string("missing value after ") + argv[i]);
    return std::string(argv[++i]);
  };
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") break;
    if (a == "--ready")
      o.ready = value();
    else if (a == "--signals") {
      o.signals.clear();
      for (auto& s : split(value())) o.signals.push_back(signal_number(s));
    } else if (a == "--count")
      o.count = std::stoi(value());
    else if (a == "--leader-only")
      o.leader_only = true;
    else if (a == "--until-exit")
      o.until_exit = true;
    else if (a == "--runs")
      o.runs = std::stoi(value());
    else if (a == "--again-when")
      o.again_when = value();
    else if (a == "--again-after-ms")
      o.again_after_ms = std::stoi(value());
    else if (a == "--expect-exit") {
      for (auto& s : split(value())) o.expect_exit.push_back(s == "signal" ? -1 : std::stoi(s));
    } else if (a == "--within-ms")
      o.within_ms = std::stoi(value());
    else if (a == "--stderr-lines")
      o.stderr_lines = std::stoi(value());
    else if (a == "--once")
      o.once.push_back(value());
    else
      fail("unknown option " + a);
  }
  for (++i; i < argc; ++i) o.program.push_back(argv[i]);
  o.program.push_back(nullptr);
  if (o.program.size() < 2 || o.ready.empty() || o.expect_exit.empty())
    fail("need --ready, --expect-exit and a program after --");
  return o;
}

// The child's output so far, read without blocking past `deadline`.
struct Output {
  int out_fd, err_fd;
  std::string out, err;
  bool out_open = true, err_open = true;

  // Reads what is available, waiting at most until `deadline`.
  void pump(Clock::time_point deadline) {
    pollfd fds[2] = {{out_open ? out_fd : -1, POLLIN, 0}, {err_open ? err_fd : -1, POLLIN, 0}};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (::poll(fds, 2, static_cast<int>(std::max<long>(0, left.count()))) <= 0) return;
    read_into(fds[0], out_fd, out, out_open);
    read_into(fds[1], err_fd, err, err_open);
  }
  static void read_into(const pollfd& p, int fd, std::string& into, bool& open) {
    if (p.revents == 0) return;
    char buffer[4096];
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0)
      open = false;
    else
      into.append(buffer, static_cast<std::size_t>(n));
  }
  bool wait_for(const std::string& text, Clock::time_point deadline) {
    while (out.find(text) == std::string::npos) {
      if (Clock::now() >= deadline || !out_open) return false;
      pump(deadline);
    }
    return true;
  }
};

std::size_t occurrences(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

// Sends signals, rotating through the list, to `target` until `pid` has
// exited; returns its wait status.
int burst_until_exit(const Options& o, std::size_t first, pid_t target, pid_t pid, Output& output) {
  ::kill(target, o.signals[first]);
  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (output.err.empty() && output.err_open && Clock::now() < deadline) output.pump(deadline);
  int status = 0;
  for (std::size_t i = first + 1;; ++i) {
    ::kill(target, o.signals[i % o.signals.size()]);
    if (i % 256 != 0) continue;
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;
    output.pump(Clock::now());  // a full pipe must not stall it
  }
}

void run_once(const Options& o, int run) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) fail("pipe2");
  pid_t pid = ::fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    ::execv(o.program[0], o.program.data());
    std::_Exit(127);
  }
  ::setpgid(pid, pid);  // both sides, so neither races the other
  ::close(out[1]);
  ::close(err[1]);
  Output output{out[0], err[0], {}, {}};
  auto report = [&](const std::string& why) {
    ::kill(-pid, SIGKILL);
    // Reap what is left (orphans come back here), for at most 2 s.
    auto until = Clock::now() + std::chrono::seconds(2);
    while (::waitpid(-1, nullptr, WNOHANG) >= 0 && Clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    fail("run " + std::to_string(run + 1) + ": " + why + "\n--- stdout ---\n" + output.out +
         "--- stderr ---\n" + output.err);
  };

  if (!output.wait_for(o.ready, Clock::now() + std::chrono::seconds(60)))
    report("the program never printed '" + o.ready + "'");
  auto target = o.leader_only ? pid : -pid;
  auto first = static_cast<std::size_t>(run) % o.signals.size();
  int status = 0;
  bool exited = false;
  if (o.until_exit) {
    status = burst_until_exit(o, first, target, pid, output);
    exited = true;
  } else {
    for (int i = 0; i < o.count; ++i) {
      ::kill(target, o.signals[(first + static_cast<std::size_t>(i)) % o.signals.size()]);
    }
  }
  auto last_signal = Clock::now();
  if (!o.again_when.empty()) {
    if (!output.wait_for(o.again_when, Clock::now() + std::chrono::seconds(60)))
      report("the program never printed '" + o.again_when + "'");
    std::this_thread::sleep_for(std::chrono::milliseconds(o.again_after_ms));  // a person's pause
    ::kill(target, o.signals[first]);
    last_signal = Clock::now();
  }

  // Wait for the exit, reading output all along (a full pipe must not stall it).
  auto deadline = last_signal + std::chrono::milliseconds(o.within_ms);
  while (!exited) {
    if (::waitpid(pid, &status, WNOHANG) == pid) break;
    if (Clock::now() >= deadline)
      report("still running " + std::to_string(o.within_ms) + " ms after the last signal");
    output.pump(std::min(deadline, Clock::now() + std::chrono::milliseconds(10)));
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - last_signal);
  while (output.out_open || output.err_open) output.pump(Clock::now() + std::chrono::seconds(5));

  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  bool expected = false;
  for (int c : o.expect_exit) expected = expected || (c < 0 ? 128 + o.signals[first] : c) == code;
  if (!expected) report("exit code " + std::to_string(code) + " is not one expected");

  if (o.stderr_lines >= 0) {
    int lines = 0;
    std::size_t start = 0;
    for (auto nl = output.err.find('\n'); nl != std::string::npos;
         nl = output.err.find('\n', start)) {
      if (nl > start) ++lines;
      start = nl + 1;
    }
    if (lines != o.stderr_lines)
      report(std::to_string(lines) + " lines on stderr, expected " +
             std::to_string(o.stderr_lines));
  }
  for (auto& text : o.once) {
    auto n = occurrences(output.out + output.err, text);
    if (n != 1) report("'" + text + "' appears " + std::to_string(n) + " times, expected once");
  }

  // Nothing of the group may be left: orphans come back here and are reaped.
  auto left_deadline = Clock::now() + std::chrono::seconds(2);
  for (;;) {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    if (::kill(-pid, 0) != 0 && errno == ESRCH) break;
    if (Clock::now() >= left_deadline) report("processes of the group are still running");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a state, bounded
  }
  std::printf("ok: exit code %d, %lld ms after the last signal\n", code,
              static_cast<long long>(took.count()));
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  for (int run = 0; run < o.runs; ++run) run_once(o, run);
  return 0;
}
