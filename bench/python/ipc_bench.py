"""Python's multiprocessing.Queue and Pipe on the workloads of
bench/ipc_bench.cpp: 64-byte items per second, 1 MiB and 64 MiB items in
GB/s (producer process -> this process), and a 1-byte Pipe round trip with
both processes pinned as the C++ benchmark pins them (this one on CPU 0, the
peer on CPU 1). Prints the median of `repeats` runs."""
import multiprocessing as mp
import os
import statistics
import time


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


def report(name, values, unit):
    print(f"{name:30s} median {statistics.median(values):10.3f} {unit}"
          f"  (min {min(values):.3f}, max {max(values):.3f})")


def main():
    mp.set_start_method("fork")
    repeats = 5
    n = 100_000
    report("python_queue_64B", [n / queue_run(64, n) / 1e6 for _ in range(repeats)], "M items/s")
    n = 300
    report("python_queue_1MiB", [n * (1 << 20) / queue_run(1 << 20, n) / 1e9 for _ in range(repeats)], "GB/s")
    n = 8
    report("python_queue_64MiB", [n * (64 << 20) / queue_run(64 << 20, n) / 1e9 for _ in range(repeats)], "GB/s")
    n = 20_000
    report("python_pipe_round_trip", [pipe_run(n) / n * 1e6 for _ in range(repeats)], "us")


if __name__ == "__main__":
    main()
