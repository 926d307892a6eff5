#!/usr/bin/env python3
"""Runs the plain PyTorch sequence reference (../shared/peers/seqrec_ref.py) unchanged, with two
additions it has no options for:

  --device D    its data tensors, masks and model are created on D (a GPU) through
                torch.set_default_device; the default is lifted again when the script builds its
                optimizer, before the first training step, so the device mode costs nothing per
                step. Needs PyTorch 2.x.
  --validation  each epoch's line also gets val_hr10_full and val_ndcg10_full: every user's
                latest-but-one item (the validation target, which the reference never trains on)
                ranked against every item outside the user's training part, ties against the
                target, from the latest --maxlen items before it: RecLab's validation on the full
                ranking (--validation-metric full_ndcg). Not part of the epoch's train_s.

Usage: seqrec_ref_run.py [--device D] [--validation] REF.py [the reference's own options]
"""
import json, math, runpy, sys

import numpy as np
import torch

args = sys.argv[1:]
device = None
validation = False
while args and args[0] in ("--device", "--validation"):
    if args[0] == "--device":
        device, args = args[1], args[2:]
    else:
        validation, args = True, args[1:]
if not args:
    sys.exit("usage: seqrec_ref_run.py [--device D] [--validation] REF.py [options]")
sys.argv = args

if device:
    adam_init = torch.optim.Adam.__init__

    def lift_then_init(self, *a, **k):
        torch.set_default_device(None)
        adam_init(self, *a, **k)

    torch.optim.Adam.__init__ = lift_then_init
    torch.set_default_device(device)

held = {}


def validate(g):
    """Validation metrics from the reference's own globals: model, seqs, window, n_items."""
    model, seqs = g["model"], g["seqs"]
    dev = next(model.parameters()).device
    if not held:
        held["input"] = torch.tensor(np.array([g["window"](s[:-2]) for s in seqs]), device=dev)
        held["target"] = torch.tensor(np.array([s[-2] for s in seqs]), device=dev)
        mask = torch.zeros(len(seqs), g["n_items"] + 1, dtype=torch.bool)
        # The training part and the target itself are out of the count (the reference's test
        # masks its target among the user's items the same way); the test item competes.
        for u, s in enumerate(seqs):
            mask[u, torch.from_numpy(s[:-1])] = True
        mask[:, 0] = True
        held["mask"] = mask.to(dev)
    model.eval()
    with torch.no_grad():
        x = held["input"]
        scores = torch.cat([model(x[i:i + 1024])[:, -1] @ model.emb.weight.T for i in range(0, len(x), 1024)])
    model.train()
    target = scores.gather(1, held["target"][:, None])
    rank = (scores.masked_fill(held["mask"], -math.inf) >= target).sum(1)
    hit = (rank < 10).float()
    return {"val_hr10_full": round(hit.mean().item(), 4),
            "val_ndcg10_full": round((hit / torch.log2(rank.float() + 2)).mean().item(), 4)}


if validation:
    dumps = json.dumps

    def with_validation(obj, *a, **k):
        if isinstance(obj, dict) and "epoch" in obj and "train_s" in obj:
            obj = {**obj, **validate(sys._getframe(1).f_globals)}
        return dumps(obj, *a, **k)

    json.dumps = with_validation
runpy.run_path(sys.argv[0], run_name="__main__")
