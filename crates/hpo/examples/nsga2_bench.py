#!/usr/bin/env python3
"""Python Optuna's NSGAIISampler on the ZDT1 of nsga2_bench.rs, and the comparison table.

    python nsga2_bench.py run [--seeds 10] [--first-seed 0] [--trials 3000] [--dim 30] [--pop 50] [--crossover uniform|sbx] > optuna.jsonl
    python nsga2_bench.py report descent.jsonl optuna.jsonl

`run` needs optuna==5.0.0 (as .ci/hpo.sh pins). Each line: the hypervolume
(reference point (1.1, 1.1), Optuna's `compute_hypervolume`) of the complete
trials after each tenth of the budget, and the seconds per trial. `report`
prints, per sampler, the median over seeds of the hypervolume at each budget
and as a fraction of the true front's (0.1 + 2/3 + 0.11).
"""
import argparse
import json
import statistics
import time

TRUE_HV = 0.1 + 2.0 / 3.0 + 0.11


def zdt1(dim):
    def objective(t):
        xs = [t.suggest_float(f"x{i:02d}", 0.0, 1.0) for i in range(dim)]
        f1 = xs[0]
        g = 1.0 + 9.0 * sum(xs[1:]) / (dim - 1)
        return f1, g * (1.0 - (f1 / g) ** 0.5)

    return objective


def run(args):
    import numpy as np
    import optuna
    from optuna._hypervolume import compute_hypervolume

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    budgets = [args.trials * k // 10 for k in range(1, 11)]
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        crossover = optuna.samplers.nsgaii.SBXCrossover() if args.crossover == "sbx" else None
        sampler = optuna.samplers.NSGAIISampler(population_size=args.pop, seed=seed, crossover=crossover)
        study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler)
        start = time.perf_counter()
        study.optimize(zdt1(args.dim), n_trials=args.trials)
        secs = (time.perf_counter() - start) / args.trials
        values = np.array([t.values for t in study.trials])
        hv_at = []
        for n in budgets:
            pts = values[:n]
            pts = pts[(pts[:, 0] <= 1.1) & (pts[:, 1] <= 1.1)]
            hv_at.append(float(compute_hypervolume(pts, np.array([1.1, 1.1]))) if len(pts) else 0.0)
        name = "optuna-nsga2-sbx" if args.crossover == "sbx" else "optuna-nsga2"
        print(json.dumps({"sampler": name, "seed": seed, "dim": args.dim, "pop": args.pop,
                          "budgets": budgets, "hv_at": hv_at, "true_hv": TRUE_HV,
                          "seconds_per_trial": secs}), flush=True)


def report(args):
    rows = [json.loads(line) for path in args.files for line in open(path) if line.strip()]
    by = {}
    for r in rows:
        by.setdefault(r["sampler"], []).append(r)
    for name, rs in sorted(by.items()):
        budgets = rs[0]["budgets"]
        print(f"{name} (dim {rs[0]['dim']}, population {rs[0]['pop']}, {len(rs)} seeds, "
              f"median {statistics.median(r['seconds_per_trial'] for r in rs) * 1e3:.3f} ms/trial)")
        for i, n in enumerate(budgets):
            med = statistics.median(r["hv_at"][i] for r in rs)
            print(f"  {n:6d} trials: median hypervolume {med:.4f} = {med / TRUE_HV:.1%} of the true front's")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--seeds", type=int, default=10)
    r.add_argument("--first-seed", type=int, default=0)
    r.add_argument("--trials", type=int, default=3000)
    r.add_argument("--dim", type=int, default=30)
    r.add_argument("--pop", type=int, default=50)
    r.add_argument("--crossover", default="uniform")
    r.set_defaults(f=run)
    rep = sub.add_parser("report")
    rep.add_argument("files", nargs="+")
    rep.set_defaults(f=report)
    args = p.parse_args()
    args.f(args)


if __name__ == "__main__":
    main()
