#!/usr/bin/env python3
"""Writes `tests/fixtures/optuna_pruners.json`: Optuna 5.0.0's decision for
every pruner (Percentile, Median, Threshold, Patient, Wilcoxon) on fixed
intermediate-value histories, the arguments Optuna rejects, and SciPy 1.17's
`wilcoxon(d, alternative=…, zero_method="zsplit").pvalue` on fixed samples.
Replayed, every case, by `tests/optuna_pruners.rs`.

    /path/to/venv-with-optuna-5.0.0/bin/python tests/optuna_ref/pruners.py

Non-finite floats are written as the strings "nan", "inf", "-inf".
"""
import itertools
import json
import math
import os
import warnings

import numpy as np
import optuna
import scipy
import scipy.stats as ss
from optuna.trial import TrialState, create_trial

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore")
rng = np.random.RandomState(20)


def enc(v):
    if v is None:
        return None
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def build(spec):
    """An Optuna pruner from its JSON spec."""
    kind, a = spec["type"], {k: v for k, v in spec.items() if k != "type"}
    if kind == "percentile":
        p = a.pop("percentile")
        return optuna.pruners.PercentilePruner(p, **a)
    if kind == "median":
        return optuna.pruners.MedianPruner(**a)
    if kind == "threshold":
        return optuna.pruners.ThresholdPruner(**a)
    if kind == "patient":
        inner = a.pop("wrapped")
        return optuna.pruners.PatientPruner(None if inner is None else build(inner), **a)
    if kind == "wilcoxon":
        return optuna.pruners.WilcoxonPruner(**a)
    raise ValueError(kind)


def decide(spec, direction, history, current):
    """Optuna's decision for the running trial `current` (a list of (step,
    value) in report order) in a study holding the finished `history`."""
    study = optuna.create_study(direction=direction, pruner=build(spec))
    for h in history:
        state = TrialState[h["state"]]
        study.add_trial(
            create_trial(
                state=state,
                value=h["value"] if state == TrialState.COMPLETE else None,
                intermediate_values=dict(h["intermediate"]),
            )
        )
    trial = study.ask()
    for step, v in current:
        trial.report(v, step)
    frozen = study._storage.get_trial(trial._trial_id)
    return bool(study.pruner.prune(study, frozen))


def curve(n_steps, level, noise, missing=(), nan_at=()):
    vals = level * (0.7 ** np.arange(n_steps)) + noise * rng.rand(n_steps)
    out = []
    for s in range(n_steps):
        if s in missing:
            continue
        v = round(float(vals[s]), 2)
        out.append((s, float("nan") if s in nan_at else v))
    return out


def finished(state, inter):
    finite = [v for _, v in inter if not math.isnan(v)]
    value = finite[-1] if finite else 0.0
    return {"state": state, "value": value, "intermediate": inter}


# Learning-curve studies for the percentile / median / threshold / patient pruners.
histories = {
    "ten_curves": [finished("COMPLETE", curve(8, 1 + 0.3 * i, 0.2)) for i in range(10)],
    "with_gaps_nan_pruned_failed": [
        finished("COMPLETE", curve(8, 1.0, 0.2, missing=(3, 4))),
        finished("COMPLETE", curve(8, 1.5, 0.2, nan_at=(2, 5))),
        finished("COMPLETE", curve(6, 2.0, 0.2)),
        finished("PRUNED", curve(3, 0.2, 0.0)),
        finished("FAIL", curve(2, 0.1, 0.0)),
        finished("COMPLETE", curve(8, 0.8, 0.3, missing=(0,))),
        finished("COMPLETE", curve(8, 1.2, 0.1)),
        finished("COMPLETE", [(s, float("nan")) for s in range(8)]),
    ],
    "three_curves": [finished("COMPLETE", curve(8, 1 + 0.5 * i, 0.1)) for i in range(3)],
    "none": [],
}
currents = {
    "empty": [],
    "step0_good": [(0, 0.5)],
    "step0_bad": [(0, 5.0)],
    "good": curve(6, 0.9, 0.1),
    "bad": curve(6, 3.0, 0.1),
    "middling": curve(6, 1.6, 0.1),
    "bad_then_good": [(0, 5.0), (1, 4.0), (2, 0.1), (3, 3.0), (4, 3.5), (5, 4.0)],
    "rising": [(s, 0.5 + 0.3 * s) for s in range(7)],
    "falling": [(s, 3.0 - 0.4 * s) for s in range(7)],
    "flat": [(s, 1.0) for s in range(7)],
    "nan_only": [(0, float("nan")), (1, float("nan"))],
    "nan_last": [(0, 1.0), (1, 0.9), (2, float("nan"))],
    "nan_first": [(0, float("nan")), (1, 0.9), (2, 0.95), (3, 1.3), (4, 1.4)],
    "sparse_steps": [(0, 2.0), (3, 1.9), (7, 1.8)],
    "out_of_order": [(4, 2.0), (1, 1.5), (6, 2.5)],
    "inf": [(0, 1.0), (1, float("inf"))],
}
specs = []
for p, st, w, iv, nm in (
    (0.0, 0, 0, 1, 1), (25.0, 5, 0, 1, 1), (25.0, 0, 2, 3, 1), (50.0, 5, 2, 1, 4),
    (50.0, 0, 0, 3, 1), (90.0, 0, 0, 1, 4), (100.0, 5, 0, 1, 1), (75.0, 0, 1, 2, 2),
):
    specs.append({"type": "percentile", "percentile": p, "n_startup_trials": st,
                  "n_warmup_steps": w, "interval_steps": iv, "n_min_trials": nm})
for st, w, iv in ((0, 0, 1), (5, 3, 1), (20, 0, 1), (5, 0, 2)):
    specs.append({"type": "median", "n_startup_trials": st, "n_warmup_steps": w, "interval_steps": iv})
for lo, up, w, iv in ((None, 2.0, 0, 1), (0.5, None, 0, 1), (0.5, 3.0, 2, 1), (1.0, 2.0, 0, 3), (-0.5, 0.5, 1, 2)):
    specs.append({"type": "threshold", "lower": lo, "upper": up, "n_warmup_steps": w, "interval_steps": iv})
inner_specs = (None, {"type": "median", "n_startup_trials": 0},
               {"type": "percentile", "percentile": 25.0, "n_startup_trials": 0})
for inner, pat, md in zip(inner_specs * 2, (0, 1, 3, 2, 1, 0), (0.0, 0.2, 0.0, 0.0, 0.0, 0.2)):
    specs.append({"type": "patient", "wrapped": inner, "patience": pat, "min_delta": md})

def mirror_history(history):
    return [dict(h, value=None if h["value"] is None else -h["value"],
                 intermediate=[(s, -v) for s, v in h["intermediate"]]) for h in history]


all_histories, all_currents, cases = {}, {}, []


def run_cases(specs, histories, currents):
    """Every spec on every (history, current) pair, in both directions (the
    values mirrored for maximize so the same shapes make sense)."""
    for direction in ("minimize", "maximize"):
        for hname, history in histories.items():
            hkey = f"{hname}/{direction}"
            all_histories[hkey] = history if direction == "minimize" else mirror_history(history)
        for cname, current in currents.items():
            ckey = f"{cname}/{direction}"
            all_currents[ckey] = current if direction == "minimize" else [(s, -v) for s, v in current]
    for spec in specs:
        for direction in ("minimize", "maximize"):
            for hname in histories:
                for cname in currents:
                    hkey, ckey = f"{hname}/{direction}", f"{cname}/{direction}"
                    cases.append({
                        "pruner": spec, "direction": direction, "history": hkey, "current": ckey,
                        "prune": decide(spec, direction, all_histories[hkey], all_currents[ckey]),
                    })


run_cases(specs, histories, currents)

# Per-instance studies for the Wilcoxon pruner: a best trial and others
# evaluated on (subsets of) the same instances, in shuffled order.
def instances(n, shift, noise, ties=False):
    vals = np.sin(np.arange(n)) + shift + noise * rng.randn(n)
    if ties:
        vals = np.round(vals, 1)
    order = rng.permutation(n)
    return [(int(s), float(vals[s])) for s in order]


best = instances(60, 0.0, 0.0, ties=True)
best_vals = dict(best)
wil_histories = {
    "best_of_60": [
        {"state": "COMPLETE", "value": float(np.mean([v for _, v in best])), "intermediate": best},
        {"state": "COMPLETE", "value": 10.0, "intermediate": instances(60, 0.3, 0.1)},
        {"state": "PRUNED", "value": None, "intermediate": instances(5, 1.0, 0.1)},
    ],
    "best_has_nan": [
        {"state": "COMPLETE", "value": 0.0, "intermediate": [(0, float("nan")), (1, 1.0), (2, 2.0)] + best[3:20]},
    ],
    "best_has_no_reports": [{"state": "COMPLETE", "value": 0.0, "intermediate": []}],
    "none": [],
}
wil_currents = {}
for n in (1, 2, 3, 5, 8, 13, 14, 20, 40, 51, 60):
    for shift, noise in ((0.5, 0.05), (0.1, 0.3), (-0.3, 0.1), (0.02, 0.5)):
        cur = instances(60, shift, noise)[:n]
        wil_currents[f"n{n}_shift{shift}"] = cur
    # Some instances equal to the best's (zeros), some tied differences.
    tied = [(s, round(best_vals[s] + (0.0 if i % 3 == 0 else 0.1 * (1 + i % 2)), 10)) for i, (s, _) in enumerate(best[:n])]
    wil_currents[f"n{n}_zeros_ties"] = tied
    wil_currents[f"n{n}_all_zero"] = best[:n]
wil_currents["has_inf"] = [(0, 1.0), (1, float("inf")), (2, 3.0), (3, 4.0)]
wil_currents["unknown_steps"] = [(100 + i, 5.0) for i in range(5)] + best[:4]
wil_specs = [{"type": "wilcoxon", "p_threshold": p, "n_startup_steps": s}
             for p, s in ((0.1, 2), (0.05, 0), (0.5, 10), (1.0, 2))]
run_cases(wil_specs, {f"wilcoxon_{k}": v for k, v in wil_histories.items()},
          {f"wilcoxon_{k}": v for k, v in wil_currents.items()})

for h in itertools.chain.from_iterable(all_histories.values()):
    h["value"] = enc(h["value"])
    h["intermediate"] = [[s, enc(v)] for s, v in h["intermediate"]]
for k, c in all_currents.items():
    all_currents[k] = [[s, enc(v)] for s, v in c]

# Arguments Optuna rejects with ValueError/TypeError (those Rust's types can hold).
invalid = [
    {"type": "percentile", "percentile": 100.5},
    {"type": "percentile", "percentile": -1.0},
    {"type": "percentile", "percentile": "nan"},
    {"type": "percentile", "percentile": 50.0, "interval_steps": 0},
    {"type": "percentile", "percentile": 50.0, "n_min_trials": 0},
    {"type": "median", "interval_steps": 0},
    {"type": "median", "n_min_trials": 0},
    {"type": "threshold"},
    {"type": "threshold", "lower": 2.0, "upper": 1.0},
    {"type": "threshold", "upper": 1.0, "interval_steps": 0},
    {"type": "patient", "wrapped": None, "patience": 1, "min_delta": -0.1},
    {"type": "wilcoxon", "p_threshold": 1.5},
    {"type": "wilcoxon", "p_threshold": -0.1},
]
errors = []
for spec in invalid:
    s = {k: (float(v) if v == "nan" else v) for k, v in spec.items()}
    try:
        build(s)
        raise SystemExit(f"Optuna accepted {spec}")
    except (ValueError, TypeError) as e:
        errors.append({"pruner": spec, "optuna_error": f"{type(e).__name__}: {e}"})

# SciPy's signed-rank p-values.
pvalues = []
for n in list(range(1, 16)) + [20, 30, 49, 50, 51, 70]:
    for kind in ("distinct", "ties", "zeros") if n > 1 else ("distinct",):
        d = rng.randn(n) + 0.3
        if kind == "ties":
            d = np.round(d, 0) + 0.5 * np.sign(d)
        if kind == "zeros":
            d = np.round(d, 1)
            d[: max(1, n // 4)] = 0.0
        for alt in ("greater", "less", "two-sided"):
            p = float(ss.wilcoxon(d, alternative=alt, zero_method="zsplit").pvalue)
            pvalues.append({"d": [float(x) for x in d], "alternative": alt, "pvalue": enc(p)})
for d in ([0.0] * 5, [0.0] * 20, [1.0, -1.0, 2.0, -2.0], [1e-300, 2e-300, -3e-300]):
    for alt in ("greater", "less", "two-sided"):
        p = float(ss.wilcoxon(d, alternative=alt, zero_method="zsplit").pvalue)
        pvalues.append({"d": d, "alternative": alt, "pvalue": enc(p)})

out = {
    "generator": "crates/hpo/tests/optuna_ref/pruners.py",
    "optuna": optuna.__version__,
    "scipy": scipy.__version__,
    "histories": all_histories,
    "currents": all_currents,
    "cases": cases,
    "invalid": errors,
    "wilcoxon_pvalues": pvalues,
}
path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "optuna_pruners.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
    f.write("\n")
n_prune = sum(c["prune"] for c in cases)
print(f"{len(cases)} cases ({n_prune} pruned), {len(errors)} invalid, {len(pvalues)} p-values -> {os.path.normpath(path)}")
