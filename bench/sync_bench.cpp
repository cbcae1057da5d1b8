// Synchronisation objects beside their floors, in the same run:
//   - uncontended Lock acquire+release beside a bare pthread mutex (the
//     process-private default one, and the robust shared one Lock is built on);
//   - Event set->wake round trip between two processes (ping-pong with two
//     Events) and Semaphore hand-off round trip, beside a bare futex
//     ping-pong between two processes, written in C with syscall(SYS_futex)
//     on shared memory (bench/futex_floor.c); each also without multiproc's
//     spin before sleeping (the futex path alone), and the floor also with
//     the same spin;
//   - Event::set() with nobody waiting, beside the futex wake it avoids.
// `make bench` runs it with repetitions, prints the ratios, and writes JSON
// that bench/python/sync_bench.py reads to put Python's figures beside these.
#include <benchmark/benchmark.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <multiproc/multiproc.hpp>

#include <atomic>
#include <cstdio>
#include <map>
#include <string>

#include "futex_floor.h"
#include "sys/spin.hpp"

#include "ratio_reporter.hpp"

namespace mp = multiproc;

// ---- Uncontended locks ----------------------------------------------------

static void BM_PthreadMutexDefault(benchmark::State& state) {
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  for (auto _ : state) {
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
  }
  benchmark::DoNotOptimize(&m);
}
BENCHMARK(BM_PthreadMutexDefault);

static void BM_PthreadMutexRobustShared(benchmark::State& state) {
  mp::SharedMemory shm(sizeof(pthread_mutex_t));
  auto* m = reinterpret_cast<pthread_mutex_t*>(shm.buf().data());
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_init(m, &attr);
  for (auto _ : state) {
    pthread_mutex_lock(m);
    pthread_mutex_unlock(m);
  }
}
BENCHMARK(BM_PthreadMutexRobustShared);

static void BM_LockAcquireRelease(benchmark::State& state) {
  mp::Lock lock;
  for (auto _ : state) {
    (void)lock.acquire();
    lock.release();
  }
}
BENCHMARK(BM_LockAcquireRelease);

static void BM_LockGuard(benchmark::State& state) {
  mp::Lock lock;
  for (auto _ : state) {
    std::lock_guard guard(lock);
  }
}
BENCHMARK(BM_LockGuard);

static void BM_RLockAcquireRelease(benchmark::State& state) {
  mp::RLock lock;
  for (auto _ : state) {
    (void)lock.acquire();
    lock.release();
  }
}
BENCHMARK(BM_RLockAcquireRelease);

// ---- Event::set with nobody waiting ------------------------------------------

static void BM_EventSetClearNoWaiter(benchmark::State& state) {
  mp::Event e;
  for (auto _ : state) {
    e.set();
    e.clear();
  }
}
BENCHMARK(BM_EventSetClearNoWaiter);

// What each set() would cost without the sleeper count: a futex wake.
static void BM_FutexWakeNobody(benchmark::State& state) {
  std::uint32_t word = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(syscall(SYS_futex, &word, FUTEX_WAKE, INT32_MAX, nullptr, nullptr, 0));
  }
}
BENCHMARK(BM_FutexWakeNobody);

// ---- Round trips between two processes -----------------------------------

// The floor: sleeps on the futex at once, as the target defines it.
static void BM_BareFutexPingPong(benchmark::State& state) {
  FutexPingPong* pp = futex_pingpong_start(0);
  for (auto _ : state) futex_pingpong_round_trip(pp);
  futex_pingpong_stop(pp);
}
BENCHMARK(BM_BareFutexPingPong)->UseRealTime();

// The same with multiproc's spin (2 us) before sleeping: the floor of the
// design Event and Semaphore use.
static void BM_BareFutexSpinPingPong(benchmark::State& state) {
  FutexPingPong* pp = futex_pingpong_start(2000);
  for (auto _ : state) futex_pingpong_round_trip(pp);
  futex_pingpong_stop(pp);
}
BENCHMARK(BM_BareFutexSpinPingPong)->UseRealTime();

// Round trips through two Events: set -> the other side's wait returns.
static void event_ping_pong(benchmark::State& state) {
  mp::Event ping, pong, stop;
  mp::Process echo(
      [](mp::Event in, mp::Event out, mp::Event s) {
        for (;;) {
          in.wait();
          in.clear();
          if (s.is_set()) return;
          out.set();
        }
      },
      ping, pong, stop);
  echo.start();
  for (auto _ : state) {
    ping.set();
    pong.wait();
    pong.clear();
  }
  stop.set();
  ping.set();
  echo.join();
}

// Round trips through two Semaphores: release -> the other side's acquire returns.
static void semaphore_hand_off(benchmark::State& state) {
  mp::Semaphore ping(0), pong(0);
  mp::Event stop;
  mp::Process echo(
      [](mp::Semaphore in, mp::Semaphore out, mp::Event s) {
        for (;;) {
          in.acquire();
          if (s.is_set()) return;
          out.release();
        }
      },
      ping, pong, stop);
  echo.start();
  for (auto _ : state) {
    ping.release();
    pong.acquire();
  }
  stop.set();
  ping.release();
  echo.join();
}

// As shipped: a 2 us spin, then the futex.
static void BM_EventPingPong(benchmark::State& state) {
  event_ping_pong(state);
}
BENCHMARK(BM_EventPingPong)->UseRealTime();
static void BM_SemaphoreHandOff(benchmark::State& state) {
  semaphore_hand_off(state);
}
BENCHMARK(BM_SemaphoreHandOff)->UseRealTime();

// The futex path alone (spin budget 0, inherited by the echo): what the
// objects add to the bare futex ping-pong.
template <void (*Body)(benchmark::State&)>
static void without_spin(benchmark::State& state) {
  multiproc::sys::set_spin_budget(std::chrono::nanoseconds(0));
  Body(state);
  multiproc::sys::set_spin_budget(multiproc::sys::kSpinBudget);
}
static void BM_EventPingPongNoSpin(benchmark::State& state) {
  without_spin<event_ping_pong>(state);
}
BENCHMARK(BM_EventPingPongNoSpin)->UseRealTime();
static void BM_SemaphoreHandOffNoSpin(benchmark::State& state) {
  without_spin<semaphore_hand_off>(state);
}
BENCHMARK(BM_SemaphoreHandOffNoSpin)->UseRealTime();

int main(int argc, char** argv) {
  return multiproc::bench::run_with_ratios(
      argc, argv,
      {{"BM_EventPingPong", "BM_BareFutexPingPong", "<= 1.2x"},
       {"BM_EventPingPongNoSpin", "BM_BareFutexPingPong", "(the futex path alone)"},
       {"BM_EventPingPong", "BM_BareFutexSpinPingPong", "(the same spin on both sides)"},
       {"BM_SemaphoreHandOff", "BM_BareFutexPingPong", "(informative)"},
       {"BM_SemaphoreHandOffNoSpin", "BM_BareFutexPingPong", "(the futex path alone)"},
       {"BM_LockAcquireRelease", "BM_PthreadMutexRobustShared", "(informative)"},
       {"BM_EventSetClearNoWaiter", "BM_FutexWakeNobody", "(informative)"}});
}
