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
// Each says "orderly shutdown" when its shutdown completes.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
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
  mp::init(argc, argv);
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "startup-burst") return startup_burst();
  if (mode == "shutdown-burst") return shutdown_burst();
  if (mode == "slow-shutdown") return slow_shutdown();
  std::fprintf(stderr, "usage: signal_probe startup-burst|shutdown-burst|slow-shutdown\n");
  return 2;
}
