#!/usr/bin/env python3
"""`make bench`: runs the C++ benchmarks (Google Benchmark), the equivalent
Python workloads (bench/python/) and the floors in one go, each measurement
repeated, and prints one table: each benchmark with multiproc's median,
Python's, the floor's (min-max of the repetitions beside each median), the
ratios and the target. Writes RESULTS/latest.json, RESULTS/latest.png (a bar
chart of the ratios) and every program's raw output under RESULTS/raw/.

  ratio_vs_python  how many times faster (or smaller) multiproc is than
                   Python's multiprocessing: Python's cost / multiproc's
                   (time, bytes), or multiproc's rate / Python's (items/s,
                   GB/s, x). Above 1: multiproc is better.
  ratio_vs_floor   multiproc's cost in units of the floor's (the same work
                   done by the bare system, measured in the same run):
                   multiproc's time / the floor's, or the floor's rate /
                   multiproc's. 1.0: as fast as the floor.

Both are computed from the medians. A row whose C++ benchmark no bench
program reports is shown as "not built yet". Python 3 stdlib only, plus
matplotlib for the chart (skipped with a warning when missing).
"""
import argparse
import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- What is measured, and how rows are joined ---------------------------------
#
# Each row: name, unit, and
#   cxx        the C++ benchmark's name, or a list of names tried in order. The
#              name as Google Benchmark prints it, less the suffixes it adds
#              ("/real_time", "/iterations:N", "/min_time:X", ...). Found in
#              any of the bench programs (build-bench/bench/*_bench).
#   cxx_metric which figure of it: "time" (real time per iteration), or
#              "items_per_second", "bytes_per_second", or a user counter's name.
#              Default: from the unit (a time, items/s or bytes/s).
#   cxx_speedup [slow, fast]: the value is time(slow) / time(fast), per
#              repetition (instead of cxx).
#   python     the workload key the Python scripts report (impl
#              "multiprocessing"); the same key reported by other impls
#              (joblib, billiard, pebble) is shown as peer sub-rows.
#   floor      the floor's C++ benchmark name (same rules as cxx);
#              floor_metric as cxx_metric.
#   target     (on, op, value): on "python" -> ratio_vs_python op value; on
#              "floor" -> ratio_vs_floor op value; on "value" -> multiproc's
#              median, in the row's unit, op value. op: "<=" or ">=".
#   slow       skipped with --quick.

ROWS = [
    # Process (bench/process_bench.cpp, bench/python/process_start_join.py)
    dict(name="Process start+join (fork)", unit="us",
         cxx=["BM_ProcessStartJoin/fork", "BM_ProcessStartJoin"],
         python="process_start_join_fork", floor="BM_BareForkWaitpid",
         target=("floor", "<=", 1.5)),
    dict(name="Process start+join (forkserver)", unit="ms",
         cxx="BM_ProcessStartJoin/forkserver", python="process_start_join_forkserver",
         target=("value", "<=", 0.5)),
    dict(name="Process start+join (spawn)", unit="ms",
         cxx="BM_ProcessStartJoin/spawn", python="process_start_join_spawn",
         target=("value", "<=", 3.0)),
    # Pipe and Queue (bench/ipc_bench.cpp, bench/python/ipc_bench.py)
    dict(name="Connection 1-byte round trip", unit="us",
         cxx="BM_ConnectionRoundTrip", python="pipe_round_trip",
         floor="BM_SocketpairPingPong", target=("floor", "<=", 1.2)),
    dict(name="Queue, 64 B items", unit="M items/s",
         cxx="BM_Queue64B", python="queue_64B", target=("python", ">=", 15)),
    dict(name="Queue, 1 MiB items", unit="GB/s",
         cxx="BM_Queue1MiB", python="queue_1MiB", floor="BM_Memcpy1MiB",
         target=("python", ">=", 10)),
    dict(name="Queue, 64 MiB items", unit="GB/s",
         cxx="BM_Queue64MiB", python="queue_64MiB", floor="BM_Memcpy64MiB", slow=True),
    # Synchronisation (bench/sync_bench.cpp, bench/futex_floor.c, bench/python/sync_bench.py)
    dict(name="Lock acquire+release, uncontended", unit="ns",
         cxx="BM_LockAcquireRelease", python="lock_acquire_release",
         floor="BM_PthreadMutexRobustShared", target=("python", ">=", 20)),
    dict(name="RLock acquire+release", unit="ns", cxx="BM_RLockAcquireRelease"),
    dict(name="Event ping-pong round trip", unit="us",
         cxx="BM_EventPingPong", python="event_ping_pong",
         floor="BM_BareFutexPingPong", target=("floor", "<=", 1.2)),
    dict(name="Event ping-pong, spin disabled", unit="us",
         cxx="BM_EventPingPongNoSpin", floor="BM_BareFutexPingPong"),
    dict(name="Semaphore hand-off round trip", unit="us",
         cxx="BM_SemaphoreHandOff", python="semaphore_hand_off",
         floor="BM_BareFutexPingPong"),
    dict(name="Semaphore hand-off, spin disabled", unit="us",
         cxx="BM_SemaphoreHandOffNoSpin", floor="BM_BareFutexPingPong"),
    dict(name="Event set+clear, nobody waiting", unit="ns",
         cxx="BM_EventSetClearNoWaiter", floor="BM_FutexWakeNobody"),
    # Pool (bench/python/pool_bench.py; the C++ side is to come)
    dict(name="Pool.map, chunksize 1", unit="M tasks/s",
         cxx="BM_PoolMap/chunksize1", python="pool_map_chunksize1",
         target=("python", ">=", 30)),
    dict(name="Pool.map, automatic chunksize", unit="M tasks/s",
         cxx="BM_PoolMap/auto", python="pool_map_auto", target=("python", ">=", 3)),
    dict(name="Pool.apply_async -> get round trip", unit="us",
         cxx=["BM_PoolApplyRoundTrip", "BM_PoolApplyAsync"], python="pool_apply_async",
         target=("python", ">=", 5)),
    dict(name="Pool.imap_unordered, chunksize 1", unit="M tasks/s",
         cxx="BM_PoolImapUnordered/chunksize1", python="pool_imap_unordered_chunksize1"),
    dict(name="Pool CPU scaling, Pool(2) vs Pool(1)", unit="x",
         cxx_speedup=["BM_PoolCpuScaling/1", "BM_PoolCpuScaling/2"],
         python="pool_cpu_scaling", target=("value", ">=", 1.9)),
    dict(name="Pool create+teardown, 2 workers", unit="ms",
         cxx="BM_PoolCreateTeardown", python="pool_create_teardown",
         target=("python", ">=", 5)),
    # Containment (docs/containment.md): the same with and without it.
    dict(name="Pool create+teardown, contained vs not", unit="ms",
         cxx="BM_PoolCreateTeardown", floor="BM_PoolCreateTeardownUncontained",
         target=("floor", "<=", 1.3)),
    dict(name="Pool worker replacement, contained vs not", unit="us",
         cxx="BM_PoolWorkerReplacement", floor="BM_PoolWorkerReplacementUncontained",
         target=("floor", "<=", 1.3)),
    dict(name="Pool idle worker USS", unit="MiB",
         cxx=["BM_PoolIdleWorkerUss", "BM_PoolIdleWorkerUSS"], cxx_metric="uss_bytes",
         python="pool_idle_worker_uss", target=("value", "<=", 2.0)),
]

# Which programs run, in this order: each C++ program then its Python
# counterpart, back to back. A *_bench program not listed runs after these;
# a missing one is skipped (its rows show "not built yet").
GROUPS = [
    ("process_bench", "process_start_join.py"),
    ("ipc_bench", "ipc_bench.py"),
    ("sync_bench", "sync_bench.py"),
    ("pool_bench", "pool_bench.py"),
]

# Google Benchmark cases left out by --quick (regular expressions).
QUICK_SKIP = ["64MiB"]

# unit -> (kind, scale: the unit in SI base units). The kind gives the
# direction (lower or higher is better), the default C++ metric and the unit
# the Python scripts report in.
UNITS = {
    "ns": ("time", 1e-9), "us": ("time", 1e-6), "ms": ("time", 1e-3), "s": ("time", 1.0),
    "M items/s": ("rate", 1e6), "M tasks/s": ("rate", 1e6), "k tasks/s": ("rate", 1e3),
    "GB/s": ("byte_rate", 1e9), "MiB": ("bytes", float(1 << 20)), "x": ("ratio", 1.0),
}
LOWER_IS_BETTER = {"time": True, "rate": False, "byte_rate": False, "bytes": True, "ratio": False}
PYTHON_UNIT = {"time": "s", "rate": "items/s", "byte_rate": "bytes/s", "bytes": "bytes", "ratio": "x"}
DEFAULT_METRIC = {"time": "time", "rate": "items_per_second", "byte_rate": "bytes_per_second"}
TIME_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
# Suffixes Google Benchmark appends to a case's name.
NAME_NOISE = re.compile(r"/(real_time|process_time|manual_time|iterations:\d+|"
                        r"min_time:[0-9.]+s?|min_warmup_time:[0-9.]+s?|repeats:\d+)(?=/|$)")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---- Running the programs -------------------------------------------------------

def run_cxx(path, raw_dir, reps, quick, min_time):
    name = os.path.basename(path)
    out_json = os.path.join(raw_dir, name + ".json")
    cmd = [path, f"--benchmark_repetitions={reps}",
           "--benchmark_display_aggregates_only=true",
           f"--benchmark_out={out_json}", "--benchmark_out_format=json"]
    if quick:
        cmd += [f"--benchmark_min_time={min_time}",
                "--benchmark_filter=-(" + "|".join(QUICK_SKIP) + ")"]
    elif min_time:
        cmd.append(f"--benchmark_min_time={min_time}")
    return run_logged(cmd, name, os.path.join(raw_dir, name + ".txt"), out_json)


def run_python(script, raw_dir, reps, quick):
    name = "python_" + os.path.splitext(script)[0]
    out_json = os.path.join(raw_dir, name + ".json")
    cmd = [sys.executable, os.path.join(HERE, "python", script), "--json", out_json,
           "--repetitions", str(reps)]
    if quick:
        cmd.append("--quick")
    return run_logged(cmd, name, os.path.join(raw_dir, name + ".txt"), out_json)


TIMEOUT = 1800  # seconds, per program; set from --timeout


def kill_session(sid):
    """SIGKILL to every process of session `sid` (whatever its process group)."""
    for _ in range(3):  # again, for any that forked meanwhile
        found = False
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid:  # state, ppid, pgrp, session
                found = True
                try:
                    os.kill(int(entry), signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if not found:
            return
        time.sleep(0.05)


def run_logged(cmd, name, log_path, out_json):
    if os.path.exists(out_json):
        os.remove(out_json)
    t0 = time.monotonic()
    log(f"  {name} ...")
    with open(log_path, "w") as f:
        # Its own session, so that a hung program is stopped with every
        # process it started.
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            rc = proc.wait(timeout=TIMEOUT)
            why = f"exit status {rc}"
        except (subprocess.TimeoutExpired, KeyboardInterrupt) as e:
            kill_session(proc.pid)
            proc.wait()
            if isinstance(e, KeyboardInterrupt):
                raise
            rc, why = -1, f"stopped after {TIMEOUT:g} s"
    elapsed = time.monotonic() - t0
    report = None
    if os.path.exists(out_json):  # what it measured, even if it failed later
        try:
            with open(out_json) as f:
                report = json.load(f)
        except ValueError:
            why += ", unreadable JSON"
    if rc != 0 or report is None:
        log(f"  {name} FAILED ({why}, {elapsed:.1f} s); its output: {log_path}")
        return report, False
    log(f"  {name} done in {elapsed:.1f} s")
    return report, True


def bench_programs(bench_dir):
    found = []
    if os.path.isdir(bench_dir):
        for entry in sorted(os.listdir(bench_dir)):
            path = os.path.join(bench_dir, entry)
            if entry.endswith("_bench") and os.path.isfile(path) and os.access(path, os.X_OK):
                found.append(entry)
    return found


# ---- Collecting the figures -----------------------------------------------------

def normalize(name):
    return NAME_NOISE.sub("", name)


def collect_cxx(reports):
    """{normalized name: [iteration entries, one per repetition]}"""
    cases = {}
    for report in reports:
        for b in report.get("benchmarks", []):
            if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
                continue
            cases.setdefault(normalize(b.get("run_name", b["name"])), []).append(b)
    return cases


def cxx_values(cases, names, metric):
    """Per-repetition values in SI base units, or None when no such case."""
    for name in names if isinstance(names, list) else [names]:
        runs = cases.get(name)
        if not runs:
            continue
        if metric == "time":
            return [r["real_time"] * TIME_UNITS[r.get("time_unit", "ns")] for r in runs]
        if all(metric in r for r in runs):
            return [float(r[metric]) for r in runs]
        raise SystemExit(f"bench/run.py: C++ benchmark {name} does not report '{metric}'")
    return None


def collect_python(reports):
    """{(impl, key): (unit, values)}"""
    found = {}
    for report in reports:
        for r in report.get("results", []):
            found[(r["impl"], r["key"])] = (r["unit"], r["values"])
    return found


def summary(values, scale):
    if not values:
        return None
    v = [x / scale for x in values]
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}


def cost(stat, kind):
    """A figure where lower is better, from a median."""
    m = stat["median"]
    if LOWER_IS_BETTER[kind]:
        return m
    return 1.0 / m if m else math.inf


def ratio_vs(ours, theirs, kind):
    if not ours or not theirs or ours["median"] == 0 or theirs["median"] == 0:
        return None
    return cost(theirs, kind) / cost(ours, kind)


def evaluate(target, rec):
    on, op, value = target
    have = {"python": rec["ratio_vs_python"], "floor": rec["ratio_vs_floor"],
            "value": rec["multiproc"]["median"] if rec["multiproc"] else None}[on]
    if have is None:
        return None
    return have <= value if op == "<=" else have >= value


def target_text(target, unit):
    if not target:
        return ""
    on, op, value = target
    v = f"{value:g}"
    return {"python": f"{op} {v}x Python", "floor": f"{op} {v}x floor",
            "value": f"{op} {v} {unit}" if unit != "x" else f"{op} {v}x"}[on]


def build_rows(cases, py, quick, cxx_failed, partial):
    out = []
    for row in ROWS:
        kind, scale = UNITS[row["unit"]]
        rec = {"name": row["name"], "unit": row["unit"],
               "better": "lower" if LOWER_IS_BETTER[kind] else "higher"}
        skipped = quick and row.get("slow")
        # multiproc
        if "cxx_speedup" in row:
            slow, fast = (cxx_values(cases, n, "time") for n in row["cxx_speedup"])
            values = [s / f for s, f in zip(slow, fast)] if slow and fast else None
            rec["cxx"] = row["cxx_speedup"]
        else:
            metric = row.get("cxx_metric", DEFAULT_METRIC.get(kind))
            values = cxx_values(cases, row["cxx"], metric)
            rec["cxx"] = row["cxx"]
        rec["python_key"] = row.get("python")
        rec["floor_cxx"] = row.get("floor")
        rec["multiproc"] = summary(values, scale)
        # Python's multiprocessing, and the peers
        rec["python"] = None
        rec["peers"] = {}
        if row.get("python"):
            for (impl, key), (unit, vals) in sorted(py.items()):
                if key != row["python"]:
                    continue
                if unit != PYTHON_UNIT[kind]:
                    raise SystemExit(f"bench/run.py: Python {impl}/{key} reports {unit}, "
                                     f"expected {PYTHON_UNIT[kind]}")
                if impl == "multiprocessing":
                    rec["python"] = summary(vals, scale)
                elif impl != "os":
                    rec["peers"][impl] = summary(vals, scale)
        # floor
        rec["floor"] = None
        if row.get("floor"):
            metric = row.get("floor_metric", DEFAULT_METRIC.get(kind))
            rec["floor"] = summary(cxx_values(cases, row["floor"], metric), scale)
        rec["ratio_vs_python"] = ratio_vs(rec["multiproc"], rec["python"], kind)
        rec["ratio_vs_floor"] = ratio_vs(rec["floor"], rec["multiproc"], kind)
        for peer in rec["peers"].values():
            if peer:
                peer["ratio_vs_peer"] = ratio_vs(rec["multiproc"], peer, kind)
        rec["target_spec"] = row.get("target")
        rec["target"] = target_text(row.get("target"), row["unit"]) or None
        rec["met"] = evaluate(row["target"], rec) if row.get("target") else None
        if rec["multiproc"]:
            rec["status"] = "measured"
        elif skipped:
            rec["status"] = "skipped (quick)"
        elif cxx_failed:
            rec["status"] = "missing (a bench program failed)"
        elif partial:
            rec["status"] = "not run (--only)"
        else:
            rec["status"] = "not built yet"
        out.append(rec)
    return out


# ---- Output -------------------------------------------------------------------------

def fmt(x):
    if x is None:
        return ""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    digits = max(0, 2 - int(math.floor(math.log10(abs(x)))))
    return f"{x:.{digits}f}"


def cell(stat):
    if not stat:
        return ""
    if stat["n"] > 1:
        return f"{fmt(stat['median'])} ({fmt(stat['min'])}-{fmt(stat['max'])})"
    return fmt(stat["median"])


def ratio_cell(r):
    return f"{fmt(r)}x" if r is not None else ""


def print_table(rows):
    head = ["benchmark", "unit", "multiproc (min-max)", "Python", "floor",
            "vs Python", "vs floor", "target", "result"]
    lines = []
    for r in rows:
        met = {True: "met", False: "MISSED", None: ""}[r["met"]]
        if r["status"] != "measured":
            met = ""
        lines.append([r["name"], r["unit"],
                      cell(r["multiproc"]) if r["multiproc"] else r["status"],
                      cell(r["python"]), cell(r["floor"]),
                      ratio_cell(r["ratio_vs_python"]), ratio_cell(r["ratio_vs_floor"]),
                      r["target"] or "", met])
        for impl, peer in sorted(r["peers"].items()):
            if peer:
                lines.append([f"  vs {impl}", "", "", cell(peer), "",
                              ratio_cell(peer.get("ratio_vs_peer")), "", "", ""])
    widths = [max(len(h), *(len(l[i]) for l in lines)) for i, h in enumerate(head)]
    right = {2, 3, 4, 5, 6}

    def show(cols):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cols, widths))).rstrip()
    print(show(head))
    print("  ".join("-" * w for w in widths))
    for l in lines:
        print(show(l))
    print()
    print("Medians of the repetitions (min-max). vs Python: how many times faster (or smaller)"
          " multiproc is than Python's multiprocessing; 'vs <peer>' rows: the same against that"
          " library. vs floor: multiproc's cost in units of the floor's (1.0 = the bare"
          " system).")


def json_rows(rows):
    """latest.json: multiproc, python and floor are the medians (null: not
    measured), with their min and max beside them."""
    out = []
    for r in rows:
        o = {"name": r["name"], "unit": r["unit"]}
        for side in ("multiproc", "python", "floor"):
            o[side] = r[side]["median"] if r[side] else None
        o["ratio_vs_python"] = r["ratio_vs_python"]
        o["ratio_vs_floor"] = r["ratio_vs_floor"]
        for side in ("multiproc", "python", "floor"):
            o[side + "_min"] = r[side]["min"] if r[side] else None
            o[side + "_max"] = r[side]["max"] if r[side] else None
        o["repetitions"] = r["multiproc"]["n"] if r["multiproc"] else None
        o["better"] = r["better"]
        o["target"] = r["target"]
        o["met"] = r["met"]
        o["status"] = r["status"]
        o["peers"] = {impl: {"median": p["median"], "min": p["min"], "max": p["max"],
                             "ratio_vs_peer": p.get("ratio_vs_peer")}
                      for impl, p in sorted(r["peers"].items()) if p}
        o["cxx_benchmark"] = r["cxx"]
        o["python_key"] = r["python_key"]
        o["floor_benchmark"] = r["floor_cxx"]
        out.append(o)
    return out


def write_chart(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed: no chart (python3-matplotlib)")
        return False
    # Each panel: (title, [(label, value, target or None, met)]), log scale.
    panels = []
    for key, on, title in (
            ("ratio_vs_python", "python", "speed-up over Python's multiprocessing (x)"),
            ("ratio_vs_floor", "floor", "cost in units of the floor (x; 1 = the bare system)")):
        bars = []
        for r in rows:
            if r[key] is None:
                continue
            spec = r["target_spec"]
            on_this = spec is not None and spec[0] == on
            bars.append((r["name"], r[key], spec[2] if on_this else None,
                         r["met"] if on_this else None))
        panels.append((title, bars))
    # Absolute targets: the median over the target (meets at <= 1 for a
    # "<=" target, at >= 1 for a ">=" one).
    bars = [(f"{r['name']} ({r['target']})", r["multiproc"]["median"] / r["target_spec"][2],
             1.0, r["met"])
            for r in rows if r["target_spec"] and r["target_spec"][0] == "value" and r["multiproc"]]
    if bars:
        panels.append(("absolute targets: value / target (x)", bars))
    missing = [r["name"] for r in rows if r["status"] != "measured"]
    height = max(3.0, 0.38 * max(len(b) for _, b in panels) + 1.8)
    widths = [1.0, 1.0, 0.7][:len(panels)]
    fig, axes = plt.subplots(1, len(panels), figsize=(7.5 * sum(widths), height), squeeze=False,
                             gridspec_kw={"width_ratios": widths})
    for ax, (title, bars) in zip(axes[0], panels):
        ax.set_title(title, fontsize=10)
        ax.set_xscale("log")
        ax.axvline(1.0, color="black", linewidth=0.8)
        if not bars:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
            ax.set_yticks([])
            continue
        bars = bars[::-1]  # first row at the top
        y = list(range(len(bars)))
        values = [b[1] for b in bars]
        colors = ["#888888" if b[3] is None else ("#2e8b57" if b[3] else "#c0392b") for b in bars]
        ax.barh(y, values, color=colors)
        for i, (_, value, target, _) in enumerate(bars):
            if target is not None:
                ax.plot([target, target], [i - 0.4, i + 0.4], color="black", linewidth=2)
            ax.text(value, i, f" {fmt(value)}x", va="center", fontsize=8)
        ax.set_yticks(y)
        ax.set_yticklabels([b[0] for b in bars], fontsize=8)
        marks = values + [b[2] for b in bars if b[2] is not None] + [1.0]
        ax.set_xlim(min(marks) / 2, max(marks) * 4)
    fig.suptitle("make bench: green met its target, red missed it (black tick: the target),"
                 " grey has none", fontsize=10)
    if missing:
        fig.text(0.01, 0.01, "Not measured: " + "; ".join(missing), fontsize=7, wrap=True)
    fig.tight_layout(rect=(0, 0.05 if missing else 0, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# ---- Main ---------------------------------------------------------------------------

def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default="build-bench",
                   help="the CMake build directory (programs in BUILD/bench/)")
    p.add_argument("--results", default=os.path.join(HERE, "results"),
                   help="where latest.json, latest.png and raw/ go")
    p.add_argument("--quick", action="store_true",
                   help="3 repetitions, short minimum times, the slowest cases skipped")
    p.add_argument("--repetitions", type=int, help="default 5 (3 with --quick)")
    p.add_argument("--min-time", type=float,
                   help="Google Benchmark's minimum time per repetition, seconds"
                        " (default: its own, 0.5; 0.05 with --quick)")
    p.add_argument("--only", metavar="REGEX",
                   help="run only the programs and scripts whose name matches")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds one program may run before it is stopped (default 1800;"
                        " 180 with --quick)")
    p.add_argument("--from-raw", action="store_true",
                   help="run nothing: rebuild the table and outputs from RESULTS/raw/")
    args = p.parse_args()
    reps = args.repetitions or (3 if args.quick else 5)
    global TIMEOUT
    TIMEOUT = args.timeout or (180 if args.quick else 1800)
    min_time = args.min_time or (0.05 if args.quick else None)
    raw_dir = os.path.join(args.results, "raw")
    os.makedirs(raw_dir, exist_ok=True)
    bench_dir = os.path.join(args.build, "bench")

    t0 = time.monotonic()
    cxx_reports, py_reports, failed, cxx_failed = [], [], [], False
    if args.from_raw:
        for entry in sorted(os.listdir(raw_dir)):
            if entry.endswith(".json"):
                with open(os.path.join(raw_dir, entry)) as f:
                    (py_reports if entry.startswith("python_") else cxx_reports).append(json.load(f))
    else:
        programs = bench_programs(bench_dir)
        if not programs:
            log(f"bench/run.py: no *_bench program in {bench_dir}: build first (make bench)")
        listed = [g[0] for g in GROUPS]
        plan = list(GROUPS) + [(prog, None) for prog in programs if prog not in listed]
        mode = "quick" if args.quick else "full"
        log(f"Running the benchmarks ({mode}: {reps} repetitions each)")
        for prog, script in plan:
            for item, runner in ((prog, "cxx"), (script, "py")):
                if not item or (args.only and not re.search(args.only, item)):
                    continue
                if runner == "cxx":
                    if prog not in programs:
                        log(f"  {prog}: not built (its rows show 'not built yet')")
                        continue
                    report, ok = run_cxx(os.path.join(bench_dir, prog), raw_dir, reps,
                                         args.quick, min_time)
                    if not ok:
                        failed.append(prog)
                        cxx_failed = True
                    if report:
                        cxx_reports.append(report)
                else:
                    report, ok = run_python(script, raw_dir, reps, args.quick)
                    if not ok:
                        failed.append(script)
                    if report:
                        py_reports.append(report)
        log(f"All run in {time.monotonic() - t0:.0f} s")

    rows = build_rows(collect_cxx(cxx_reports), collect_python(py_reports), args.quick,
                      cxx_failed, bool(args.only))
    print()
    print_table(rows)
    with open(os.path.join(args.results, "latest.json"), "w") as f:
        json.dump(json_rows(rows), f, indent=1)
        f.write("\n")
    chart = os.path.join(args.results, "latest.png")
    wrote_chart = write_chart(rows, chart)
    print(f"\nWrote {os.path.relpath(os.path.join(args.results, 'latest.json'))}"
          + (f", {os.path.relpath(chart)}" if wrote_chart else "")
          + f"; raw outputs in {os.path.relpath(raw_dir)}/")
    if failed:
        print(f"FAILED: {', '.join(failed)} (see {os.path.relpath(raw_dir)}/)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
