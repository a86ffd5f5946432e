#!/usr/bin/env python3
"""Writes `tests/fixtures/optuna_importance.json`: fixed sets of trials and
Optuna 5.0.0's importances of their parameters by `FanovaImportanceEvaluator`
(scikit-learn's forest, seeds 0..4) and `PedAnovaImportanceEvaluator`
(deterministic), both through `get_param_importances` (normalized).
Replayed by `tests/importance_parity.rs`.

    /path/to/venv-with-optuna-5.0.0-and-scikit-learn/bin/python tests/optuna_ref/importance.py
"""
import json
import math
import os
import warnings

import numpy as np
import optuna
import sklearn
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore")


def sphere(x):
    return x["x0"] ** 2 + x["x1"] ** 2


def mixed(x):
    penalty = {"adam": 0.0, "sgd": 3.0, "rmsprop": 1.5}[x["optimizer"]]
    return (math.log10(x["lr"]) + 3.0) ** 2 + penalty


def steps(x):
    return (x["units"] - 40) ** 2 / 100.0 + 3.0 * x["dropout"] + 0.01 * x["wd"]


problems = {
    "sphere10": (
        {f"x{i}": FloatDistribution(-5.0, 5.0) for i in range(10)},
        sphere,
    ),
    "mixed": (
        {
            "lr": FloatDistribution(1e-5, 1.0, log=True),
            "optimizer": CategoricalDistribution(["sgd", "adam", "rmsprop"]),
            "batch": IntDistribution(16, 256),
            "jitter": FloatDistribution(0.0, 1.0),
        },
        mixed,
    ),
    "steps": (
        {
            "units": IntDistribution(8, 128, log=True),
            "dropout": FloatDistribution(0.0, 0.5, step=0.05),
            "wd": FloatDistribution(0.0, 1.0),
            "layers": IntDistribution(1, 5, step=2),
        },
        steps,
    ),
}


def dist_json(d):
    if isinstance(d, CategoricalDistribution):
        return {"kind": "categorical", "choices": list(d.choices)}
    kind = "int" if isinstance(d, IntDistribution) else "float"
    out = {"kind": kind, "low": d.low, "high": d.high, "log": d.log, "step": d.step}
    if kind == "int":
        out["step"] = int(d.step)
    return out


out = {"generator": "crates/hpo/tests/optuna_ref/importance.py", "optuna": optuna.__version__,
       "sklearn": sklearn.__version__, "problems": []}
for name, (space, f) in problems.items():
    for direction in ("minimize", "maximize"):
        sign = 1.0 if direction == "minimize" else -1.0
        study = optuna.create_study(direction=direction, sampler=optuna.samplers.RandomSampler(seed=7))
        study.optimize(lambda t: sign * f({k: t._suggest(k, d) for k, d in space.items()}), n_trials=100)
        trials = [{"params": t.params, "value": t.value} for t in study.trials]
        fanova = [
            optuna.importance.get_param_importances(
                study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=s))
            for s in range(5)
        ]
        ped = optuna.importance.get_param_importances(
            study, evaluator=optuna.importance.PedAnovaImportanceEvaluator())
        out["problems"].append({
            "name": name, "direction": direction,
            "distributions": {k: dist_json(d) for k, d in space.items()},
            "trials": trials,
            "fanova": fanova,
            "ped_anova": ped,
        })
path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "optuna_importance.json")
with open(path, "w") as fh:
    json.dump(out, fh, indent=0)
    fh.write("\n")
for p in out["problems"]:
    print(p["name"], p["direction"], "fanova:", {k: round(v, 3) for k, v in p["fanova"][0].items()})
    print(p["name"], p["direction"], "ped:", {k: round(v, 3) for k, v in p["ped_anova"].items()})
