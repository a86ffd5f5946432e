#!/usr/bin/env python3
"""PyTorch counterpart of descent's workloads (crates/bench): W1-W4 and W7
(LeNet-style CNN on 1x28x28 images) training steps (zero grads, forward,
cross-entropy, backward, optimizer step), W5 one
optimizer step over 10M parameters (fused=True, and the default constructor),
W6 crop + flip + brightness/contrast on a batch of 3x32x32 images as batched
tensor ops, and the W6 family of single augmentation ops (`w6op_*`, and
`w6mask_*` with a segmentation mask) through torchvision v2 called once per
sample, as a DataLoader's __getitem__ does; float32, after warm-up.

`cargo xtask bench` runs this once per round and thread count, alternating
with descent, and reads the line protocol of xtask/src/bench/protocol.rs:
`threads N`, `workload NAME MS MS ...` (one time per timed iteration) and
`note KEY VALUE`. W5's `fused=True` lines carry descent's names
(`w5_adam_1x10m`); the default constructor's add `:default`. Exits 1 with a
message on stderr when torch is not importable (xtask checks first).

W8 (`--only w8_epoch`, `--only w8_epoch:workers2`): one epoch of training
on the first 10,000 MNIST training images (IDX files under --mnist, read
once, untimed) through a `DataLoader` (batch 128, shuffled; no workers, or 2
persistent ones) with torchvision v2's RandomCrop(28, padding=2) and
Normalize per sample, the W4 model and AdamW; one time per epoch after a
warm-up epoch. `--only NAMES` runs just the named workloads (W1-W6 names too)
and prints `peak KIB`, the process's VmHWM, at the end.

Usage: python benches/torch_workloads.py [--threads N] [--quick]
       [--w5-params N] [--w6-batch N] [--rows PREFIX,...] [--only NAMES] [--mnist DIR]
       [--op-budget SECONDS] [--op-min-iters N]

--rows times only the rows whose names start with one of the prefixes
(xtask's `--rows`, e.g. `w7`). A W6-family row torchvision cannot run
prints `note unavailable:NAME REASON` instead of times.
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


def lenet():
    """W7, layer for layer as descent_bench::W7_ARCHITECTURE: Conv2d(1->8, 5x5)
    -> BatchNorm2d(8) -> ReLU -> MaxPool2d(2) -> Conv2d(8->16, 5x5) ->
    BatchNorm2d(16) -> ReLU -> MaxPool2d(2) -> Flatten(16*4*4 = 256) ->
    Linear(256->120) -> ReLU -> Linear(120->10), PyTorch's default arguments."""
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv2d(1, 8, 5), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 5), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 4 * 4, 120), nn.ReLU(), nn.Linear(120, 10),
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
        "w7_sgd": (lenet(), lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9),
                   (64, 1, 28, 28), 10),
        "w7_adamw": (lenet(), lambda ps: torch.optim.AdamW(ps), (64, 1, 28, 28), 10),
    }


def time_by(step, budget_s, probes, min_iters, warmups):
    """descent's timing rule (xtask bench's `time_by`): the median of
    `probes` probe steps sizes the run to about budget_s seconds, min_iters
    to 2000 iterations, timed one by one (ms) after `warmups` untimed ones.
    (The median, not the mean: a first step that allocates the optimizer's
    state would otherwise shrink the run.)"""
    probe = []
    for _ in range(probes):
        t = time.perf_counter()
        step()
        probe.append(time.perf_counter() - t)
    per_step = max(sorted(probe)[len(probe) // 2], 1e-9)
    iters = max(min_iters, min(2000, int(budget_s / per_step)))
    for _ in range(warmups):
        step()
    samples = []
    for _ in range(iters):
        t = time.perf_counter()
        step()
        samples.append((time.perf_counter() - t) * 1e3)
    return samples


def time_steps(step, budget_s):
    """W1-W6's rule (`Rule::workload`): three probe steps, one warm-up, 10 to
    2000 iterations."""
    return time_by(step, budget_s, probes=3, min_iters=10, warmups=1)


def training_step(model, make_opt, shape, classes):
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

    return step


# W5: descent's OptimKind configs (crates/bench/src/optim_step.rs).
W5_OPTIMIZERS = [
    ("adam", lambda torch, ps, **kw: torch.optim.Adam(ps, **kw)),
    ("adamw", lambda torch, ps, **kw: torch.optim.AdamW(ps, **kw)),
    ("sgd", lambda torch, ps, **kw: torch.optim.SGD(ps, lr=0.01, momentum=0.9, **kw)),
]
W5_TENSORS = [1, 100]


def short(n):
    """10000000 -> '10m', 100000 -> '100k' (descent's layout names)."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def w5_params(n_params, n_tensors):
    import torch

    ps = [torch.nn.Parameter(torch.rand(n_params // n_tensors) * 0.1 - 0.05)
          for _ in range(n_tensors)]
    for p in ps:
        p.grad = torch.rand_like(p) * 0.01 - 0.005
    return ps


def default_impl(params):
    """Which implementation the optimizer constructor without `foreach` or
    `fused` picks for these tensors (PyTorch's own rule)."""
    try:
        from torch.optim.optimizer import _default_to_fused_or_foreach
        fused, foreach = _default_to_fused_or_foreach(params, differentiable=False, use_fused=False)
    except (ImportError, TypeError):
        return "an implementation this script could not identify"
    if fused:
        return "its fused implementation"
    return "its foreach implementation" if foreach else "its single-tensor for-loop implementation"


def w5(n_params, budget_s, wanted=lambda name: True, only=None):
    """Yields (name, samples) for every optimizer and layout, fused then
    default, whose name `wanted` accepts (only the one called `only`, when
    given)."""
    import torch

    for n_tensors in W5_TENSORS:
        layout = f"{n_tensors}x{short(n_params // n_tensors)}"
        for opt_name, make in W5_OPTIMIZERS:
            for suffix, kw in [("", {"fused": True}), (":default", {})]:
                if not wanted(f"w5_{opt_name}_{layout}"):
                    continue
                if only is not None and only != f"w5_{opt_name}_{layout}{suffix}":
                    continue
                ps = w5_params(n_params, n_tensors)
                opt = make(torch, ps, **kw)
                samples = time_steps(opt.step, budget_s)
                yield f"w5_{opt_name}_{layout}{suffix}", samples
                del opt, ps


def augment_batched(x, pad=4, brightness=0.2, contrast=0.2):
    """descent's W6 pipeline on an N x C x H x W batch as batched tensor ops:
    zero padding + a random crop per sample (every window of the padded
    batch as an unfold view, one picked per sample by index), a horizontal
    flip per sample (torch.where on a mask), then brightness and contrast
    factors per sample in a random order per sample (torchvision's
    ColorJitter semantics: brightness scales, contrast blends with the grey
    mean, both clamp to [0, 1])."""
    import torch
    import torch.nn.functional as F

    n, c, h, w = x.shape
    windows = F.pad(x, (pad, pad, pad, pad)).unfold(2, h, 1).unfold(3, w, 1)
    top = torch.randint(0, 2 * pad + 1, (n,))
    left = torch.randint(0, 2 * pad + 1, (n,))
    out = windows[torch.arange(n), :, top, left]
    flip = (torch.rand(n) < 0.5)[:, None, None, None]
    out = torch.where(flip, out.flip(-1), out)
    b = torch.empty(n).uniform_(1 - brightness, 1 + brightness)
    k = torch.empty(n).uniform_(1 - contrast, 1 + contrast)
    brightness_first = torch.rand(n) < 0.5
    luma = torch.tensor([0.2989, 0.587, 0.114])
    for use_b in (brightness_first, ~brightness_first):
        # One affine pass per slot: brightness (b·x) or contrast (k·x + (1-k)·mean).
        mean = out.mean(dim=(2, 3)) @ luma
        scale = torch.where(use_b, b, k)
        shift = torch.where(use_b, torch.zeros_like(k), (1 - k) * mean)
        out.mul_(scale[:, None, None, None]).add_(shift[:, None, None, None]).clamp_(0, 1)
    return out


def w6(batch, budget_s):
    import torch

    # descent_bench::augment_input: (i % 251) / 250, NCHW.
    x = (torch.arange(batch * 3 * 32 * 32) % 251).float().div_(250).reshape(batch, 3, 32, 32)
    return time_steps(lambda: augment_batched(x), budget_s)


W8_IMAGES = 10_000
W8_BATCH = 128
W8_EPOCHS = 5
W8_EPOCHS_QUICK = 2
MNIST_MEAN_STD = (0.1307, 0.3081)


def read_idx(path, magic, limit):
    """The first `limit` records of an IDX file (gzipped or raw) as a uint8
    tensor of its dimensions (descent_data's reader, in Python)."""
    import gzip
    import struct
    import torch

    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        found, = struct.unpack(">I", f.read(4))
        if found != magic:
            raise ValueError(f"{path}: magic {found:#010x}, expected {magic:#010x}")
        dims = list(struct.unpack(">" + "I" * (magic & 0xFF), f.read(4 * (magic & 0xFF))))
        dims[0] = min(dims[0], limit)
        n = 1
        for d in dims:
            n *= d
        data = f.read(n)
    if len(data) != n:
        raise ValueError(f"{path}: truncated ({len(data)} of {n} data bytes)")
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).reshape(dims)


def mnist_train(root, limit):
    """Images (N x 1 x 28 x 28 float32 in [0, 1], as ToDtype(scale=True))
    and labels (int64) of MNIST's first `limit` training samples under
    `root` (the data root or the mnist folder), `.gz` or raw."""
    import os
    import torch

    folder = os.path.join(root, "mnist")
    if not os.path.isdir(folder):
        folder = root

    def find(name):
        gz = os.path.join(folder, name + ".gz")
        return gz if os.path.exists(gz) else os.path.join(folder, name)

    x = read_idx(find("train-images-idx3-ubyte"), 0x803, limit)
    y = read_idx(find("train-labels-idx1-ubyte"), 0x801, limit)
    return x.unsqueeze(1).to(torch.float32).div_(255), y.to(torch.int64)


def w8(root, workers, epochs):
    """One time in ms per training epoch over a DataLoader with torchvision
    v2 transforms (after one warm-up epoch)."""
    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, Dataset
    from torchvision.transforms import v2

    x, y = mnist_train(root, W8_IMAGES)
    mean, std = MNIST_MEAN_STD

    class Mnist(Dataset):
        def __init__(self, transform):
            self.transform = transform

        def __len__(self):
            return len(y)

        def __getitem__(self, i):
            return self.transform(x[i]), y[i]

    transform = v2.Compose([v2.RandomCrop(28, padding=2), v2.Normalize([mean], [std])])
    loader = DataLoader(Mnist(transform), batch_size=W8_BATCH, shuffle=True,
                        num_workers=workers, persistent_workers=workers > 0)
    model = mlp_bn_dropout()
    opt = torch.optim.AdamW(model.parameters())

    def epoch():
        model.train()
        loss_sum, correct, seen = 0.0, 0, 0
        for xb, yb in loader:
            opt.zero_grad()
            out = model(xb.flatten(1))
            loss = F.cross_entropy(out, yb)
            loss.backward()
            opt.step()
            n = yb.shape[0]
            loss_sum += loss.item() * n
            correct += (out.argmax(1) == yb).sum().item()
            seen += n
        return loss_sum / seen

    epoch()
    samples = []
    for _ in range(epochs):
        t = time.perf_counter()
        loss = epoch()
        samples.append((time.perf_counter() - t) * 1e3)
        if loss != loss:
            raise RuntimeError(f"W8's training loss is {loss}")
    return samples


def peak_kib():
    """VmHWM of /proc/self/status (KiB), or None."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def run_only(names, args, budget_s, report):
    """Times just `names` (W1-W6 and W8 names) in this process."""
    import torch

    table = workloads()
    w5_names = {f"w5_{o}_{t}x{short(args.w5_params // t)}{suf}"
                for t in W5_TENSORS for o, _ in W5_OPTIMIZERS for suf in ("", ":default")}
    for name in names:
        if name in table:
            model, make_opt, shape, classes = table[name]
            report(name, time_steps(training_step(model, make_opt, shape, classes), budget_s))
        elif name in w5_names:
            for n, samples in w5(args.w5_params, budget_s, only=name):
                report(n, samples)
        elif name == "w6_augment":
            report(name, w6(args.w6_batch, budget_s))
        elif name in ("w8_epoch", "w8_epoch:workers2"):
            if args.mnist is None:
                raise SystemExit("w8 needs --mnist DIR")
            workers = 2 if name.endswith(":workers2") else 0
            report(name, w8(args.mnist, workers, W8_EPOCHS_QUICK if args.quick else W8_EPOCHS))
        else:
            raise SystemExit(f"no workload is called {name!r}")
    kib = peak_kib()
    if kib is not None:
        print("peak", kib, flush=True)
    del torch


def w6_ops():
    """name -> torchvision v2 transform, the ops of descent_bench::AugOpId
    (crates/bench/src/augment_ops.rs) with descent's parameters; every op
    applies to every sample (p=1)."""
    from torchvision.transforms import v2

    I = v2.InterpolationMode
    affine = dict(degrees=15, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=(-10, 10))
    return {
        "gaussian_blur": lambda: v2.GaussianBlur(3, (0.1, 2.0)),
        "perspective": lambda: v2.RandomPerspective(0.5, p=1.0, interpolation=I.BILINEAR),
        "elastic": lambda: v2.ElasticTransform(),
        "posterize": lambda: v2.RandomPosterize(4, p=1.0),
        "solarize": lambda: v2.RandomSolarize(0.5, p=1.0),
        "equalize": lambda: v2.RandomEqualize(p=1.0),
        "autocontrast": lambda: v2.RandomAutocontrast(p=1.0),
        "sharpness": lambda: v2.RandomAdjustSharpness(2.0, p=1.0),
        "invert": lambda: v2.RandomInvert(p=1.0),
        "rotate_nearest": lambda: v2.RandomRotation(30, interpolation=I.NEAREST),
        "rotate_bilinear": lambda: v2.RandomRotation(30, interpolation=I.BILINEAR),
        "affine_nearest": lambda: v2.RandomAffine(**affine, interpolation=I.NEAREST),
        "affine_bilinear": lambda: v2.RandomAffine(**affine, interpolation=I.BILINEAR),
        # descent resizes without antialiasing; a 32x32 output from a crop of
        # at most 32x32 never downsamples, so antialias would change nothing.
        "resized_crop": lambda: v2.RandomResizedCrop(32, antialias=False),
        "autoaugment_imagenet": lambda: v2.AutoAugment(v2.AutoAugmentPolicy.IMAGENET),
        "randaugment": lambda: v2.RandAugment(interpolation=I.BILINEAR, fill=0),
        "trivialaugment_wide": lambda: v2.TrivialAugmentWide(interpolation=I.BILINEAR, fill=0),
        "augmix": lambda: v2.AugMix(),
        "crop_flip": lambda: v2.Compose([v2.RandomCrop(32, padding=4), v2.RandomHorizontalFlip()]),
    }


# descent_bench::AugOpId::ALL and WITH_MASK, in its order.
W6_OPS_IMAGE = ["gaussian_blur", "perspective", "elastic", "posterize", "solarize", "equalize",
                "autocontrast", "sharpness", "invert", "rotate_nearest", "rotate_bilinear",
                "affine_nearest", "affine_bilinear", "resized_crop", "autoaugment_imagenet",
                "randaugment", "trivialaugment_wide", "augmix"]
W6_OPS_MASK = ["crop_flip", "rotate_nearest", "affine_bilinear", "resized_crop", "perspective",
               "elastic"]
MASK_CLASSES = 5


def time_rows(step, budget_s, min_iters):
    """The W6 family's rule (`Rule::op_row`): one probe iteration, which is
    also the warm-up, then min_iters to 2000."""
    return time_by(step, budget_s, probes=1, min_iters=min_iters, warmups=0)


def w6_op_step(transform, batch, with_mask):
    """One iteration: the transform on every sample of the batch, one call
    per sample (each call draws that sample's parameters), the results
    written into an output batch; with a mask, image and mask go through
    the same call as tv_tensors."""
    import torch
    from torchvision import tv_tensors

    # descent_bench::augment_input and augment_masks.
    x = (torch.arange(batch * 3 * 32 * 32) % 251).float().div_(250).reshape(batch, 3, 32, 32)
    rows = torch.arange(32)[:, None].expand(32, 32)
    m = (rows * MASK_CLASSES // 32).to(torch.int64).expand(batch, 32, 32).contiguous()
    out = torch.empty_like(x)
    out_m = torch.empty_like(m)
    images = [tv_tensors.Image(x[i]) for i in range(batch)]
    masks = [tv_tensors.Mask(m[i]) for i in range(batch)]

    def step():
        if with_mask:
            for i in range(batch):
                img, mask = transform(images[i], masks[i])
                out[i] = img
                out_m[i] = mask
        else:
            for i in range(batch):
                out[i] = transform(x[i])

    return step


def w6_op_rows(batch, budget_s, min_iters, selected):
    """Yields (name, samples or None, reason) for every W6-family row
    selected: None and the error when torchvision cannot run the op."""
    ops = w6_ops()
    rows = [(op, False) for op in W6_OPS_IMAGE] + [(op, True) for op in W6_OPS_MASK]
    for op, with_mask in rows:
        name = ("w6mask_" if with_mask else "w6op_") + op
        if not selected(name):
            continue
        try:
            step = w6_op_step(ops[op](), batch, with_mask)
            yield name, time_rows(step, budget_s, min_iters), None
        except Exception as e:  # an op this torch/torchvision cannot run
            yield name, None, f"{type(e).__name__}: {e}".replace("\n", " ")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--w5-params", type=int, default=10_000_000)
    parser.add_argument("--w6-batch", type=int, default=1024)
    parser.add_argument("--rows", default="", help="comma-separated row-name prefixes")
    parser.add_argument("--only", default=None, help="comma-separated workload names")
    parser.add_argument("--mnist", default=None, help="folder holding mnist/ (W8)")
    parser.add_argument("--op-budget", type=float, default=0.6)
    parser.add_argument("--op-min-iters", type=int, default=3)
    args = parser.parse_args()
    prefixes = [p for p in args.rows.split(",") if p]

    def wanted(name):
        return not prefixes or any(name.startswith(p) for p in prefixes)

    if args.w5_params <= 0 or any(args.w5_params % t for t in W5_TENSORS):
        parser.error(f"--w5-params must be a positive multiple of {max(W5_TENSORS)}")
    if args.w6_batch <= 0:
        parser.error("--w6-batch must be positive")
    try:
        import torch
    except ImportError:
        print("torch is not importable; the PyTorch comparison is skipped", file=sys.stderr)
        return 1
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    print("threads", torch.get_num_threads(), flush=True)
    budget_s = 0.3 if args.quick else 2.0

    def report(name, samples):
        print("workload", name, " ".join(f"{ms:.5f}" for ms in samples), flush=True)

    if args.only is not None:
        run_only([n for n in args.only.split(",") if n], args, budget_s, report)
        return 0
    for name, (model, make_opt, shape, classes) in workloads().items():
        if wanted(name):
            report(name, time_steps(training_step(model, make_opt, shape, classes), budget_s))
    print("note w5_default_impl", default_impl(w5_params(W5_TENSORS[-1], W5_TENSORS[-1])), flush=True)
    for name, samples in w5(args.w5_params, budget_s, wanted):
        report(name, samples)
    if wanted("w6_augment"):
        report("w6_augment", w6(args.w6_batch, budget_s))
    op_budget = 0.1 if args.quick else args.op_budget
    for name, samples, reason in w6_op_rows(args.w6_batch, op_budget, args.op_min_iters, wanted):
        if samples is None:
            print(f"note unavailable:{name}", reason, flush=True)
        else:
            report(name, samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
