// Signal storms. Every few seconds the storm part runs signal_driver (the
// test suite's: tests/programs/signal_driver.cpp) on `soak --storm-child`:
// in a process group of its own, the child installs a SignalBridge, starts
// children and a Pool at work, says "storm ready", and gets a burst of 1,000
// mixed SIGTERM/SIGINT/SIGHUP (at the whole group, or at the leader only).
// It must shut down exactly once, in order, with exit 128 + the first
// signal, one line on stderr, and nothing of its group left (the driver
// checks, as a subreaper).
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "multiproc/multiproc.hpp"
#include "soak/soak.hpp"

extern char** environ;

namespace soak {

namespace mp = multiproc;
using namespace std::chrono_literals;

namespace {

void say(const char* line) {
  std::printf("%s\n", line);
  std::fflush(stdout);
}

void wait_forever(mp::Event never) {
  never.wait();
}

int storm_task(int x) {
  std::this_thread::sleep_for(30s);
  return x;
}

mp::StartMethod storm_method(const Options& o, Rng& rng) {
  if (o.start_method == "fork") return mp::StartMethod::fork;
  if (o.start_method == "spawn") return mp::StartMethod::spawn;
  if (o.start_method == "forkserver") return mp::StartMethod::forkserver;
  static constexpr mp::StartMethod all[] = {mp::StartMethod::fork, mp::StartMethod::spawn,
                                            mp::StartMethod::forkserver};
  return all[rng.below(3)];
}

// Runs `argv` with its stdout and stderr on one pipe; its exit status and
// output, or a note that it ran past `limit` (then it is killed).
struct Ran {
  int status = -1;
  std::string output{};
  bool timed_out = false;
};

Ran run_program(std::vector<std::string> args, std::chrono::seconds limit) {
  Ran ran;
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ran.output = "pipe2 failed";
    return ran;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  if (rc != 0) {
    ::close(out[0]);
    ran.output = "posix_spawn " + args[0] + " failed: " + std::to_string(rc);
    return ran;
  }
  auto deadline = Clock::now() + limit;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      ran.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buffer[4096];
    ssize_t n = ::read(out[0], buffer, sizeof buffer);
    if (n <= 0) break;
    ran.output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ran.status = status;
  return ran;
}

}  // namespace

int storm_child_main(const Options& o) {
  mp::SignalBridge bridge({.escalate = false});
  Rng rng(o.seed);
  mp::StartMethod method = storm_method(o, rng);
  mp::Event never;
  std::vector<mp::Process> children;
  // Children first: a fork start refuses once the Pool's threads exist.
  for (int i = 0; i < 2; ++i) {
    children.emplace_back(mp::ProcessOptions{.daemon = true, .start_method = method}, wait_forever,
                          never);
    children.back().start();
  }
  mp::Pool pool({.processes = 2, .start_method = method});
  auto result = pool.map_async(storm_task, mp::range(8));
  say("storm ready");
  try {
    result.get(bridge.token());
  } catch (const mp::Interrupted&) {
  } catch (const mp::Error&) {
    // The storm may end the workers (SIGTERM) before the stop request lands.
  }
  auto deadline = Clock::now() + 10s;
  while (!bridge.stop_requested() && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
  if (!bridge.stop_requested()) {
    say("storm child: no stop request within 10 s");
    return 1;
  }
  pool.terminate();
  for (auto& c : children) c.stop(5s);
  say("orderly shutdown");
  return bridge.exit_code();
}

void run_storm_part(Context& ctx, const std::string& self) {
  Rng rng = ctx.rng(4);
  int number = 0;
  auto first = std::min(3.0, ctx.options().seconds / 4);
  auto next = Clock::now() +
              std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(first));
  while (!ctx.over()) {
    ctx.doing("storm", "waiting for the next storm");
    if (Clock::now() < next) {
      std::this_thread::sleep_for(50ms);  // the storms' pace, not a synchronisation
      continue;
    }
    std::vector<std::string> signals{"TERM", "INT", "HUP"};
    for (std::size_t i = signals.size(); i > 1; --i)
      std::swap(signals[i - 1], signals[rng.below(i)]);
    bool leader_only = rng.chance(0.3);
    std::vector<std::string> args{SOAK_SIGNAL_DRIVER,
                                  "--ready",
                                  "storm ready",
                                  "--signals",
                                  signals[0] + "," + signals[1] + "," + signals[2],
                                  "--count",
                                  "1000",
                                  "--expect-exit",
                                  "129,130,143",
                                  "--within-ms",
                                  "10000",
                                  "--stderr-lines",
                                  "1",
                                  "--once",
                                  "orderly shutdown"};
    if (leader_only) args.emplace_back("--leader-only");
    for (auto a :
         {std::string("--"), self, std::string("--storm-child"), std::string("--start-method"),
          ctx.options().start_method, std::string("--seed"), std::to_string(rng.next() >> 1)}) {
      args.push_back(a);
    }
    ctx.doing("storm", "storm " + std::to_string(number) + " running");
    Ran ran = run_program(args, 120s);
    bool survived = !ran.timed_out && WIFEXITED(ran.status) && WEXITSTATUS(ran.status) == 0;
    ctx.check("every signal storm ends in one orderly shutdown, nothing left", survived,
              "storm " + std::to_string(number) + (ran.timed_out ? " (timed out)" : "") + ": " +
                  ran.output);
    ctx.count("storm.storms run");
    ctx.count(leader_only ? "storm.at the leader only" : "storm.at the whole group");
    if (survived) ctx.count("storm.storms survived");
    ++number;
    next = Clock::now() + std::chrono::seconds(5 + rng.below(15));
  }
  ctx.part_done("storm");
}

}  // namespace soak
