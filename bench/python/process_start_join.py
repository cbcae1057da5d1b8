"""Python's multiprocessing.Process start+join latency with each start method
(fork, forkserver, spawn), beside a bare os.fork()+os._exit+os.waitpid, for
comparison with bench/process_bench. Prints the median of the repetitions
of `n` iterations each (or JSON: see benchjson.py)."""
import multiprocessing as mp
import os
import time

import benchjson


def noop():
    pass


def per_iteration(fn, n):
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def start_join(ctx):
    def run():
        p = ctx.Process(target=noop)
        p.start()
        p.join()
    return run


def bare_fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


def main():
    p = benchjson.parser(__doc__)
    p.add_argument("n", nargs="?", type=int, default=None,
                   help="iterations per repetition (fork; default 300, 100 with --quick)")
    args = p.parse_args()
    reps = benchjson.repetitions(args)
    n = args.n or (100 if args.quick else 300)
    out = benchjson.Results(args)
    cases = (
        ("bare_fork_waitpid", "os", bare_fork, n),
        ("process_start_join_fork", "multiprocessing", start_join(mp.get_context("fork")), n),
        # The forkserver's own start-up (on first use) is not counted: warmed up below.
        ("process_start_join_forkserver", "multiprocessing",
         start_join(mp.get_context("forkserver")), max(n // 3, 10)),
        ("process_start_join_spawn", "multiprocessing",
         start_join(mp.get_context("spawn")), max(n // 20, 5)),
    )
    for key, impl, fn, iterations in cases:
        fn()  # warm-up
        out.add(key, "s", [per_iteration(fn, iterations) for _ in range(reps)], impl=impl)
    out.finish()


if __name__ == "__main__":
    main()
