// The seed scenario: a SIGTERM handler sets an Event that the main loop and
// the worker processes wait on, and everything shuts down cleanly.
//
// Event::set() is async-signal-safe (an atomic and a futex wake, no lock), so
// the handler may call it whatever the program was doing when the signal
// came, even waiting on that same event. Python's Event.set() takes a lock
// and can deadlock there.
//
// The example sends itself the SIGTERM once the workers are up, so that it
// runs unattended; `kill <pid>` from a shell does the same.
#include <signal.h>
#include <unistd.h>
#include <multiproc/multiproc.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <vector>

namespace mp = multiproc;
using namespace std::chrono_literals;

namespace {

mp::Event* g_stop = nullptr;

extern "C" void on_sigterm(int) {
  g_stop->set();
}

// A worker: says it is up, then works until the stop event is set.
void worker(mp::Event stop, mp::Semaphore up, int id) {
  up.release();
  long rounds = 0;
  while (!stop.wait(20ms)) ++rounds;  // a slice of work between checks
  std::printf("worker %d: stop seen, cleaning up and exiting\n", id);
}

}  // namespace

int main() {
  mp::Event stop;
  g_stop = &stop;
  struct sigaction sa {};
  sa.sa_handler = on_sigterm;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);

  constexpr int kWorkers = 3;
  mp::Semaphore up(0);
  std::vector<mp::Process> workers;
  for (int i = 0; i < kWorkers; ++i) workers.emplace_back(worker, stop, up, i + 1);
  for (auto& w : workers) w.start();
  for (int i = 0; i < kWorkers; ++i) up.acquire();
  std::cout << "main: " << kWorkers << " workers running; sending SIGTERM to myself" << std::endl;

  kill(getpid(), SIGTERM);
  while (!stop.wait(1s)) std::cout << "main: still running" << std::endl;  // the main loop
  std::cout << "main: the SIGTERM handler set the stop event" << std::endl;

  for (auto& w : workers) {
    w.join();
    std::cout << "main: " << w.name() << " exited with code " << *w.exitcode() << std::endl;
  }
  std::cout << "main: clean shutdown" << std::endl;
}
