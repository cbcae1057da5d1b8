// Google Benchmark reporter that prints, after the usual table, the ratio of
// each multiproc benchmark to its floor measured in the same run.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace multiproc::bench {

struct Comparison {
  std::string ours;
  std::string floor;
  std::string target;  // e.g. "<= 1.5x"
};

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  explicit RatioReporter(std::vector<Comparison> comparisons)
      : comparisons_(std::move(comparisons)) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      times_[r.run_name.function_name] = r.GetAdjustedRealTime();
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    for (const Comparison& c : comparisons_) {
      auto ours = times_.find(c.ours);
      auto floor = times_.find(c.floor);
      if (ours == times_.end() || floor == times_.end()) continue;
      std::printf("%s / %s = %.2fx (target %s)\n", c.ours.c_str(), c.floor.c_str(),
                  ours->second / floor->second, c.target.c_str());
    }
  }

 private:
  std::vector<Comparison> comparisons_;
  std::map<std::string, double> times_;
};

inline int run_with_ratios(int argc, char** argv, std::vector<Comparison> comparisons) {
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter(std::move(comparisons));
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

}  // namespace multiproc::bench
