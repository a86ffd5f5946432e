#!/usr/bin/env python3
"""Prints Optuna 5.0.0's `_ParzenEstimator.log_pdf` on a fixed mixed space,
the reference values of `sampler::tpe::parzen::tests::log_pdf_matches_optuna`.

    /path/to/venv-with-optuna-5.0.0/bin/python parzen_logpdf.py
"""
import numpy as np
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters
from optuna.samplers._tpe.sampler import default_weights

space = {
    "x": FloatDistribution(-2.0, 3.0),
    "lr": FloatDistribution(1e-4, 1.0, log=True),
    "n": IntDistribution(1, 40),
    "w": IntDistribution(1, 64, log=True),
    "s": FloatDistribution(0.0, 1.0, step=0.01),
    "c": CategoricalDistribution(["a", "b", "c"]),
}
# Internal representation (a category as its index); 30 rows so the weights
# ramp. No two rows share a numerical value: Optuna orders tied observations
# by NumPy's unstable argsort (its order depends on the CPU's sort kernel),
# descent by trial number, so ties are left out of the comparison.
rng = np.random.RandomState(0)
n = 30
obs = {
    "x": rng.uniform(-2, 3, n).round(3),
    "lr": np.exp(rng.uniform(np.log(1e-4), 0, n)).round(6),
    "n": rng.permutation(np.arange(1, 41))[:n].astype(float),
    "w": rng.permutation(np.arange(1, 65))[:n].astype(float),
    "s": rng.permutation(np.arange(0, 101))[:n] / 100,
    "c": rng.randint(0, 3, n).astype(float),
}
params = _ParzenEstimatorParameters(1.0, True, False, default_weights, True)
pe = _ParzenEstimator(obs, space, params)
points = {
    "x": np.array([0.0, -1.9, 2.99, 1.234]),
    "lr": np.array([1e-3, 0.5, 1e-4, 0.02]),
    "n": np.array([1.0, 40.0, 5.0, 3.0]),
    "w": np.array([1.0, 64.0, 8.0, 30.0]),
    "s": np.array([0.0, 1.0, 0.5, 0.27]),
    "c": np.array([0.0, 1.0, 2.0, 1.0]),
}
print("obs:")
for k in space:
    assert k == "c" or len(set(obs[k])) == n, k
    print(k, list(map(float, obs[k])))
print("log_pdf:", [repr(float(v)) for v in pe.log_pdf(points)])
