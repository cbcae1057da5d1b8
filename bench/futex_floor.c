/* Plain C on purpose (see futex_floor.h): the floor owes nothing to the
   library it is compared with. */
#define _GNU_SOURCE
#include "futex_floor.h"

#include <linux/futex.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STOP UINT32_MAX

struct FutexPingPong {
  uint32_t ping; /* round number sent to the echo */
  uint32_t pong; /* round number it answered */
  pid_t echo;
  long spin_ns;
};

static void futex_wait(uint32_t* word, uint32_t expected) {
  syscall(SYS_futex, word, FUTEX_WAIT, expected, NULL, NULL, 0);
}

static void futex_wake(uint32_t* word) {
  syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
}

static long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* Spins up to `spin_ns` while *word is `old`, as multiproc does. */
static void spin(uint32_t* word, uint32_t old, long spin_ns) {
  if (spin_ns <= 0) return;
  long end = now_ns() + spin_ns;
  do {
    for (int i = 0; i < 8; ++i) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != old) return;
    }
  } while (now_ns() < end);
}

/* Sleeps until *word is no longer `old`; returns the new value. */
static uint32_t wait_change(uint32_t* word, uint32_t old, long spin_ns) {
  uint32_t v;
  spin(word, old, spin_ns);
  while ((v = __atomic_load_n(word, __ATOMIC_ACQUIRE)) == old) futex_wait(word, old);
  return v;
}

static void post(uint32_t* word, uint32_t value) {
  __atomic_store_n(word, value, __ATOMIC_RELEASE);
  futex_wake(word);
}

static void run_echo(struct FutexPingPong* pp) {
  uint32_t seen = 0;
  for (;;) {
    seen = wait_change(&pp->ping, seen, pp->spin_ns);
    if (seen == STOP) _exit(0);
    post(&pp->pong, seen);
  }
}

struct FutexPingPong* futex_pingpong_start(long spin_ns) {
  void* mem = mmap(NULL, sizeof(struct FutexPingPong), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) abort();
  struct FutexPingPong* pp = (struct FutexPingPong*)mem;
  pp->spin_ns = spin_ns;
  pp->echo = fork();
  if (pp->echo == 0) run_echo(pp);
  return pp;
}

void futex_pingpong_round_trip(struct FutexPingPong* pp) {
  uint32_t round = pp->ping + 1;
  post(&pp->ping, round);
  while (wait_change(&pp->pong, round - 1, pp->spin_ns) != round) {
  }
}

void futex_pingpong_stop(struct FutexPingPong* pp) {
  post(&pp->ping, STOP);
  waitpid(pp->echo, NULL, 0);
  munmap(pp, sizeof(struct FutexPingPong));
}
