// What happens to children when main returns, as in Python: the non-daemon
// child is waited for, the daemon child is terminated. Dropping a Process
// handle does not stop its child; the exit handler does the rest, bounded
// in time (mp::set_exit_join_timeout).
#include <signal.h>
#include <unistd.h>
#include <multiproc/multiproc.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>

namespace mp = multiproc;
using namespace std::chrono_literals;

void say(const char* line) {
  // One write per line, so lines of several processes never interleave.
  std::string s = std::string(line) + "\n";
  (void)!write(STDOUT_FILENO, s.data(), s.size());
}

void worker() {
  std::this_thread::sleep_for(1s);
  say("worker (non-daemon): finished its work after 1 s");
}

void watchdog() {
  signal(SIGTERM, [](int) {
    const char msg[] = "watchdog (daemon): terminated by SIGTERM at exit\n";
    (void)!write(STDOUT_FILENO, msg, sizeof msg - 1);
    _exit(0);
  });
  say("watchdog (daemon): watching until the end");
  for (;;) pause();
}

int main() {
  // Registered before multiproc's own exit handler, so it runs after it.
  std::atexit([] {
    std::cout << "after exit handlers: " << mp::active_children().size()
              << " children still running" << std::endl;
  });
  mp::Process w(mp::ProcessOptions{.name = "worker"}, worker);
  mp::Process d(mp::ProcessOptions{.name = "watchdog", .daemon = true}, watchdog);
  w.start();
  d.start();
  std::this_thread::sleep_for(100ms);  // let the watchdog say hello first
  say("main: returning from main while both children still run");
  return 0;
}
