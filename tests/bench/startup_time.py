#!/usr/bin/python3
"""Cold start of the workbench: from launching `reclab` to a usable window (shown, painted once
with its dataset loaded; reclab --startup-probe prints that moment and quits), medians of
several launches. Run it on a display, e.g. `xvfb-run -a tests/bench/startup_time.py`.

Usage: tests/bench/startup_time.py [--app build/app/reclab] [--data sample] [--runs 5]
"""
import argparse, os, statistics, subprocess, sys, tempfile, time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "..", ".."))
p = argparse.ArgumentParser()
p.add_argument("--app", default=os.path.join(root, "build", "app", "reclab"))
p.add_argument("--data", default="sample")
p.add_argument("--runs", type=int, default=5)
a = p.parse_args()

outside, inside, total = [], [], []
with tempfile.TemporaryDirectory() as tmp:
    for run in range(a.runs):
        t0 = time.perf_counter()
        proc = subprocess.Popen([a.app, "--startup-probe", "--data", a.data, "--db", os.path.join(tmp, "runs.db"),
                                 "--settings", os.path.join(tmp, "settings.ini")],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = proc.stdout.readline()
        ready = time.perf_counter() - t0
        proc.wait()
        if not line.startswith("ready "):
            sys.exit(f"startup_time.py: {a.app} printed {line!r} (exit {proc.returncode})")
        outside.append(ready * 1000)
        inside.append(float(line.split()[1]))
        total.append((time.perf_counter() - t0) * 1000)
        print(f"launch {run + 1}: usable after {outside[-1]:.0f} ms ({inside[-1]:.0f} ms of them after main), "
              f"exited after {total[-1]:.0f} ms", flush=True)
print(f"median of {a.runs}: launch to usable window {statistics.median(outside):.0f} ms "
      f"(main to usable {statistics.median(inside):.0f} ms), data '{a.data}'")
