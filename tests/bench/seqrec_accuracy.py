#!/usr/bin/python3
"""Sequence models on MovieLens-100K against the plain PyTorch reference, at their plateau: every
epoch's full-ranking NDCG@10 and HR@10 against 100 sampled items (ties against the target on both
sides), several seeds, mean ± std.

RecLab side: `reclab-cli train --protocol common --seed S --json` for each model at its defaults;
the figure is the median of its last 5 epochs. Reference side:
../shared/peers/seqrec_ref.py --model M --epochs 150 --batch 128 --seed S (the issue's plateau: the
median of its last 20 epochs; also its best epoch). With --ref-logs DIR the reference runs are read
from DIR/<model>-<seed>.jsonl (written by an earlier run of this script or by hand with the same
command) instead of run again; they take about 13 (GRU4Rec) and 15 (SASRec) minutes a seed here.

Time to the reference's best validation NDCG@10 (--speed-on validation, the default): for each
seed, the epochs RecLab needs until its validation full NDCG@10 (a second run with
--validation-metric full_ndcg@10 --patience 0) first reaches the best the reference's validation
curve reached (seqrec_ref_run.py --validation: each user's latest-but-one item ranked the same
way), against the epochs the reference needed, each side's epochs × the median training seconds
of its epochs (RecLab's from its plain run); the same for the reference's validation plateau. --speed-on test reads both sides' test
curves instead (one run a side).

Usage: tests/bench/seqrec_accuracy.py [--models gru4rec,sasrec,caser] [--seeds 1,2,3] [--threads 1]
           [--ref-logs DIR] [--save-ref DIR] [--ours-logs DIR] [--save-ours DIR] [--speed-on validation|test]
           [--cli build/app/reclab-cli] [--python /usr/bin/python3]
RecLab's validated runs are DIR/<model>-<seed>-val.jsonl beside its plain ones.
"""
import json, os, statistics, subprocess, tempfile

import seqrec_args

p = seqrec_args.parser()
p.add_argument("--models", default="gru4rec,sasrec,caser")
p.add_argument("--seeds", default="1,2,3")
p.add_argument("--threads", type=int, default=1)
p.add_argument("--ref-logs", help="read the reference's runs from DIR/<model>-<seed>.jsonl")
p.add_argument("--save-ref", help="keep the reference's runs in DIR/<model>-<seed>.jsonl")
p.add_argument("--ours-logs", help="read RecLab's runs (train --json output) from DIR/<model>-<seed>.jsonl")
p.add_argument("--save-ours", help="keep RecLab's runs in DIR/<model>-<seed>.jsonl")
p.add_argument("--only-ours", action="store_true", help="run RecLab's side alone (no table)")
p.add_argument("--speed-on", choices=["validation", "test"], default="validation",
               help="the curves the time to the reference's best is read from")
a = p.parse_args()
seeds = [int(s) for s in a.seeds.split(",")]
REF_MODELS = {"gru4rec", "sasrec"}


def reclab_run(model, seed, db, validated=False):
    """(epoch, seconds, full NDCG@10, sampled HR@10) per epoch: test metrics, or validation ones."""
    name = f"{model}-{seed}{'-val' if validated else ''}.jsonl"
    if a.ours_logs:
        lines = open(os.path.join(a.ours_logs, name)).read().splitlines()
    else:
        extra = ["--validation-metric", "full_ndcg@10", "--patience", "0"] if validated else []
        lines = subprocess.run([a.cli, "train", "--data", a.data, "--model", model, "--protocol", "common", "--seed", str(seed),
                                "--threads", str(a.threads), "--json", "--db", db] + extra, check=True, capture_output=True,
                               text=True).stdout.splitlines()
        if a.save_ours:
            os.makedirs(a.save_ours, exist_ok=True)
            with open(os.path.join(a.save_ours, name), "w") as f:
                f.write("\n".join(lines) + "\n")
    epochs = [json.loads(l) for l in lines if l.startswith("{") and '"train_seconds"' in l]
    pre = "val_" if validated else ""
    return [(e["epoch"], e["train_seconds"], e["metrics"][pre + "full_ndcg@10"], e["metrics"][pre + "hr@10"]) for e in epochs]


def ref_run(model, seed):
    if a.ref_logs:
        lines = open(os.path.join(a.ref_logs, f"{model}-{seed}.jsonl")).read().splitlines()
    else:
        lines = subprocess.run([a.python, os.path.join(seqrec_args.here, "seqrec_ref_run.py"), "--validation", a.ref, "--model", model, "--data", a.data, "--epochs", "150", "--batch", "128",
                                "--threads", str(a.threads), "--seed", str(seed)],
                               check=True, capture_output=True, text=True).stdout.splitlines()
        if a.save_ref:
            os.makedirs(a.save_ref, exist_ok=True)
            with open(os.path.join(a.save_ref, f"{model}-{seed}.jsonl"), "w") as f:
                f.write("\n".join(lines) + "\n")
    epochs = [json.loads(l) for l in lines if l.startswith("{")]
    if a.speed_on == "validation" and epochs and "val_ndcg10_full" not in epochs[0]:
        raise SystemExit(f"{model}-{seed}: the reference's log has no validation columns (run it through seqrec_ref_run.py --validation)")
    test = [(e["epoch"], e["train_s"], e["ndcg10_full"], e["hr10_s100"]) for e in epochs]
    return test, [(e["epoch"], e["train_s"], e.get("val_ndcg10_full"), e.get("val_hr10_full")) for e in epochs]


def seconds_to(curve, target, per_epoch=None):
    """(training seconds, epochs) until the curve's NDCG@10 first reaches target (None: never);
    with per_epoch, epochs × per_epoch instead of the summed epoch times."""
    for i, c in enumerate(curve):
        if c[2] >= target:
            return ((i + 1) * per_epoch if per_epoch else sum(x[1] for x in curve[:i + 1]), i + 1)
    return None


def shown(t):
    """Seconds, with the epochs in brackets."""
    return "%.0f s (%d)" % t if t is not None else "not reached"


def mean_std(xs):
    return f"{statistics.mean(xs):.4f} ± {statistics.stdev(xs) if len(xs) > 1 else 0:.4f}"


rows = []
with tempfile.TemporaryDirectory() as tmp:
    for model in a.models.split(","):
        ours, refs, speed = [], [], []
        for seed in seeds:
            curve = reclab_run(model, seed, os.path.join(tmp, "bench.db"))
            last = curve[-5:] # the median of the last 5 epochs (the reference: of its last 20)
            ours.append((curve[-1][0], 0, statistics.median(c[2] for c in last), statistics.median(c[3] for c in last)))
            print(f"{model} seed {seed}: RecLab {len(curve)} epochs, {statistics.median(c[1] for c in curve):.2f} s/epoch, "
                  f"full NDCG@10 {ours[-1][2]:.4f}, sampled HR@10 {ours[-1][3]:.4f} (last 5 epochs' median)", flush=True)
            if model not in REF_MODELS or a.only_ours:
                continue
            ref, ref_val = ref_run(model, seed)
            tail = ref[-20:]
            plateau = (statistics.median(r[2] for r in tail), statistics.median(r[3] for r in tail))
            refs.append(plateau)
            on_validation = a.speed_on == "validation"
            timed = reclab_run(model, seed, os.path.join(tmp, "bench.db"), True) if on_validation else curve
            ref_timed = ref_val if on_validation else ref
            best = max(ref_timed, key=lambda r: r[2])
            level = statistics.median(r[2] for r in ref_timed[-20:])
            per_epoch = statistics.median(r[1] for r in ref)
            # Both sides: epochs to the level × the median seconds of an epoch of the plain run.
            ours_epoch = statistics.median(c[1] for c in curve)
            speed.append((seconds_to(timed, best[2], ours_epoch), seconds_to(ref_timed, best[2], per_epoch),
                          seconds_to(timed, level, ours_epoch), seconds_to(ref_timed, level, per_epoch)))
            print(f"{model} seed {seed}: reference plateau NDCG@10 {plateau[0]:.4f} HR@10 {plateau[1]:.4f}; its {a.speed_on} "
                  f"NDCG@10 best {best[2]:.4f} at epoch {best[0]}, plateau {level:.4f}; RecLab's {a.speed_on} best "
                  f"{max(t[2] for t in timed):.4f}; time to the reference's best: RecLab {shown(speed[-1][0])}, reference "
                  f"{shown(speed[-1][1])}; to its plateau: RecLab {shown(speed[-1][2])}, reference {shown(speed[-1][3])}",
                  flush=True)
        rows.append((model, ours, refs, speed))

if a.only_ours:
    raise SystemExit(0)
print()
print("| model | seeds | RecLab full NDCG@10 | reference plateau | RecLab sampled HR@10 | reference plateau | "
      f"time to the reference's best {a.speed_on} NDCG@10: RecLab | reference | to its plateau: RecLab | reference |")
print("|---|---|---|---|---|---|---|---|---|---|")
for model, ours, refs, speed in rows:
    ref_n = mean_std([r[0] for r in refs]) if refs else "–"
    ref_h = mean_std([r[1] for r in refs]) if refs else "–"
    times = [", ".join(shown(s[k]) for s in speed) or "–" for k in range(4)]
    print(f"| {model} | {len(ours)} | {mean_std([o[2] for o in ours])} | {ref_n} | {mean_std([o[3] for o in ours])} | "
          f"{ref_h} | " + " | ".join(times) + " |")
