#!/usr/bin/env python3
"""Python Optuna on the problems of tpe_bench.rs, and the comparison table.

    python tpe_bench.py run [--seeds 100] [--trials 60] > optuna.jsonl
    python tpe_bench.py report descent.jsonl optuna.jsonl

CMA-ES (needs `pip install cmaes` beside Optuna):

    python tpe_bench.py run --seeds 100 --trials 200 --checkpoints 50,100,200 \
        --problems sphere10 --samplers optuna-cmaes,optuna-random > optuna-cmaes.jsonl
    python tpe_bench.py report --pair descent-cmaes optuna-cmaes --versus descent-random \
        cmaes.jsonl optuna-cmaes.jsonl

`run` needs the Optuna that .ci/hpo.sh pins (optuna==5.0.0) in a virtual
environment outside the repository; `report` also needs SciPy. Samplers:
`optuna-tpe` (TPESampler(seed=seed), Optuna's default: multivariate,
constant liar), `optuna-random` (RandomSampler(seed=seed)) and
`optuna-cmaes` (CmaEsSampler(seed=seed)). Regret is the
best value so far minus the problem's minimum. The report gives, per problem
and budget, the median regret of every sampler and, for descent's default TPE
against Optuna's, the ratio of median regrets with a 95 % percentile
bootstrap interval (10,000 resamples of the seeds of each side independently)
and the two-sided Mann-Whitney U test's p-value (scipy.stats.mannwhitneyu) of
the two regret samples. Sampling time is the time spent inside the sampler's
methods (sample_relative, infer_relative_search_space, sample_independent).
"""
import argparse
import json
import math
import sys
import time


def branin(t):
    x1 = t.suggest_float("x1", -5.0, 10.0)
    x2 = t.suggest_float("x2", 0.0, 15.0)
    b = 5.1 / (4 * math.pi**2)
    c = 5 / math.pi
    s = 1 / (8 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - s) * math.cos(x1) + 10


ALPHA = [1.0, 1.2, 3.0, 3.2]
A = [
    [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
    [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
    [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
    [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
]
P = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
]


def hartmann6(t):
    x = [t.suggest_float(f"x{i}", 0.0, 1.0) for i in range(6)]
    f = 0.0
    for k in range(4):
        e = sum(A[k][j] * (x[j] - P[k][j]) ** 2 for j in range(6))
        f -= ALPHA[k] * math.exp(-e)
    return f


def sphere(t):
    f = 0.0
    for i in range(10):
        x = t.suggest_float(f"x{i}", -5.0, 5.0)
        if i < 2:
            f += x * x
    return f


def mixed(t):
    lr = t.suggest_float("lr", 1e-5, 1.0, log=True)
    layers = t.suggest_int("layers", 1, 20)
    opt = t.suggest_categorical("optimizer", ["sgd", "adam", "rmsprop"])
    base = (math.log10(lr) + 3) ** 2 / 4 + (layers - 7) ** 2 / 20
    if opt == "adam":
        extra = 10 * (t.suggest_float("beta", 0.8, 0.999) - 0.95) ** 2
    elif opt == "sgd":
        extra = 0.5 + (t.suggest_float("momentum", 0.0, 0.99) - 0.9) ** 2
    else:
        extra = 1.0
    return base + extra


PROBLEMS = [
    ("branin", branin, 0.397887357729738),
    ("hartmann6", hartmann6, -3.322368011391339),
    ("sphere10", sphere, 0.0),
    ("mixed", mixed, 0.0),
]


def timed(sampler):
    spent = [0.0]
    for name in ("infer_relative_search_space", "sample_relative", "sample_independent"):
        inner = getattr(sampler, name)

        def wrapper(*a, _inner=inner, **k):
            t = time.perf_counter()
            try:
                return _inner(*a, **k)
            finally:
                spent[0] += time.perf_counter() - t

        setattr(sampler, name, wrapper)
    return spent


def run(args):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    checkpoints = [int(c) for c in args.checkpoints.split(",") if int(c) <= args.trials]
    for problem, objective, minimum in PROBLEMS:
        if problem not in args.problems.split(","):
            continue
        for name in args.samplers.split(","):
            for seed in range(args.seeds):
                if name == "optuna-tpe":
                    sampler = optuna.samplers.TPESampler(seed=seed)
                elif name == "optuna-cmaes":
                    sampler = optuna.samplers.CmaEsSampler(seed=seed)
                else:
                    sampler = optuna.samplers.RandomSampler(seed=seed)
                spent = timed(sampler)
                study = optuna.create_study(sampler=sampler)
                study.optimize(objective, n_trials=args.trials)
                values = [t.value for t in study.trials]
                best_at = [min(values[:c]) for c in checkpoints]
                category = study.best_trial.params.get("optimizer")
                print(json.dumps({
                    "problem": problem, "sampler": name, "seed": seed, "minimum": minimum,
                    "checkpoints": checkpoints, "best_at": best_at,
                    "best_category": category,
                    "sampler_seconds_per_trial": spent[0] / args.trials,
                }), flush=True)


def report(args):
    import numpy as np
    from scipy.stats import mannwhitneyu

    rows = []
    for path in args.files:
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    samplers = ["descent-tpe", "descent-tpe-independent", "descent-cmaes", "descent-random",
                "optuna-tpe", "optuna-cmaes", "optuna-random"]
    mine, theirs = args.pair
    problems = [p for p, _, _ in PROBLEMS]
    by = {}
    for r in rows:
        by.setdefault((r["problem"], r["sampler"]), []).append(r)
    rng = np.random.default_rng(0)
    samplers = [s for s in samplers if any(k[1] == s for k in by)]
    print("| problem | trials | " + " | ".join(samplers)
          + f" | {mine}/{theirs} (95% CI) | Mann-Whitney p |"
          + (f" {mine} < {args.versus}: one-sided p |" if args.versus else ""))
    print("|---" * (len(samplers) + 4 + bool(args.versus)) + "|")
    for p in problems:
        if (p, mine) not in by:
            continue
        checkpoints = by[(p, mine)][0]["checkpoints"]
        for ci, c in enumerate(checkpoints):
            regret = {}
            for s in samplers:
                if (p, s) in by:
                    regret[s] = np.array([r["best_at"][ci] - r["minimum"] for r in by[(p, s)]])
            med = {s: float(np.median(v)) for s, v in regret.items()}
            cells = [f"{med[s]:.4g}" if s in med else "-" for s in samplers]
            a, b = regret.get(mine), regret.get(theirs)
            if a is not None and b is not None:
                ratio = med[mine] / med[theirs] if med[theirs] > 0 else float("inf")
                boots = []
                for _ in range(10_000):
                    ma = np.median(rng.choice(a, a.size))
                    mb = np.median(rng.choice(b, b.size))
                    boots.append(ma / mb if mb > 0 else np.inf)
                lo, hi = np.percentile(boots, [2.5, 97.5])
                pval = mannwhitneyu(a, b, alternative="two-sided").pvalue
                cells += [f"{ratio:.3f} ({lo:.3f}-{hi:.3f})", f"{pval:.3g}"]
            else:
                cells += ["-", "-"]
            if args.versus:
                v = regret.get(args.versus)
                cells.append(f"{mannwhitneyu(a, v, alternative='less').pvalue:.3g}" if v is not None else "-")
            print(f"| {p} | {c} | " + " | ".join(cells) + " |")
    print()
    print("| sampler | wrong category on mixed (of seeds) | median sampler ms/trial (all problems) |")
    print("|---|---|---|")
    for s in samplers:
        wrong = [r["best_category"] != "adam" for r in by.get(("mixed", s), [])]
        times = [r["sampler_seconds_per_trial"] for r in rows if r["sampler"] == s]
        if not times:
            continue
        print(f"| {s} | {sum(wrong)} of {len(wrong)} | {1000 * float(np.median(times)):.3f} |")
    dt = [r["sampler_seconds_per_trial"] for r in rows if r["sampler"] == mine]
    ot = [r["sampler_seconds_per_trial"] for r in rows if r["sampler"] == theirs]
    if dt and ot:
        print(f"\n{theirs} / {mine} sampling time per trial (medians): {np.median(ot) / np.median(dt):.1f}x")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--seeds", type=int, default=100)
    r.add_argument("--trials", type=int, default=60)
    r.add_argument("--checkpoints", default="20,40,60")
    r.add_argument("--problems", default="branin,hartmann6,sphere10,mixed")
    r.add_argument("--samplers", default="optuna-tpe,optuna-random")
    rep = sub.add_parser("report")
    rep.add_argument("--pair", nargs=2, default=["descent-tpe", "optuna-tpe"],
                     help="the two samplers whose ratio of median regrets is reported")
    rep.add_argument("--versus", default=None,
                     help="also test that the first of --pair has lower regret than this one")
    rep.add_argument("files", nargs="+")
    args = ap.parse_args()
    run(args) if args.cmd == "run" else report(args)


if __name__ == "__main__":
    sys.exit(main())
