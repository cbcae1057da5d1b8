"""Python's multiprocessing.Process (fork start method) start+join latency,
beside a bare os.fork()+os._exit+os.waitpid, for comparison with
bench/process_bench. Prints the median of `repeats` runs of `n` iterations."""
import multiprocessing as mp
import os
import statistics
import sys
import time


def noop():
    pass


def per_iteration(fn, n):
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def process_start_join():
    p = mp.Process(target=noop)
    p.start()
    p.join()


def bare_fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    repeats = 5
    mp.set_start_method("fork")
    for name, fn in (("python_bare_fork_waitpid", bare_fork),
                     ("python_process_start_join", process_start_join)):
        runs = [per_iteration(fn, n) for _ in range(repeats)]
        print(f"{name:30s} median {statistics.median(runs) * 1e6:9.1f} us"
              f"  (min {min(runs) * 1e6:.1f}, max {max(runs) * 1e6:.1f})")


if __name__ == "__main__":
    main()
