#!/usr/bin/env python3
"""PyTorch counterpart of descent's training-step workloads W1-W4
(crates/bench/src/workload.rs): one full step per iteration (zero grads,
forward, cross-entropy, backward, optimizer step), float32, after warm-up.

`cargo xtask bench` runs this once per round and thread count, alternating
with descent, and reads lines `workload NAME MS MS ...` (one per timed step),
the same protocol as descent's child processes. Exits 1 with a message on
stderr when torch is not importable (xtask checks `import torch` first).

Usage: python3 benches/torch_workloads.py [--threads N] [--quick]
"""
import argparse
import sys
import time


def mlp(dims, act):
    import torch.nn as nn

    layers = []
    for i, (d_in, d_out) in enumerate(zip(dims, dims[1:])):
        layers.append(nn.Linear(d_in, d_out))
        if i + 2 < len(dims):
            layers.append(act())
    return nn.Sequential(*layers)


def mlp_bn_dropout():
    import torch.nn as nn

    layers = []
    for d_in, d_out in [(784, 512), (512, 256)]:
        layers += [nn.Linear(d_in, d_out), nn.BatchNorm1d(d_out), nn.ReLU(), nn.Dropout(0.5)]
    layers.append(nn.Linear(256, 10))
    return nn.Sequential(*layers)


def cnn():
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2048, 10),
    )


def workloads():
    """name -> (model, optimizer factory, input shape, classes)."""
    import torch
    import torch.nn as nn

    adam = lambda ps: torch.optim.Adam(ps)
    return {
        "w1_sgd": (mlp([784, 512, 256, 10], nn.ReLU),
                   lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9), (128, 784), 10),
        "w1_adam": (mlp([784, 512, 256, 10], nn.ReLU), adam, (128, 784), 10),
        "w2_adam": (mlp([2, 64, 64, 2], nn.Tanh), adam, (32, 2), 2),
        "w3_adam": (cnn(), adam, (64, 3, 32, 32), 10),
        "w4_adamw": (mlp_bn_dropout(), lambda ps: torch.optim.AdamW(ps), (128, 784), 10),
    }


def time_workload(model, make_opt, shape, classes, budget_s):
    import torch
    import torch.nn.functional as F

    model.train()
    opt = make_opt(model.parameters())
    x = torch.rand(shape) * 2 - 1
    y = torch.randint(0, classes, (shape[0],))

    def step():
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    start = time.perf_counter()
    for _ in range(3):
        step()
    per_step = (time.perf_counter() - start) / 3
    iters = max(10, min(2000, int(budget_s / per_step)))
    step()
    samples = []
    for _ in range(iters):
        t = time.perf_counter()
        step()
        samples.append((time.perf_counter() - t) * 1e3)
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print("torch is not importable; the PyTorch comparison is skipped", file=sys.stderr)
        return 1
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    budget_s = 0.3 if args.quick else 2.0
    for name, (model, make_opt, shape, classes) in workloads().items():
        samples = time_workload(model, make_opt, shape, classes, budget_s)
        print("workload", name, " ".join(f"{ms:.5f}" for ms in samples), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
