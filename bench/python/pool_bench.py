"""Process pools of Python: the standard library's multiprocessing.Pool (fork
start method), and as extra peers, where they have the operation, joblib
(its default loky backend), billiard (Celery's fork of multiprocessing) and
pebble's ProcessPool. Two workers each (this machine's cores). Workloads,
each the equivalent of a case of the C++ pool benchmark:

  pool_map_chunksize1   map() of a trivial function over 200,000 items,
                        chunksize 1 (tasks/s)
  pool_map_auto         the same with the automatic chunksize (tasks/s)
  pool_apply_async      apply_async(f) -> get() round trip (seconds)
  pool_imap_unordered_chunksize1
                        imap_unordered, chunksize 1, 200,000 items (tasks/s)
  pool_cpu_scaling      64 CPU-bound tasks of ~20 ms: time with 1 worker /
                        time with 2 workers (x)
  pool_create_teardown  create a pool of 2 workers, close and join (seconds)
  pool_idle_worker_uss  private memory (USS: Private_Clean + Private_Dirty of
                        /proc/<pid>/smaps_rollup) of an idle worker (bytes)

The pools of the throughput and round-trip workloads are created, and warmed
up, before the timing starts. Prints the median of the repetitions (or JSON:
see benchjson.py). --quick: fewer items and tasks, fewer peers on the slow
workloads."""
import faulthandler
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import time

import benchjson

WORKERS = 2


def trivial(x):
    return x


SPIN = 0  # loop iterations of ~20 ms, calibrated in the parent before forking


def cpu_task(_):
    n = SPIN
    acc = 0
    for i in range(n):
        acc += i
    return acc


def calibrate(target_s=0.020):
    global SPIN
    n = 100_000
    while True:
        SPIN = n
        t0 = time.perf_counter()
        cpu_task(0)
        elapsed = time.perf_counter() - t0
        if elapsed > 0.005:
            SPIN = int(n * target_s / elapsed)
            return
        n *= 2


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def uss_bytes(pid):
    total = 0
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1]) * 1024
    return total


# ---- the libraries, behind one small interface ------------------------------

class StdPool:
    """multiprocessing.Pool, and billiard.Pool (the same API)."""

    def __init__(self, module, workers):
        self.pool = module.Pool(workers)

    def map(self, items, chunksize):
        return self.pool.map(trivial, items, chunksize=chunksize)

    def imap_unordered(self, items, chunksize):
        for _ in self.pool.imap_unordered(trivial, items, chunksize=chunksize):
            pass

    def apply(self):
        return self.pool.apply_async(trivial, (1,)).get()

    def cpu(self, tasks):
        return self.pool.map(cpu_task, range(tasks), chunksize=1)

    def worker_pids(self):
        return [p.pid for p in self.pool._pool]

    def close(self):
        self.pool.close()
        self.pool.join()

    def discard(self):
        # Not timed. (billiard's join after close waits ~30 s once tasks ran.)
        self.pool.terminate()
        self.pool.join()


class PebblePool:
    def __init__(self, workers):
        import pebble
        self.pool = pebble.ProcessPool(max_workers=workers)

    def map(self, items, chunksize):
        return list(self.pool.map(trivial, items, chunksize=chunksize or 1).result())

    def apply(self):
        return self.pool.schedule(trivial, (1,)).result()

    def cpu(self, tasks):
        return list(self.pool.map(cpu_task, range(tasks), chunksize=1).result())

    def worker_pids(self):
        return list(self.pool._pool_manager.worker_manager.workers.keys())

    def close(self):
        self.pool.close()
        self.pool.join()

    def discard(self):
        self.pool.stop()
        self.pool.join()


class JoblibPool:
    """joblib.Parallel: map only (batch_size 1 or auto). Its loky executor is
    kept between calls, as a pool is."""

    def __init__(self, workers):
        import joblib
        self.joblib = joblib

    def map(self, items, chunksize):
        delayed = self.joblib.delayed
        batch = chunksize if chunksize else "auto"
        return self.joblib.Parallel(n_jobs=WORKERS, batch_size=batch)(
            delayed(trivial)(i) for i in items)

    def discard(self):
        pass


def make(impl, workers=WORKERS):
    if impl == "multiprocessing":
        return StdPool(mp.get_context("fork"), workers)
    if impl == "billiard":
        import billiard
        return StdPool(billiard, workers)
    if impl == "pebble":
        return PebblePool(workers)
    if impl == "joblib":
        return JoblibPool(workers)
    raise ValueError(impl)


def available(impl):
    if impl == "multiprocessing":
        return True
    try:
        __import__(impl)
        return True
    except ImportError:
        return False


# ---- the workloads ------------------------------------------------------------

RESULT_PATH = None  # --cell: where done() writes the values


def done(values):
    """Hands the values to the parent as soon as they are measured: it then
    stops this process and the pool's workers at once, so that no library's
    teardown (billiard's can take 30 s) is waited for, unless it is what is
    measured."""
    if RESULT_PATH:
        with open(RESULT_PATH + ".tmp", "w") as f:
            json.dump(values, f)
        os.rename(RESULT_PATH + ".tmp", RESULT_PATH)
    return values


def throughput(impl, method, n, chunksize, reps):
    pool = make(impl)
    getattr(pool, method)(range(100), chunksize)  # warm-up: workers up and running
    runs = done([n / timed(lambda: getattr(pool, method)(range(n), chunksize))
                 for _ in range(reps)])
    pool.discard()
    return runs


def apply_round_trip(impl, n, reps):
    pool = make(impl)
    for _ in range(100):
        pool.apply()
    runs = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(n):
            pool.apply()
        runs.append((time.perf_counter() - t0) / n)
    done(runs)
    pool.discard()
    return runs


def cpu_scaling(impl, tasks, reps):
    pools = {w: make(impl, w) for w in (1, 2)}
    for pool in pools.values():
        pool.cpu(2)  # warm-up
    runs = []
    for _ in range(reps):
        t1 = timed(lambda: pools[1].cpu(tasks))
        t2 = timed(lambda: pools[2].cpu(tasks))
        runs.append(t1 / t2)
    done(runs)
    for pool in pools.values():
        pool.discard()
    return runs


def create_teardown(impl, n, reps):
    def once():
        pool = make(impl)
        if impl == "pebble":
            pool.apply()  # pebble starts its workers on the first task only
        pool.close()
    once()
    return done([timed(lambda: [once() for _ in range(n)]) / n for _ in range(reps)])


def idle_uss(impl, reps):
    runs = []
    for _ in range(reps):
        pool = make(impl)
        pool.map(range(100), 1)
        time.sleep(0.2)  # idle
        pids = pool.worker_pids()
        runs.append(sum(uss_bytes(pid) for pid in pids) / len(pids))
        pool.discard()
    return done(runs)


# Workload sizes: (full, quick) per library; None: not measured. The peers
# that are much slower on a workload get fewer items (the figure is a rate or
# a per-operation time, so it stays comparable); --quick skips the slowest.
SIZES = {
    "pool_map_chunksize1": {"multiprocessing": (200_000, 10_000), "joblib": (20_000, 1_000),
                            "billiard": (20_000, 1_000), "pebble": (40_000, 2_000)},
    # pebble has no automatic chunksize.
    "pool_map_auto": {"multiprocessing": (200_000, 20_000), "joblib": (200_000, 20_000),
                      "billiard": (200_000, 20_000)},
    "pool_apply_async": {"multiprocessing": (3_000, 500), "billiard": (3_000, 500),
                         "pebble": (3_000, 500)},
    # joblib and pebble have no imap_unordered.
    "pool_imap_unordered_chunksize1": {"multiprocessing": (200_000, 10_000),
                                       "billiard": (20_000, None)},
    # Tasks of ~20 ms. joblib's n_jobs=1 runs in-process, not in a pool.
    "pool_cpu_scaling": {"multiprocessing": (64, 16), "billiard": (64, None),
                         "pebble": (64, None)},
    # Pools per repetition (billiard's teardown takes ~1 s).
    "pool_create_teardown": {"multiprocessing": (10, 3), "billiard": (2, None),
                             "pebble": (5, 2)},
    "pool_idle_worker_uss": {"multiprocessing": (1, 1), "billiard": (1, None),
                             "pebble": (1, None)},
}


UNITS = {"pool_map_chunksize1": "items/s", "pool_map_auto": "items/s",
         "pool_apply_async": "s", "pool_imap_unordered_chunksize1": "items/s",
         "pool_cpu_scaling": "x", "pool_create_teardown": "s",
         "pool_idle_worker_uss": "bytes"}


def measure(key, impl, n, reps):
    """One workload for one library, in this process: its repetitions' values."""
    mp.set_start_method("fork")
    if key == "pool_cpu_scaling":
        calibrate()
    if key == "pool_map_chunksize1":
        return throughput(impl, "map", n, 1, reps)
    if key == "pool_map_auto":
        return throughput(impl, "map", n, None, reps)
    if key == "pool_apply_async":
        return apply_round_trip(impl, n, reps)
    if key == "pool_imap_unordered_chunksize1":
        return throughput(impl, "imap_unordered", n, 1, reps)
    if key == "pool_cpu_scaling":
        return cpu_scaling(impl, n, reps)
    if key == "pool_create_teardown":
        return create_teardown(impl, n, reps)
    if key == "pool_idle_worker_uss":
        return idle_uss(impl, reps)
    raise ValueError(key)


def measure_isolated(key, impl, n, reps, timeout):
    """measure() in a fresh interpreter: no library's leftovers (executors,
    threads, at-fork handlers) affect another's figures, and a library that
    hangs (billiard did, now and then) costs that one measurement only."""
    with tempfile.TemporaryDirectory(prefix="pool_bench.") as tmp:
        result = os.path.join(tmp, "values.json")
        cmd = [sys.executable, os.path.abspath(__file__), "--cell", key, impl, str(n),
               "--cell-result", result, "--cell-timeout", str(timeout),
               "--repetitions", str(reps)]
        t0 = time.perf_counter()
        # Its own process group (in the same session, which bench/run.py
        # stops as a whole if this script runs out of time).
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, process_group=0)
        # Until it has written its values, exited, or run out of time.
        while (proc.poll() is None and not os.path.exists(result)
               and time.perf_counter() - t0 < timeout):
            time.sleep(0.01)
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # it and the pool's workers
        except ProcessLookupError:
            pass
        proc.wait()
        elapsed = time.perf_counter() - t0
        if not os.path.exists(result):
            why = (f"stopped after {timeout} s" if elapsed >= timeout
                   else f"exit status {proc.returncode}")
            print(f"{key} [{impl}]: no result ({why})", file=sys.stderr)
            return None
        print(f"  ({key} [{impl}]: {elapsed:.1f} s)", file=sys.stderr)
        with open(result) as f:
            return json.load(f)


def main():
    p = benchjson.parser(__doc__)
    p.add_argument("--only", metavar="SUBSTRING", help="only the workloads whose key contains it")
    p.add_argument("--cell", nargs=3, metavar=("KEY", "IMPL", "N"),
                   help="(internal) measure one workload of one library")
    p.add_argument("--cell-result", help="(internal) where --cell writes its values")
    p.add_argument("--cell-timeout", type=float, help="(internal) --cell's time limit")
    args = p.parse_args()
    reps = benchjson.repetitions(args)
    if args.cell:
        global RESULT_PATH
        RESULT_PATH = args.cell_result
        if args.cell_timeout:  # where it hangs, if it does
            faulthandler.dump_traceback_later(max(args.cell_timeout - 2, 1))
        key, impl, n = args.cell
        done(measure(key, impl, int(n), reps))
        return
    out = benchjson.Results(args)
    failed = False
    for key, sizes in SIZES.items():
        if args.only and args.only not in key:
            continue
        for impl, (full, quick) in sizes.items():
            n = quick if args.quick else full
            if n is None or not available(impl):
                continue
            values = measure_isolated(key, impl, n, reps, 20 if args.quick else 300)
            if values is None:
                failed = failed or impl == "multiprocessing"
                continue
            out.add(key, UNITS[key], values, impl=impl)
    out.finish()
    # A peer library's failure is reported and skipped; the standard
    # library's fails the script.
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
