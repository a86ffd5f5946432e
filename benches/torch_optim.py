#!/usr/bin/env python3
"""PyTorch counterpart of benches/benchmarks/optim.rs: one optimizer step over
10M float32 parameters (one tensor, and 100 tensors of 100k), 2 threads.

Prints ms/step (median) and GB/s of the bytes each optimizer must touch
(Adam/AdamW 28 B/param, SGD-momentum 20 B/param). Skips cleanly, exit 0,
when torch is not installed.  Usage: python3 benches/torch_optim.py
"""
import statistics
import sys
import time

try:
    import torch
except ImportError:
    print("torch is not installed; skipping the PyTorch optimizer comparison")
    sys.exit(0)

N = 10_000_000
torch.set_num_threads(2)


def params(n_tensors):
    ps = [torch.nn.Parameter(torch.rand(N // n_tensors) * 0.1) for _ in range(n_tensors)]
    for p in ps:
        p.grad = torch.rand_like(p) * 0.01
    return ps


def bench(make, n_tensors, reps=20):
    ps = params(n_tensors)
    opt = make(ps)
    opt.step()  # allocate the state
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        opt.step()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


CASES = [
    ("adam (foreach)", 28, lambda ps: torch.optim.Adam(ps, foreach=True)),
    ("adam (fused)", 28, lambda ps: torch.optim.Adam(ps, fused=True)),
    ("adamw (fused)", 28, lambda ps: torch.optim.AdamW(ps, fused=True)),
    ("sgd_momentum (foreach)", 20, lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9, foreach=True)),
]

for layout, n_tensors in [("1x10M", 1), ("100x100k", 100)]:
    for name, bytes_per_param, make in CASES:
        try:
            dt = bench(make, n_tensors)
        except (RuntimeError, TypeError) as e:  # e.g. fused unsupported on this build
            print(f"{name:24s} {layout:9s} unavailable: {e}")
            continue
        print(f"{name:24s} {layout:9s} {dt * 1e3:7.2f} ms/step {bytes_per_param * N / dt / 1e9:6.1f} GB/s")
