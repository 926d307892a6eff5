#!/usr/bin/env python3
"""Plain PyTorch NeuMF training steps on a GPU (or the CPU), for side-by-side figures with
`reclab-cli bench speed`: the NCF paper's sizes (8 factors, MLP 64-32-16-8), Adam, binary
cross-entropy, no L2; users and items drawn at random in the given shape (ML-20M's by default)
and kept on the device, batches are views of them, as RecLab's loop does.

Usage: tests/bench/neumf_gpu_ref.py [--device cuda] [--batch 256,1024] [--seconds 12]
                                    [--users 128911] [--items 26744]
Prints one JSON object per batch size (samples_per_second over the timed steps).
"""
import argparse, json, time

import torch
from torch import nn

p = argparse.ArgumentParser()
p.add_argument("--device", default="cuda")
p.add_argument("--batch", default="256,1024,4096,16384")
p.add_argument("--seconds", type=float, default=12.0)
p.add_argument("--users", type=int, default=128911)
p.add_argument("--items", type=int, default=26744)
p.add_argument("--samples", type=int, default=20_000_000)
a = p.parse_args()
dev = torch.device(a.device)


class NeuMF(nn.Module):
    def __init__(self, users, items, factors=8, layers=(64, 32, 16, 8)):
        super().__init__()
        self.gmf_user = nn.Embedding(users, factors)
        self.gmf_item = nn.Embedding(items, factors)
        self.mlp_user = nn.Embedding(users, layers[0] // 2)
        self.mlp_item = nn.Embedding(items, layers[0] // 2)
        tower = []
        for i, o in zip(layers[:-1], layers[1:]):
            tower += [nn.Linear(i, o), nn.ReLU()]
        self.tower = nn.Sequential(*tower)
        self.out = nn.Linear(factors + layers[-1], 1)

    def forward(self, u, i):
        gmf = self.gmf_user(u) * self.gmf_item(i)
        mlp = self.tower(torch.cat([self.mlp_user(u), self.mlp_item(i)], 1))
        return self.out(torch.cat([gmf, mlp], 1)).squeeze(1)


torch.manual_seed(42)
users = torch.randint(0, a.users, (a.samples,), device=dev)
items = torch.randint(0, a.items, (a.samples,), device=dev)
labels = (torch.rand(a.samples, device=dev) < 0.2).float()
for batch in [int(b) for b in a.batch.split(",")]:
    model = NeuMF(a.users, a.items).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_fn = nn.BCEWithLogitsLoss()
    steps = a.samples // batch
    done, timed, window = 0, 0.0, torch.zeros((), device=dev)
    t0 = None
    for s in range(steps):
        lo = s * batch
        opt.zero_grad()
        loss = loss_fn(model(users[lo:lo + batch], items[lo:lo + batch]), labels[lo:lo + batch])
        loss.backward()
        opt.step()
        window += loss.detach()
        if (s + 1) % 20 == 0:  # a loss report, as RecLab's loop makes every 20 batches
            window.item()
            now = time.perf_counter()
            if t0 is not None:
                done += 20 * batch
                timed = now - t0
            else:
                t0 = now
            if timed >= a.seconds:
                break
    print(json.dumps({"reference": "pytorch", "torch": torch.__version__, "device": a.device, "batch": batch,
                      "samples_per_second": done / timed if timed else 0.0, "timed_seconds": timed}), flush=True)
