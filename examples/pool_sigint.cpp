// Ctrl-C and a Pool, done right. Python's version of this program
//
//   def worker(x): time.sleep(3); return x * x
//   with Pool(10) as p: print(p.map_async(worker, range(10)).get())
//
// prints one KeyboardInterrupt traceback per worker on Ctrl-C, and may hang on
// the second. Here: pool workers ignore SIGINT (the terminal sends it to the
// whole foreground process group; the parent decides), the signal bridge
// turns the parent's SIGINT into a stop request, the wait throws Interrupted,
// the pool is terminated, and the program exits 130 with one line on stderr.
// A second Ctrl-C while it shuts down kills every child and exits at once.
#include <multiproc/multiproc.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace mp = multiproc;

int worker(int x) {
  std::this_thread::sleep_for(std::chrono::seconds(3));
  return x * x;
}

int main(int argc, char** argv) {
  mp::init(argc, argv);
  mp::SignalBridge bridge;  // SIGINT, SIGTERM, SIGHUP
  mp::Pool pool({.processes = 10});
  auto result = pool.map_async(worker, mp::range(10));
  std::printf("10 tasks of 3 s on 10 workers; press Ctrl-C to stop\n");
  std::fflush(stdout);
  try {
    std::vector<int> squares = result.get(bridge.token());
    for (int s : squares) std::printf("%d ", s);
    std::printf("\n");
    return 0;
  } catch (const mp::Interrupted&) {
    pool.terminate();           // the destructor would too; bounded either way
    return bridge.exit_code();  // 130 after Ctrl-C
  }
}
