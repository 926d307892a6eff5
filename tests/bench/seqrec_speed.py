#!/usr/bin/python3
"""GRU4Rec and SASRec on MovieLens-100K: `reclab-cli train --protocol common` beside the plain
PyTorch reference (../shared/peers/seqrec_ref.py, RecBole's sizes, cross-entropy over all items
at every position of windows of 50), runs alternated, medians. Both sides train the same number
of epochs with the same thread count; training targets per second, seconds per epoch, and the
last epoch's full-ranking NDCG@10 and sampled HR@10 (ties against the target on both sides).

Usage: tests/bench/seqrec_speed.py [--models gru4rec,sasrec] [--runs 3] [--epochs 5] [--threads 2]
           [--cli build/app/reclab-cli] [--python /usr/bin/python3] [--data DIR]
The reference needs Debian's python3-torch and python3-numpy (hence --python).
"""
import json, os, statistics, subprocess, tempfile

import seqrec_args

p = seqrec_args.parser()
p.add_argument("--models", default="gru4rec,sasrec")
p.add_argument("--runs", type=int, default=3)
p.add_argument("--epochs", type=int, default=5)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()


def epochs_of(lines):
    return [json.loads(l) for l in lines if l.startswith("{") and '"epoch"' in l and '"loss"' in l]


rows = []
with tempfile.TemporaryDirectory() as tmp:
    for model in a.models.split(","):
        ours, ref = [], []
        for run in range(a.runs):
            out = subprocess.run([a.cli, "train", "--data", a.data, "--model", model, "--protocol", "common",
                                  "--epochs", str(a.epochs), "--threads", str(a.threads), "--json",
                                  "--db", os.path.join(tmp, "bench.db")], check=True, capture_output=True, text=True)
            e = epochs_of(out.stdout.splitlines())
            m = e[-1]["metrics"]
            ours.append((statistics.median(x["samples_per_second"] for x in e), statistics.median(x["train_seconds"] for x in e),
                         m["full_ndcg@10"], m["hr@10"]))
            print(f"{model} reclab run {run + 1}: {ours[-1][0]:.0f} targets/s, {ours[-1][1]:.2f} s/epoch, "
                  f"full NDCG@10 {ours[-1][2]:.4f}, HR@10 {ours[-1][3]:.4f}", flush=True)
            out = subprocess.run([a.python, a.ref, "--model", model, "--data", a.data, "--epochs", str(a.epochs),
                                  "--threads", str(a.threads)], check=True, capture_output=True, text=True)
            e = epochs_of(out.stdout.splitlines())
            ref.append((statistics.median(x["samples_per_s"] for x in e), statistics.median(x["train_s"] for x in e),
                        e[-1]["ndcg10_full"], e[-1]["hr10_s100"]))
            print(f"{model} ref    run {run + 1}: {ref[-1][0]:.0f} targets/s, {ref[-1][1]:.2f} s/epoch, "
                  f"full NDCG@10 {ref[-1][2]:.4f}, HR@10 {ref[-1][3]:.4f}", flush=True)
        med = lambda r, k: statistics.median(x[k] for x in r)
        rows.append((model, med(ours, 0), med(ref, 0), med(ours, 1), med(ref, 1), med(ours, 2), med(ref, 2), med(ours, 3), med(ref, 3)))

print()
print(f"| model | targets/s RecLab | reference | ratio | s/epoch RecLab | reference | full NDCG@10 after {a.epochs} epochs RecLab | reference | HR@10 (100 sampled) RecLab | reference |")
print("|---|---|---|---|---|---|---|---|---|---|")
for m, t, tr, s, sr, n, nr, h, hr in rows:
    print(f"| {m} | {t:.0f} | {tr:.0f} | {t / tr:.2f}x | {s:.2f} | {sr:.2f} | {n:.4f} | {nr:.4f} | {h:.4f} | {hr:.4f} |")
