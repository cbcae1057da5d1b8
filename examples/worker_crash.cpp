// A map in which one task segfaults, one aborts, one runs past the task
// timeout and one throws. Python's Pool hangs forever on the first two; here
// every other result arrives, each failure says what happened, and the pool
// goes on.
#include <multiproc/multiproc.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

namespace mp = multiproc;
using namespace std::chrono_literals;

int risky(int x) {
  switch (x) {
    case 3:
      std::raise(SIGSEGV);  // a crash
      break;
    case 5:
      std::abort();
    case 7:
      std::this_thread::sleep_for(1h);  // never returns in time
      break;
    case 9:
      throw std::runtime_error("nine is not allowed");
    default:
      break;
  }
  return x * x;
}

int main(int argc, char** argv) {
  mp::init(argc, argv);
  mp::Pool pool({.processes = 2, .task_timeout = 2s});
  std::vector<int> inputs{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  auto outcomes = pool.map_outcomes(risky, inputs);
  int ok = 0;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (outcomes[i].ok()) {
      ++ok;
      std::printf("risky(%d) = %d\n", inputs[i], outcomes[i].value());
    } else {
      std::printf("risky(%d) failed: %s\n", inputs[i], outcomes[i].describe().c_str());
    }
  }
  std::printf("%d of %zu results arrived; the pool still works: risky(12) = %d\n", ok,
              outcomes.size(), pool.apply(risky, 12));
  pool.close();
  pool.join();
  return 0;
}
