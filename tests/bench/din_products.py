#!/usr/bin/env python3
"""The matrix products of DIN's local activation unit for one training batch, timed on one thread.

One batch of the DIN protocol on ml-100k is 256 samples with about 45 behaviours each, so the
unit runs on P = 11,520 (behaviour, candidate) pairs. Its first layer's behaviour part is
tabulated once per item (RecLab computes it per table row), so per pair the products are the
h * t part (32 -> 80), the second layer (80 -> 40) and the output (40 -> 1), forward and
backward (input and weight gradients). Each product is timed with the same LibTorch build and
BLAS as RecLab (torch.mm on one thread), best of several repeats, and the sum over an epoch of
3.6 M pairs is the least time the products alone can take.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/bench/din_products.py [--repeats N]
"""
import argparse
import time

import torch

PAIRS = 11520
EPOCH_PAIRS = 3.6e6
# (what, m, k, n): an [m, k] x [k, n] product
PRODUCTS = [
    ("h*t part, forward", PAIRS, 32, 80),
    ("layer 2, forward", PAIRS, 80, 40),
    ("output, forward", PAIRS, 40, 1),
    ("h*t part, input gradient", PAIRS, 80, 32),
    ("h*t part, weight gradient", 80, PAIRS, 32),
    ("layer 2, input gradient", PAIRS, 40, 80),
    ("layer 2, weight gradient", 40, PAIRS, 80),
    ("output, input gradient", PAIRS, 1, 40),
    ("output, weight gradient", 1, PAIRS, 40),
]


def best_seconds(a, b, repeats):
    for _ in range(5):
        a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(20):
            a @ b
        best = min(best, (time.perf_counter() - start) / 20)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    total_seconds = total_flops = 0.0
    for what, m, k, n in PRODUCTS:
        seconds = best_seconds(torch.randn(m, k), torch.randn(k, n), args.repeats)
        flops = 2.0 * m * k * n
        total_seconds += seconds
        total_flops += flops
        print(f"{what:28s} [{m} x {k}] x [{k} x {n}]  {seconds * 1e3:6.3f} ms  {flops / seconds / 1e9:5.1f} GFLOP/s")
    batches = EPOCH_PAIRS / PAIRS
    print(f"per batch {total_seconds * 1e3:.2f} ms ({total_flops / 1e6:.0f} MFLOP, {total_flops / total_seconds / 1e9:.1f} GFLOP/s); "
          f"an epoch's products: {total_seconds * batches:.2f} s on one thread, {total_flops * batches / 1e9:.0f} GFLOP")


if __name__ == "__main__":
    main()
