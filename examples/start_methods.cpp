// The same task started with each start method: fork, spawn and forkserver.
// Prints, per method, the child's PID, what it computed and the start+join
// time (the median of a few runs).
//
//   $ ./build/examples/start_methods
//   fork:       child pid 4242 sent 'sum of 1..1000 = 500500', start+join 0.41 ms
//   ...
#include <multiproc/multiproc.hpp>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace mp = multiproc;

// The task: a plain function, so that every method can send it. Its arguments
// are a value and a Queue (which crosses as descriptors).
void sum_up_to(int n, mp::Queue<std::string> results) {
  long sum = 0;
  for (int i = 1; i <= n; ++i) sum += i;
  results.put("pid " + std::to_string(::getpid()) +
              " sent 'sum of 1..1000 = " + std::to_string(sum) + "'");
}

int noop() {
  return 0;
}

double start_join_ms(const mp::Context& ctx) {
  std::vector<double> runs;
  for (int i = 0; i < 9; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    mp::Process p = ctx.Process(noop);
    p.start();
    p.join();
    runs.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

int main(int argc, char** argv) {
  // First statement: in a spawned child, init runs the child's task and exits.
  // forkserver = true forks the zygote now, while this process has one thread.
  mp::init(argc, argv, {.forkserver = true});

  mp::Queue<std::string> results;
  for (auto method : {mp::StartMethod::fork, mp::StartMethod::spawn, mp::StartMethod::forkserver}) {
    mp::Context ctx = mp::get_context(method);
    mp::Process p = ctx.Process(sum_up_to, 1000, results);
    p.start();
    p.join();
    std::string said = results.get();
    std::printf("%-11s child %s, exit code %d, start+join %.2f ms\n",
                (std::string(mp::to_string(method)) + ":").c_str(), said.c_str(), *p.exitcode(),
                start_join_ms(ctx));
  }
  return 0;
}
