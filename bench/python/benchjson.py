"""Common command line and output of the Python workload scripts.

Every script in bench/python/ takes:

  --json FILE        write the results as JSON to FILE ('-': stdout) instead
                     of the human-readable lines
  --quick            smaller workloads, for `make bench BENCH_QUICK=1`
  --repetitions N    how many times each measurement is repeated (default 5;
                     3 with --quick)

and reports, for each measurement, every repetition's value. JSON shape:

  {"results": [{"key": "queue_64B", "impl": "multiprocessing",
                "unit": "items/s", "values": [..one per repetition..]}, ...]}

`key` names the workload (bench/run.py joins it with the C++ benchmark),
`impl` the library measured (multiprocessing, joblib, billiard, pebble, or
"os" for a bare-system floor), `unit` one of: s (seconds per operation;
lower is better), items/s, bytes/s (higher is better), bytes (lower is
better), x (a dimensionless ratio; higher is better).
"""
import argparse
import json
import statistics
import sys


def parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--json", metavar="FILE",
                   help="write the results as JSON to FILE ('-' for stdout)")
    p.add_argument("--quick", action="store_true", help="smaller workloads")
    p.add_argument("--repetitions", type=int, default=None,
                   help="repetitions of each measurement (default 5, 3 with --quick)")
    return p


def repetitions(args):
    if args.repetitions:
        return args.repetitions
    return 3 if args.quick else 5


class Results:
    """Collects the measurements; prints each one as it completes unless the
    output is JSON on stdout."""

    def __init__(self, args):
        self.args = args
        self.items = []

    def add(self, key, unit, values, impl="multiprocessing"):
        self.items.append({"key": key, "impl": impl, "unit": unit, "values": list(values)})
        if self.args.json and self.args.json != "-":
            self.finish()  # so far: a script stopped half-way leaves what it measured
        if self.args.json != "-":
            label = key if impl == "multiprocessing" else f"{key} [{impl}]"
            scale, shown = _human(unit)
            med = statistics.median(values) * scale
            print(f"{label:42s} median {med:12.4g} {shown}"
                  f"  (min {min(values) * scale:.4g}, max {max(values) * scale:.4g})",
                  flush=True)

    def finish(self):
        if not self.args.json:
            return
        text = json.dumps({"results": self.items}, indent=1)
        if self.args.json == "-":
            sys.stdout.write(text + "\n")
        else:
            with open(self.args.json, "w") as f:
                f.write(text + "\n")


def _human(unit):
    return {"s": (1e6, "us"), "items/s": (1e-6, "M items/s"), "bytes/s": (1e-9, "GB/s"),
            "bytes": (1 / (1 << 20), "MiB")}.get(unit, (1, unit))
