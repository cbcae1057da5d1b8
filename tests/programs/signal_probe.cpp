// signal_probe: a program for signal_driver (RELIABILITY 11, 14, 16). Modes:
//
//   startup-burst   installs a bridge, says "installed", starts four children
//                   one after another (the burst lands meanwhile), waits for
//                   the stop, shuts down once, exits 128 + the first signal.
//   shutdown-burst  starts four children, decides to stop by itself, says
//                   "shutting down", waits until the burst has begun, stops
//                   the children (who die of the burst on their own), exits 0:
//                   the program's own decision, not the signals, ended it.
//   slow-shutdown   a Pool of two tasks that ignore SIGTERM and sleep; on the
//                   first Ctrl-C it says "waiting for the running tasks" and
//                   closes+joins the pool (a minute); the second Ctrl-C must
//                   kill everything at once.
//   burst-outlives-main
//                   the documented idiom with nothing else: a bridge, wait
//                   for the stop, `return bridge.exit_code()`; a static
//                   object's destructor then keeps the process alive 1 s
//                   more, so a burst that goes on meets the bridge's
//                   destructor, static destructors and exit (RELIABILITY 41).
//   pool-group METHOD PHASE
//                   a Pool (fork, spawn or forkserver) with a bridge; says
//                   "ready" once PHASE is under way (construct: pools are
//                   created and used in a loop; map: a map is in progress;
//                   join: close() then join(token) while tasks run). A signal
//                   to the whole group must end the blocking call with
//                   Interrupted, never WorkerLost or another error, and the
//                   program exits 128 + the signal (RELIABILITY 42).
// Each says "orderly shutdown" when its shutdown completes.
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "multiproc/multiproc.hpp"

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

int stubborn_task(int x) {
  std::signal(SIGTERM, SIG_IGN);
  std::this_thread::sleep_for(60s);
  return x;
}

std::vector<mp::Process> start_children(const mp::Event& never, int n) {
  std::vector<mp::Process> children;
  for (int i = 0; i < n; ++i) {
    children.emplace_back(mp::ProcessOptions{.daemon = true}, wait_forever, never);
    children.back().start();
  }
  return children;
}

void stop_all(std::vector<mp::Process>& children) {
  for (auto& c : children) c.stop(5s);
}

int startup_burst() {
  mp::SignalBridge bridge;
  say("installed");
  mp::Event never;
  auto children = start_children(never, 4);
  try {
    never.wait(bridge.token());
  } catch (const mp::Interrupted&) {
  }
  stop_all(children);
  say("orderly shutdown");
  return bridge.exit_code();
}

int shutdown_burst() {
  mp::SignalBridge bridge;
  mp::Event never;
  auto children = start_children(never, 4);
  bridge.request_stop();  // the program decided: its work is done
  say("shutting down");
  // The burst must land during the shutdown: wait (bounded) until it began.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (bridge.count() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  stop_all(children);
  say("orderly shutdown");
  return 0;
}

// Keeps the process alive for 1 s after main returned (not a
// synchronisation: it is the scenario, an exit that takes time).
struct SlowExit {
  ~SlowExit() {
    say("static destructor");
    // nanosleep once per turn: std::this_thread::sleep_for resumes after
    // each EINTR with the remaining time plus the timer slack, and under a
    // storm of signals never ends.
    auto until = std::chrono::steady_clock::now() + 1s;
    const timespec turn{0, 10'000'000};
    while (std::chrono::steady_clock::now() < until) ::nanosleep(&turn, nullptr);
  }
};

int burst_outlives_main() {
  static SlowExit slow_exit;  // constructed first, so destroyed after main
  // A long burst window: the burst is one burst even if this 2-core machine
  // stalls the sender, so the exit code is always 128 + the first signal.
  mp::SignalBridge bridge({.repeat_window = 10s});
  mp::Event never;
  say("installed");
  try {
    never.wait(bridge.token());
  } catch (const mp::Interrupted&) {
  }
  say("main returns");
  return bridge.exit_code();
}

int slowish_square(int x) {
  std::this_thread::sleep_for(20ms);
  return x * x;
}

std::optional<mp::StartMethod> method_named(const std::string& name) {
  for (auto m : {mp::StartMethod::fork, mp::StartMethod::spawn, mp::StartMethod::forkserver}) {
    if (mp::to_string(m) == name) return m;
  }
  return std::nullopt;
}

int pool_group(mp::StartMethod method, const std::string& phase) {
  mp::SignalBridge bridge;
  mp::PoolOptions options{.processes = 2, .start_method = method};
  try {
    if (phase == "construct") {
      say("ready");
      for (;;) {
        mp::Pool pool(options);
        pool.map(slowish_square, mp::range(2), {.stop = bridge.token()});
      }
    }
    mp::Pool pool(options);
    if (phase == "map") {
      bool said = false;
      auto ready = [&](std::size_t, std::size_t) {
        if (!std::exchange(said, true)) say("ready");
      };
      pool.map(slowish_square, mp::range(100000),
               {.chunksize = 1, .progress = ready, .stop = bridge.token()});
    } else if (phase == "join") {
      auto r = pool.map_async(slowish_square, mp::range(100000), {.chunksize = 1});
      pool.close();
      say("ready");
      pool.join(bridge.token());
    }
    std::fprintf(stderr, "signal_probe: the pool finished before any signal\n");
    return 3;
  } catch (const mp::Interrupted&) {
    // The pool's destructor terminates it: bounded, nothing left.
  }
  say("orderly shutdown");
  return bridge.exit_code();
}

int slow_shutdown() {
  mp::SignalBridge bridge;
  mp::Pool pool({.processes = 2});
  auto result = pool.map_async(stubborn_task, std::vector<int>{1, 2});
  say("running");
  try {
    result.get(bridge.token());
  } catch (const mp::Interrupted&) {
    say("waiting for the running tasks");
    pool.close();
    pool.join();
  }
  say("orderly shutdown");
  return bridge.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  bool forkserver = mode == "pool-group" && argc > 2 && std::string(argv[2]) == "forkserver";
  mp::init(argc, argv, {.forkserver = forkserver});
  if (mode == "startup-burst") return startup_burst();
  if (mode == "shutdown-burst") return shutdown_burst();
  if (mode == "slow-shutdown") return slow_shutdown();
  if (mode == "burst-outlives-main") return burst_outlives_main();
  if (mode == "pool-group" && argc == 4 && method_named(argv[2])) {
    return pool_group(*method_named(argv[2]), argv[3]);
  }
  std::fprintf(stderr,
               "usage: signal_probe startup-burst|shutdown-burst|slow-shutdown|"
               "burst-outlives-main|pool-group fork|spawn|forkserver construct|map|join\n");
  return 2;
}
