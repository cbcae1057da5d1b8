// Process start+join latency (fork method) beside the floor: a bare
// fork() + _exit(0) + waitpid() in the same run. `make bench` prints both
// and their ratio; the target is at most 1.5x the floor.
#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <multiproc/multiproc.hpp>
#include "ratio_reporter.hpp"

namespace mp = multiproc;

static void BM_BareForkWaitpid(benchmark::State& state) {
  for (auto _ : state) {
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    int status = 0;
    waitpid(pid, &status, 0);
    benchmark::DoNotOptimize(status);
  }
}
BENCHMARK(BM_BareForkWaitpid)->UseRealTime();

static void BM_ProcessStartJoin(benchmark::State& state) {
  for (auto _ : state) {
    mp::Process p([] {});
    p.start();
    p.join();
    benchmark::DoNotOptimize(p.exitcode());
  }
}
BENCHMARK(BM_ProcessStartJoin)->UseRealTime();

int main(int argc, char** argv) {
  return multiproc::bench::run_with_ratios(
      argc, argv, {{"BM_ProcessStartJoin", "BM_BareForkWaitpid", "<= 1.5x"}});
}
