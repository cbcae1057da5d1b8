/* The floor for a wake-up round trip between two processes: a bare futex
   ping-pong over MAP_SHARED memory, written as C (raw syscall(SYS_futex),
   fork, waitpid; no library code), so that Event and Semaphore are measured
   against what the kernel itself costs. */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

struct FutexPingPong;

/* Forks the echoing process. Each side spins up to `spin_ns` nanoseconds
   for the other's answer before it sleeps (0: sleeps at once). */
struct FutexPingPong* futex_pingpong_start(long spin_ns);
/* One round trip: wakes the echo, sleeps until it answers. */
void futex_pingpong_round_trip(struct FutexPingPong* pp);
/* Ends the echo, reaps it, unmaps the memory. */
void futex_pingpong_stop(struct FutexPingPong* pp);

#ifdef __cplusplus
}
#endif
