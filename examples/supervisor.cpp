// The seed scenario of the Supervisor: two long-running subtasks under one
// supervisor.
//
//   supervisor <file> [--restart]
//
//   - "logger" prints a line every second;
//   - "watcher" waits for <file> to appear, then asks the whole group to stop
//     (GroupStop), which is an orderly end: exit code 0.
//
// SIGINT (Ctrl-C), SIGTERM or SIGHUP to this program stops everything
// gracefully (exit 0). A subtask killed from outside brings everything down
// (both are temporary and significant, AutoShutdown::any_significant: exit 1),
// or, with --restart, is restarted (permanent, one_for_one). If this program
// is SIGKILLed, the subtasks die with it (their parent-death signal).
//
// Each subtask prints its PID when it starts, and the report is printed at
// the end: tests/supervisor_example_test.cpp drives these scenarios.
#include <unistd.h>
#include <multiproc/multiproc.hpp>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

namespace mp = multiproc;
using namespace std::chrono_literals;

namespace {

void logger() {
  std::printf("logger: started, pid %d\n", static_cast<int>(getpid()));
  std::fflush(stdout);
  for (long tick = 1;; ++tick) {
    sleep(1);
    std::printf("logger: tick %ld\n", tick);
    std::fflush(stdout);
  }
}

void watcher(mp::GroupStop group, std::string path) {
  std::printf("watcher: started, pid %d, waiting for %s\n", static_cast<int>(getpid()),
              path.c_str());
  std::fflush(stdout);
  while (access(path.c_str(), F_OK) != 0) usleep(50'000);  // a file appears: poll it
  std::printf("watcher: %s appeared, asking everyone to stop\n", path.c_str());
  std::fflush(stdout);
  group.request(path + " appeared");
  pause();  // the supervisor stops us with the others
}

}  // namespace

int main(int argc, char** argv) {
  mp::init(argc, argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <file> [--restart]\n", argv[0]);
    return 2;
  }
  bool restart = argc > 2 && std::strcmp(argv[2], "--restart") == 0;
  mp::SignalBridge bridge;  // SIGINT, SIGTERM, SIGHUP become a stop request

  mp::ChildOptions subtask{.shutdown_timeout = 2s};
  if (restart) {
    subtask.restart = mp::Restart::permanent;
  } else {
    subtask.restart = mp::Restart::temporary;
    subtask.significant = true;
  }
  mp::Supervisor sup(
      {.strategy = mp::Strategy::one_for_one,
       .max_restarts = 5,
       .period = 10s,
       .auto_shutdown = restart ? mp::AutoShutdown::never : mp::AutoShutdown::any_significant});
  sup.add(mp::ChildSpec::function("logger", subtask, logger));
  sup.add(
      mp::ChildSpec::function("watcher", subtask, watcher, sup.group_stop(), std::string(argv[1])));
  std::printf("supervisor: pid %d, running (%s)\n", static_cast<int>(getpid()),
              restart ? "subtasks restart" : "a subtask's end stops all");
  std::fflush(stdout);

  mp::SupervisorReport report = sup.run(bridge.token());
  std::cout << report << std::flush;
  return report.exit_code();
}
