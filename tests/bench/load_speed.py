#!/usr/bin/python3
"""Loader benchmark: `reclab-cli data stats` against pandas.read_csv on the same files, in one run.

For every file, rounds alternate RecLab and pandas; each is a fresh process. RecLab's time is
the whole command (process start, load, statistics, exit), pandas' time is read_csv alone
inside its process (interpreter start and `import pandas` not counted), so the comparison
favours pandas. Peak memory is each process's maximum resident set (wait4's ru_maxrss).

  tests/bench/load_speed.py --cli build/app/reclab-cli --gen build/tests/reclab-bench-gen-ml25m \
      --big /tmp/reclab-ml25m.csv --ml100k ../shared/datasets/ml-100k --runs 3
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

PANDAS = r"""
import json, resource, sys, time
import pandas as pd
path, sep, header = sys.argv[1], sys.argv[2], sys.argv[3]
t = time.perf_counter()
df = pd.read_csv(path, sep=sep, header=0 if header == "1" else None, engine="c")
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "rows": len(df)}))
"""


def run(cmd):
    """Runs cmd; returns (wall seconds, stdout, peak RSS in MiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    out = proc.stdout.read().decode()
    err = proc.stderr.read().decode()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err}")
    return wall, out, usage.ru_maxrss / 1024.0


def bench(name, cli_args, pandas_args, runs):
    ours, loads, theirs, our_mem, their_mem = [], [], [], [], []
    stats = None
    for _ in range(runs):
        wall, out, mem = run(cli_args)
        stats = json.loads(out)
        ours.append(wall)
        loads.append(stats["load_seconds"])
        our_mem.append(mem)
        _, out, mem = run(["/usr/bin/python3", "-c", PANDAS] + pandas_args)
        theirs.append(json.loads(out)["seconds"])
        their_mem.append(mem)
    row = {
        "file": name,
        "rows": stats["interactions"],
        "users": stats["users"],
        "items": stats["items"],
        "reclab_seconds": statistics.median(ours),
        "reclab_load_seconds": statistics.median(loads),
        "pandas_seconds": statistics.median(theirs),
        "reclab_peak_mib": max(our_mem),
        "pandas_peak_mib": max(their_mem),
        "runs_reclab": ours,
        "runs_reclab_load": loads,
        "runs_pandas": theirs,
    }
    row["ratio"] = row["reclab_seconds"] / row["pandas_seconds"]
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default="build/app/reclab-cli")
    ap.add_argument("--gen", default="build/tests/reclab-bench-gen-ml25m")
    ap.add_argument("--big", default="/tmp/reclab-ml25m.csv", help="ML-25M-shaped file (generated if missing)")
    ap.add_argument("--rows", type=int, default=25000095)
    ap.add_argument("--ml100k", default=os.path.join(os.path.dirname(__file__), "../../../shared/datasets/ml-100k"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    if not os.path.exists(a.big):
        print(f"generating {a.big} ({a.rows} rows)...", file=sys.stderr)
        subprocess.run([a.gen, a.big, str(a.rows)], check=True)
    rows = [bench("ML-25M-shaped ratings.csv", [a.cli, "data", "stats", a.big, "--json"], [a.big, ",", "1"], a.runs)]
    udata = os.path.join(a.ml100k, "u.data")
    if os.path.exists(udata):
        rows.append(bench("ml-100k u.data", [a.cli, "data", "stats", udata, "--format", "csv", "--json"],
                          [udata, "\t", "0"], a.runs))
    if a.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'file':28} {'rows':>10} {'RecLab s':>9} {'load s':>7} {'pandas s':>9} {'ratio':>6} {'RecLab MiB':>11} "
          f"{'pandas MiB':>11}")
    for r in rows:
        print(f"{r['file']:28} {r['rows']:>10} {r['reclab_seconds']:>9.3f} {r['reclab_load_seconds']:>7.3f} "
              f"{r['pandas_seconds']:>9.3f} "
              f"{r['ratio']:>6.3f} {r['reclab_peak_mib']:>11.0f} {r['pandas_peak_mib']:>11.0f}")
    print(f"(medians of {a.runs}; RecLab = whole `data stats` process, load = its load alone (`loaded in`), "
          "pandas = read_csv call only)")


if __name__ == "__main__":
    main()
