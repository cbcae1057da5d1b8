// Process start+join latency per start method beside the floor: a bare
// fork() + _exit(0) + waitpid() in the same run. Targets: fork at most 1.5x
// the floor; forkserver at most 0.5 ms; spawn at most 3 ms.
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

static int noop() {
  return 0;
}

// spawn and forkserver need a function (not a lambda object with state).
static void start_join_with(benchmark::State& state, mp::StartMethod method) {
  mp::Context ctx = mp::get_context(method);
  for (auto _ : state) {
    mp::Process p = ctx.Process(noop);
    p.start();
    p.join();
    benchmark::DoNotOptimize(p.exitcode());
  }
}
BENCHMARK_CAPTURE(start_join_with, forkserver, mp::StartMethod::forkserver)
    ->Name("BM_ProcessStartJoin/forkserver")
    ->UseRealTime();
BENCHMARK_CAPTURE(start_join_with, spawn, mp::StartMethod::spawn)
    ->Name("BM_ProcessStartJoin/spawn")
    ->UseRealTime();

int main(int argc, char** argv) {
  // A spawned child runs its task inside init and exits; the forkserver's
  // zygote is forked now, while the process has one thread.
  mp::init(argc, argv, {.forkserver = true});
  return multiproc::bench::run_with_ratios(
      argc, argv, {{"BM_ProcessStartJoin", "BM_BareForkWaitpid", "<= 1.5x"}});
}
