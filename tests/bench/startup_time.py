#!/usr/bin/python3
"""Cold start of the workbench: from launching `reclab` to a usable window (shown, painted once
with its dataset loaded), and to LibTorch's engine loaded behind it (training and inspection
ready); reclab --startup-probe prints both moments and quits. Medians of several launches. Run it
on a display, e.g. `xvfb-run -a tests/bench/startup_time.py`, or with QT_QPA_PLATFORM=offscreen.

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

outside, inside, engine, total = [], [], [], []
with tempfile.TemporaryDirectory() as tmp:
    for run in range(a.runs):
        t0 = time.perf_counter()
        proc = subprocess.Popen([a.app, "--startup-probe", "--data", a.data, "--db", os.path.join(tmp, "runs.db"),
                                 "--settings", os.path.join(tmp, "settings.ini")],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = proc.stdout.readline()
        ready = time.perf_counter() - t0
        loaded = proc.stdout.readline()
        proc.wait()
        if not line.startswith("ready "):
            sys.exit(f"startup_time.py: {a.app} printed {line!r} (exit {proc.returncode})")
        if not loaded.startswith("engine ") or loaded.startswith("engine failed"):
            sys.exit(f"startup_time.py: {a.app}'s engine: {loaded.strip()!r} (exit {proc.returncode})")
        engine.append(float(loaded.split()[1]))
        outside.append(ready * 1000)
        inside.append(float(line.split()[1]))
        total.append((time.perf_counter() - t0) * 1000)
        print(f"launch {run + 1}: usable after {outside[-1]:.0f} ms ({inside[-1]:.0f} ms of them after main), "
              f"LibTorch's engine loaded {engine[-1]:.0f} ms after main, exited after {total[-1]:.0f} ms", flush=True)
print(f"median of {a.runs}: launch to usable window {statistics.median(outside):.0f} ms "
      f"(main to usable {statistics.median(inside):.0f} ms, main to engine loaded {statistics.median(engine):.0f} ms), "
      f"data '{a.data}'")
