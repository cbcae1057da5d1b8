"""Python's multiprocessing.Queue and Pipe on the workloads of
bench/ipc_bench.cpp: 64-byte items per second, 1 MiB and 64 MiB items in
bytes per second (producer process -> this process), and a 1-byte Pipe round
trip with both processes pinned as the C++ benchmark pins them (this one on
CPU 0, the peer on CPU 1). Prints the median of the repetitions (or JSON: see
benchjson.py). --quick skips the 64 MiB items."""
import multiprocessing as mp
import os
import time

import benchjson


def pin(cpu):
    if cpu < os.cpu_count():
        os.sched_setaffinity(0, {cpu})


def producer(q, size, count):
    item = b"x" * size
    for _ in range(count):
        q.put(item)


def queue_run(size, count):
    q = mp.Queue()
    p = mp.Process(target=producer, args=(q, size, count))
    t0 = time.perf_counter()
    p.start()
    for _ in range(count):
        q.get()
    elapsed = time.perf_counter() - t0
    p.join()
    return elapsed


def echo(conn):
    pin(1)
    # An empty message stops it: the forked child also holds the parent's end
    # of the pipe, so closing that end never gives it end-of-file.
    while (msg := conn.recv_bytes()):
        conn.send_bytes(msg)


def pipe_run(count):
    mine, theirs = mp.Pipe()
    p = mp.Process(target=echo, args=(theirs,))
    p.start()
    theirs.close()
    old = os.sched_getaffinity(0)
    pin(0)
    t0 = time.perf_counter()
    for _ in range(count):
        mine.send_bytes(b"x")
        mine.recv_bytes()
    elapsed = time.perf_counter() - t0
    os.sched_setaffinity(0, old)
    mine.send_bytes(b"")
    p.join()
    return elapsed


def main():
    args = benchjson.parser(__doc__).parse_args()
    reps = benchjson.repetitions(args)
    quick = args.quick
    mp.set_start_method("fork")
    out = benchjson.Results(args)
    n = 20_000 if quick else 100_000
    out.add("queue_64B", "items/s", [n / queue_run(64, n) for _ in range(reps)])
    n = 60 if quick else 300
    out.add("queue_1MiB", "bytes/s", [n * (1 << 20) / queue_run(1 << 20, n) for _ in range(reps)])
    if not quick:
        n = 8
        out.add("queue_64MiB", "bytes/s",
                [n * (64 << 20) / queue_run(64 << 20, n) for _ in range(reps)])
    n = 4_000 if quick else 20_000
    out.add("pipe_round_trip", "s", [pipe_run(n) / n for _ in range(reps)])
    out.finish()


if __name__ == "__main__":
    main()
