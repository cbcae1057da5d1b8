// Queue and Connection throughput and latency, beside their floors in the
// same run: a bare socketpair ping-pong (C-level read/write) and memcpy.
// The Python side is bench/python/ipc_bench.py; `make bench` runs both.
#include <benchmark/benchmark.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <multiproc/multiproc.hpp>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ratio_reporter.hpp"

namespace mp = multiproc;

// Latency figures depend on whether the two processes share a core (a
// context switch) or not (a cross-CPU wake-up, costly in a VM). Both sides of
// both round-trip benchmarks are pinned the same way: this process on CPU 0,
// the peer on CPU 1 (when the machine has two).
static void pin_to_cpu(int cpu) {
  if (cpu >= static_cast<int>(std::thread::hardware_concurrency())) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<unsigned>(cpu), &set);
  sched_setaffinity(0, sizeof set, &set);
}

// Restores this process's CPU mask when a benchmark ends.
struct PinGuard {
  cpu_set_t old;
  PinGuard() {
    sched_getaffinity(0, sizeof old, &old);
    pin_to_cpu(0);
  }
  ~PinGuard() { sched_setaffinity(0, sizeof old, &old); }
};

// One-byte round trip through a Connection (send_bytes / recv_bytes_into).
static void BM_ConnectionRoundTrip(benchmark::State& state) {
  PinGuard pin;
  auto [mine, theirs] = mp::Pipe();
  mp::Process echo(
      [](mp::Connection& c) {
        pin_to_cpu(1);
        std::byte b[1];
        try {
          for (;;) {
            c.recv_bytes_into(b);
            c.send_bytes(std::span<const std::byte>(b, 1));
          }
        } catch (const mp::EOFError&) {
        }
      },
      std::move(theirs));
  echo.start();
  std::byte b[1] = {std::byte{1}};
  for (auto _ : state) {
    mine.send_bytes(std::span<const std::byte>(b, 1));
    mine.recv_bytes_into(b);
  }
  mine.close();
  echo.join();
}
BENCHMARK(BM_ConnectionRoundTrip)->UseRealTime();

// The floor: one byte each way over a bare socketpair.
static void BM_SocketpairPingPong(benchmark::State& state) {
  PinGuard pin;
  int fds[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
  pid_t pid = fork();
  if (pid == 0) {
    pin_to_cpu(1);
    close(fds[0]);
    char c;
    while (read(fds[1], &c, 1) == 1) (void)!write(fds[1], &c, 1);
    _exit(0);
  }
  close(fds[1]);
  char c = 1;
  for (auto _ : state) {
    (void)!write(fds[0], &c, 1);
    (void)!read(fds[0], &c, 1);
  }
  close(fds[0]);
  waitpid(pid, nullptr, 0);
}
BENCHMARK(BM_SocketpairPingPong)->UseRealTime();

// Items of `size` bytes from a producer process to this one.
static void queue_throughput(benchmark::State& state, std::size_t size) {
  mp::Queue<std::string> q;
  auto n = static_cast<long>(state.max_iterations);
  mp::Process producer(
      [](mp::Queue<std::string> qq, long count, std::size_t bytes) {
        std::string item(bytes, 'x');
        for (long i = 0; i < count; ++i) qq.put(item);
      },
      q, n, size);
  producer.start();
  for (auto _ : state) benchmark::DoNotOptimize(q.get());
  producer.join();
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<long>(size));
}

static void BM_Queue64B(benchmark::State& state) {
  queue_throughput(state, 64);
}
static void BM_Queue1MiB(benchmark::State& state) {
  queue_throughput(state, 1 << 20);
}
static void BM_Queue64MiB(benchmark::State& state) {
  queue_throughput(state, 64 << 20);
}
BENCHMARK(BM_Queue64B)->UseRealTime();
BENCHMARK(BM_Queue1MiB)->UseRealTime();
BENCHMARK(BM_Queue64MiB)->UseRealTime()->Iterations(20);

// The floor for large items: one memcpy of the same size.
static void memcpy_floor(benchmark::State& state, std::size_t size) {
  std::vector<char> src(size, 'x'), dst(size);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), size);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<long>(size));
}
static void BM_Memcpy1MiB(benchmark::State& state) {
  memcpy_floor(state, 1 << 20);
}
static void BM_Memcpy64MiB(benchmark::State& state) {
  memcpy_floor(state, 64 << 20);
}
BENCHMARK(BM_Memcpy1MiB)->UseRealTime();
BENCHMARK(BM_Memcpy64MiB)->UseRealTime();

int main(int argc, char** argv) {
  return multiproc::bench::run_with_ratios(
      argc, argv,
      {{"BM_ConnectionRoundTrip", "BM_SocketpairPingPong", "<= 1.2x"},
       {"BM_Queue1MiB", "BM_Memcpy1MiB", "(informative)"},
       {"BM_Queue64MiB", "BM_Memcpy64MiB", "(informative)"}});
}
