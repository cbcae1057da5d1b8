"""Python's multiprocessing synchronisation objects, measured the way
bench/sync_bench measures multiproc's, for the side-by-side in `make bench`:

  lock_acquire_release   uncontended multiprocessing.Lock acquire()+release()
  event_ping_pong        set->wake round trip between two processes (two Events)
  semaphore_hand_off     release->acquire round trip between two processes

Prints the median of the repetitions, per operation (or JSON: see
benchjson.py). Given the JSON that
`sync_bench --benchmark_out=...` wrote, it also prints multiproc's medians
beside Python's and the ratios."""
import json
import multiprocessing as mp
import statistics
import time

import benchjson


def per_op(fn, n, reps):
    runs = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn(n)
        runs.append((time.perf_counter() - t0) / n)
    return runs


def lock_acquire_release(n):
    lock = LOCK
    for _ in range(n):
        lock.acquire()
        lock.release()


def event_echo(ping, pong, stop):
    while True:
        ping.wait()
        ping.clear()
        if stop.is_set():
            return
        pong.set()


def semaphore_echo(ping, pong, stop):
    while True:
        ping.acquire()
        if stop.is_set():
            return
        pong.release()


def round_trips(echo, make, send, receive):
    def run(n):
        ping, pong, stop = make(), make(), mp.Event()
        p = mp.Process(target=echo, args=(ping, pong, stop))
        p.start()
        t0 = time.perf_counter()
        for _ in range(n):
            send(ping)
            receive(pong)
        elapsed = time.perf_counter() - t0
        stop.set()
        send(ping)
        p.join()
        return elapsed
    return run


def round_trip_runs(run, n, reps):
    return [run(n) / n for _ in range(reps)]


def event_receive(e):
    e.wait()
    e.clear()


def main():
    p = benchjson.parser(__doc__)
    p.add_argument("positional", nargs="*", metavar="N | SYNC_JSON",
                   help="lock iterations per repetition (default 200000; 50000 with --quick);"
                        " the JSON written by sync_bench --benchmark_out (prints the side-by-side)")
    args = p.parse_args()
    args.n = next((int(a) for a in args.positional if a.isdigit()), None)
    args.sync_json = next((a for a in args.positional if a.endswith(".json")), None)
    reps = benchjson.repetitions(args)
    mp.set_start_method("fork")
    n_lock = args.n or (50_000 if args.quick else 200_000)
    n_trip = max(n_lock // 20, 1000)
    global LOCK
    LOCK = mp.Lock()
    out = benchjson.Results(args)
    out.add("lock_acquire_release", "s", per_op(lock_acquire_release, n_lock, reps))
    out.add("event_ping_pong", "s", round_trip_runs(
        round_trips(event_echo, mp.Event, lambda e: e.set(), event_receive), n_trip, reps))
    out.add("semaphore_hand_off", "s", round_trip_runs(
        round_trips(semaphore_echo, lambda: mp.Semaphore(0), lambda s: s.release(),
                    lambda s: s.acquire()), n_trip, reps))
    out.finish()
    if args.sync_json:
        compare({r["key"]: statistics.median(r["values"]) for r in out.items}, args.sync_json)


def compare(python, json_path):
    with open(json_path) as f:
        runs = json.load(f)["benchmarks"]
    medians = {b["run_name"]: b["real_time"] for b in runs
               if b.get("aggregate_name", "median") == "median"}
    pairs = (("lock_acquire_release", "BM_LockAcquireRelease", "(target >= 20x)"),
             ("event_ping_pong", "BM_EventPingPong/real_time", ""),
             ("semaphore_hand_off", "BM_SemaphoreHandOff/real_time", ""))
    floor = medians.get("BM_BareFutexPingPong/real_time")
    print()
    print(f"{'operation':24s} {'multiproc':>12s} {'python':>12s} {'python/multiproc':>17s}")
    for py_name, cc_name, target in pairs:
        if cc_name not in medians:
            continue
        ours, theirs = medians[cc_name], python[py_name] * 1e9
        print(f"{py_name:24s} {ours:10.1f} ns {theirs:10.0f} ns {theirs / ours:15.1f}x {target}")
    if floor:
        print(f"{'bare futex ping-pong':24s} {floor:10.1f} ns  (the floor of the round trips)")


LOCK = None

if __name__ == "__main__":
    main()
