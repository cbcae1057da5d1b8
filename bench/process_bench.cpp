// Process start+join latency (fork method) beside the floor: a bare
// fork() + _exit(0) + waitpid() in the same run. `make bench` prints both
// and their ratio; the target is at most 1.5x the floor.
#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>
#include <multiproc/multiproc.hpp>

#include <cstdio>
#include <map>
#include <string>

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

// Prints the ratio of each multiproc figure to its floor after the run.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      times_[r.run_name.function_name] = r.GetAdjustedRealTime();
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    auto floor = times_.find("BM_BareForkWaitpid");
    auto ours = times_.find("BM_ProcessStartJoin");
    if (floor != times_.end() && ours != times_.end()) {
      std::printf("Process start+join / bare fork+waitpid = %.2fx (target <= 1.5x)\n",
                  ours->second / floor->second);
    }
  }

 private:
  std::map<std::string, double> times_;
};

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
}
