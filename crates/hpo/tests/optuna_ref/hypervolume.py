#!/usr/bin/env python3
"""Writes `hypervolume.json`: Optuna 5.0.0's `compute_hypervolume` and
`_fast_non_domination_rank` on fixed random point sets (2-D to 5-D, with
ties and dominated points), the reference of `tests/hypervolume_optuna.rs`.

    /path/to/venv-with-optuna-5.0.0/bin/python hypervolume.py > hypervolume.json
"""
import json

import numpy as np
import optuna
from optuna._hypervolume import compute_hypervolume
from optuna.study._multi_objective import _fast_non_domination_rank

rng = np.random.RandomState(20)
cases = []
for d, n in [(2, 8), (2, 40), (3, 10), (3, 30), (4, 12), (4, 25), (5, 15), (6, 10)]:
    pts = rng.rand(n, d)
    if n > 10:
        pts[n // 2] = pts[0]  # a repeated point
        pts[n // 3] = np.round(pts[n // 3], 1)
    ref = np.full(d, 1.1)
    penalty = np.where(rng.rand(n) < 0.3, rng.rand(n), 0.0)
    cases.append({
        "name": f"random-{d}d-{n}",
        "points": pts.tolist(),
        "reference": ref.tolist(),
        "hypervolume": float(compute_hypervolume(pts, ref)),
        "ranks": _fast_non_domination_rank(pts).tolist(),
        "penalty": penalty.tolist(),
        "ranks_constrained": _fast_non_domination_rank(pts, penalty=penalty).tolist(),
    })
print(json.dumps({"generator": "tests/optuna_ref/hypervolume.py", "optuna": optuna.__version__,
                  "cases": cases}, indent=1))
