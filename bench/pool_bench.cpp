// Pool throughput and latency, on the workloads bench/python/pool_bench.py
// runs with Python's multiprocessing.Pool (fork start method, 2 workers on
// this machine unless said otherwise). `make bench` prints them side by side.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <multiproc/multiproc.hpp>
#include <string>
#include <vector>

namespace mp = multiproc;

namespace {

constexpr int kMapTasks = 200'000;

int trivial(int x) {
  return x + 1;
}

// A fixed amount of CPU work (not a wall-clock wait, which would "scale"
// even on one CPU): `rounds` rounds of an LCG.
long spin_work(long rounds) {
  std::uint64_t x = static_cast<std::uint64_t>(rounds);  // unsigned: wraps by definition
  for (long i = 0; i < rounds; ++i) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  return static_cast<long>(x >> 1);
}

// Rounds that take about 20 ms here, measured once.
long rounds_for_20ms() {
  static const long rounds = [] {
    long r = 1'000'000;
    for (;;) {
      auto t0 = std::chrono::steady_clock::now();
      benchmark::DoNotOptimize(spin_work(r));
      auto took = std::chrono::steady_clock::now() - t0;
      if (took > std::chrono::milliseconds(5)) {
        return static_cast<long>(static_cast<double>(r) * 0.020 /
                                 std::chrono::duration<double>(took).count());
      }
      r *= 4;
    }
  }();
  return rounds;
}

// First: a pool's creation forks this process, which costs more once the
// later benchmarks have grown its heap (Python measures it in a fresh
// interpreter too).
void BM_PoolCreateTeardown(benchmark::State& state) {
  for (auto _ : state) {
    mp::Pool pool;
    pool.close();
    pool.join();
  }
}
BENCHMARK(BM_PoolCreateTeardown)->UseRealTime()->Unit(benchmark::kMicrosecond);

// The same without containment (docs/containment.md): the floor of the
// "contained vs not" rows, which hold containment to 1.3x (issue 17).
void BM_PoolCreateTeardownUncontained(benchmark::State& state) {
  for (auto _ : state) {
    mp::Pool pool({.contain = false});
    pool.close();
    pool.join();
  }
}
BENCHMARK(BM_PoolCreateTeardownUncontained)->UseRealTime()->Unit(benchmark::kMicrosecond);

// One task per iteration on workers that retire after each task: every
// iteration replaces a worker (through the forkserver, or the pool's zygote).
void worker_replacement(benchmark::State& state, bool contain) {
  mp::Pool pool({.processes = 2, .maxtasksperchild = 1, .contain = contain});
  for (auto _ : state) benchmark::DoNotOptimize(pool.apply(trivial, 1));
}
void BM_PoolWorkerReplacement(benchmark::State& state) {
  worker_replacement(state, true);
}
void BM_PoolWorkerReplacementUncontained(benchmark::State& state) {
  worker_replacement(state, false);
}
BENCHMARK(BM_PoolWorkerReplacement)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PoolWorkerReplacementUncontained)->UseRealTime()->Unit(benchmark::kMicrosecond);

void map_tasks(benchmark::State& state, std::size_t chunksize) {
  mp::Pool pool;
  for (auto _ : state) {
    auto v = pool.map(trivial, mp::range(0, kMapTasks), {.chunksize = chunksize});
    benchmark::DoNotOptimize(v.data());
  }
  state.SetItemsProcessed(state.iterations() * kMapTasks);
}

void BM_PoolMap_chunksize1(benchmark::State& state) {
  map_tasks(state, 1);
}
void BM_PoolMap_auto(benchmark::State& state) {
  map_tasks(state, 0);
}
BENCHMARK(BM_PoolMap_chunksize1)
    ->Name("BM_PoolMap/chunksize1")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PoolMap_auto)->Name("BM_PoolMap/auto")->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_PoolApplyRoundTrip(benchmark::State& state) {
  mp::Pool pool;
  int i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(pool.apply_async(trivial, ++i).get());
}
BENCHMARK(BM_PoolApplyRoundTrip)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_PoolImapUnordered_chunksize1(benchmark::State& state) {
  mp::Pool pool;
  constexpr int n = 100'000;
  for (auto _ : state) {
    long sum = 0;
    for (int y : pool.imap_unordered(trivial, mp::range(0, n), {.chunksize = 1})) sum += y;
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_PoolImapUnordered_chunksize1)
    ->Name("BM_PoolImapUnordered/chunksize1")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_PoolCpuScaling(benchmark::State& state) {
  mp::Pool pool({.processes = static_cast<std::size_t>(state.range(0))});
  for (auto _ : state) {
    auto v = pool.map(spin_work, std::vector<long>(64, rounds_for_20ms()), {.chunksize = 1});
    benchmark::DoNotOptimize(v.data());
  }
}
BENCHMARK(BM_PoolCpuScaling)
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// Private memory (USS) of an idle worker, from /proc/<pid>/smaps_rollup.
std::size_t private_bytes(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/smaps_rollup", static_cast<int>(pid));
  FILE* f = std::fopen(path, "re");
  if (f == nullptr) return 0;
  char line[256];
  std::size_t total = 0;
  unsigned long kib = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "Private_Clean: %lu kB", &kib) == 1 ||
        std::sscanf(line, "Private_Dirty: %lu kB", &kib) == 1) {
      total += kib << 10;
    }
  }
  std::fclose(f);
  return total;
}

void BM_PoolIdleWorkerUss(benchmark::State& state) {
  mp::Pool pool;
  (void)pool.map(trivial, mp::range(0, 1000));  // warm: each worker ran tasks
  double uss = 0;
  for (auto _ : state) {
    uss = 0;
    for (pid_t pid : pool.worker_pids()) uss += static_cast<double>(private_bytes(pid));
    uss /= static_cast<double>(pool.worker_pids().size());
  }
  state.counters["uss_bytes"] = uss;
}
BENCHMARK(BM_PoolIdleWorkerUss)->Iterations(1);

}  // namespace

int main(int argc, char** argv) {
  mp::init(argc, argv, {.forkserver = true});
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
