#!/usr/bin/python3
"""NeuMF on MovieLens-100K: samples/s of `reclab-cli train` beside the plain PyTorch reference
(../shared/peers/neumf_ref.py), same protocol and hyperparameters, runs alternated, medians.

Usage: tests/bench/neumf_speed.py [--cli build/app/reclab-cli] [--data DIR] [--runs 3] [--epochs 1] [--threads 1]
Prints one line per run and a summary table with the ratio.
"""
import argparse, json, os, statistics, subprocess, sys, tempfile

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "..", ".."))
p = argparse.ArgumentParser()
p.add_argument("--cli", default=os.path.join(root, "build", "app", "reclab-cli"))
p.add_argument("--data", default=os.path.join(root, "..", "shared", "datasets", "ml-100k"))
p.add_argument("--ref", default=os.path.join(root, "..", "shared", "peers", "neumf_ref.py"))
p.add_argument("--runs", type=int, default=3)
p.add_argument("--epochs", type=int, default=1)
p.add_argument("--threads", type=int, default=1)
a = p.parse_args()

def last_epoch(lines):
    epochs = [json.loads(l) for l in lines if l.startswith("{") and '"epoch"' in l]
    return epochs[-1]

reclab, ref = [], []
with tempfile.TemporaryDirectory() as tmp:
    for run in range(a.runs):
        out = subprocess.run([a.cli, "train", "--data", a.data, "--model", "neumf", "--epochs", str(a.epochs),
                              # the reference's configuration: the NCF paper's sizes, no pre-training
                              "--factors", "8", "--mlp-layers", "64,32,16,8", "--negatives", "4", "--l2", "0",
                              "--no-pretrain",
                              "--threads", str(a.threads), "--json", "--db", os.path.join(tmp, "bench.db")],
                             check=True, capture_output=True, text=True).stdout.splitlines()
        e = last_epoch(out)
        reclab.append((e["samples_per_second"], e["metrics"]["hr@10"], e["metrics"]["ndcg@10"]))
        print(f"reclab run {run + 1}: {e['samples_per_second']:.0f} samples/s  HR@10 {e['metrics']['hr@10']:.4f}  NDCG@10 {e['metrics']['ndcg@10']:.4f}", flush=True)
        out = subprocess.run([a.ref, "--data", a.data, "--epochs", str(a.epochs), "--threads", str(a.threads)],
                             check=True, capture_output=True, text=True).stdout.splitlines()
        e = last_epoch(out)
        ref.append((e["samples_per_s"], e["hr10"], e["ndcg10"]))
        print(f"ref    run {run + 1}: {e['samples_per_s']:.0f} samples/s  HR@10 {e['hr10']:.4f}  NDCG@10 {e['ndcg10']:.4f}", flush=True)

med = lambda rows, k: statistics.median(r[k] for r in rows)
print()
print("| | samples/s (median of %d) | HR@10 | NDCG@10 |" % a.runs)
print("|---|---|---|---|")
print(f"| reclab-cli | {med(reclab, 0):.0f} | {med(reclab, 1):.4f} | {med(reclab, 2):.4f} |")
print(f"| neumf_ref.py | {med(ref, 0):.0f} | {med(ref, 1):.4f} | {med(ref, 2):.4f} |")
print(f"| ratio | {med(reclab, 0) / med(ref, 0):.2f}x | | |")
