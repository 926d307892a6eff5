#!/usr/bin/python3
"""The content and hybrid models' tables: cold items (the cold protocol) and warm items (leave-one-out).

Cold: for each dataset and seed, `reclab-cli train --protocol cold --seed S --json` for the content
model, the hybrid NeuMF and NeuMF (ids only), and `reclab-cli data cold --scorers popularity,random`
on the same split (same share and seed) for the baselines no model can be: popularity among the cold
items (it peeks at the other users' held-out choices) and random. HR@10 and NDCG@10 against every
unchosen cold item (full) and against 100 sampled ones.

Warm: `reclab-cli train --protocol loo --seed S --json` for NeuMF and the hybrid at their defaults
(the final epoch's HR@10 and NDCG@10 against 99 sampled negatives, as the README's NCF figures).

Usage: tests/bench/content_tables.py [--data ../shared/datasets/ml-100k] [--share 0.1] [--seeds 1,2,3]
           [--tables cold,warm] [--cli build/app/reclab-cli] [--extra "--text-fields title,genres,year"]
"""
import argparse, json, os, statistics, subprocess, tempfile

p = argparse.ArgumentParser()
p.add_argument("--data", default="../shared/datasets/ml-100k")
p.add_argument("--share", default="0.1")
p.add_argument("--seeds", default="1,2,3")
p.add_argument("--tables", default="cold,warm")
p.add_argument("--cli", default="build/app/reclab-cli")
p.add_argument("--threads", default="2")
p.add_argument("--extra", default="", help="options added to every train command")
a = p.parse_args()
seeds = [int(s) for s in a.seeds.split(",")]
db = os.path.join(tempfile.mkdtemp(), "runs.db")


def train(model, protocol, seed, *options):
    cmd = [a.cli, "train", "--model", model, "--protocol", protocol, "--data", a.data, "--seed", str(seed), "--db", db,
           "--threads", a.threads, "--json", *options, *a.extra.split()]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    lines = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    epochs = [l for l in lines if "train_seconds" in l]
    final = lines[-1]["metrics"]
    final["seconds"] = sum(e["train_seconds"] for e in epochs)
    return final


def baselines(seed):
    cmd = [a.cli, "data", "cold", a.data, "--share", a.share, "--seeds", str(seed), "--scorers", "popularity,random", "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in out.splitlines():
        r = json.loads(line)
        rows[r["scorer"]] = {"full_hr@10": r["hr10_full"], "full_ndcg@10": r["ndcg10_full"], "hr@10": r["hr10_s100"],
                             "ndcg@10": r["ndcg10_s100"]}
    return rows


def table(title, rows, keys):
    print(f"\n{title}\n")
    print("| model | " + " | ".join(f"{k}, seeds {a.seeds}" for k in keys) + " | mean " + " | mean ".join(keys) + " |")
    print("|---|" + "---|" * (2 * len(keys)))
    for name, per_seed in rows.items():
        cells = [" / ".join(f"{m[k]:.4f}" for m in per_seed) for k in keys]
        means = [statistics.mean(m[k] for m in per_seed) for k in keys]
        print(f"| {name} | " + " | ".join(cells) + " | " + " | ".join(f"{v:.4f}" for v in means) + " |")


if "cold" in a.tables:
    rows = {"content": [], "hybrid": [], "neumf (ids only)": [], "popularity among cold items (peeks)": [], "random": []}
    for s in seeds:
        rows["content"].append(train("content", "cold", s, "--cold-share", a.share))
        rows["hybrid"].append(train("hybrid", "cold", s, "--cold-share", a.share))
        rows["neumf (ids only)"].append(train("neumf", "cold", s, "--cold-share", a.share, "--no-pretrain"))
        b = baselines(s)
        rows["popularity among cold items (peeks)"].append(b["popularity"])
        rows["random"].append(b["random"])
    table(f"Cold items of {a.data} (share {a.share})", rows, ["full_hr@10", "full_ndcg@10", "hr@10"])

if "warm" in a.tables:
    rows = {"neumf": [], "hybrid": []}
    for s in seeds:
        for m in rows:
            rows[m].append(train(m, "loo", s))
    table(f"Warm items of {a.data} (leave-one-out, 99 negatives)", rows, ["hr@10", "ndcg@10"])
    for m, per_seed in rows.items():
        print(f"{m}: training {statistics.mean(r['seconds'] for r in per_seed):.1f} s a run (mean)")
