#!/usr/bin/env python3
"""Writes `tests/fixtures/nsga2_crossovers.json`: the children Optuna 5.0.0's
NSGA-II crossovers make, with every random draw they took. Replayed, every
case, by the unit test `sampler::nsgaii::parity` (descent's crossovers are
fed the recorded draws instead of their own stream, and each draw's kind and
arguments must match what Optuna asked for).

Two kinds of case:
- "op": `crossover.crossover(parents_params, rng, study, search_space_bounds)`
  on fixed parent vectors in the transformed space;
- "perform": `optuna.samplers.nsgaii._crossover.perform_crossover` on a
  population of trials over a mixed search space (floats, log floats, stepped
  floats, ints, log ints, stepped ints, categoricals): binary tournaments,
  the categorical uniform crossover, the transform and its inverse, and the
  retry until the child lies in the search space.

    /path/to/venv-with-optuna-5.0.0/bin/python tests/optuna_ref/nsga2_crossovers.py
"""
import json
import os
import warnings

import numpy as np
import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers.nsgaii import (
    BLXAlphaCrossover,
    SBXCrossover,
    SPXCrossover,
    UNDXCrossover,
    UniformCrossover,
    VSBXCrossover,
)
from optuna.samplers.nsgaii._crossover import perform_crossover
from optuna.study._multi_objective import _dominates
from optuna.trial import create_trial

optuna.logging.set_verbosity(optuna.logging.ERROR)
warnings.filterwarnings("ignore")
assert optuna.__version__ == "5.0.0", optuna.__version__


class Recorder:
    """A `numpy.random.RandomState` that records every draw it makes. Any
    other method a crossover calls fails (`AttributeError`), so the record is
    complete."""

    def __init__(self, seed):
        self._rs = np.random.RandomState(seed)
        self.draws = []

    def rand(self, *size):
        out = self._rs.rand(*size)
        for v in np.atleast_1d(out).ravel():
            self.draws.append({"uniform": float(v)})
        return out

    def normal(self, loc=0.0, scale=1.0, size=None):
        out = self._rs.normal(loc, scale, size)
        for v in np.atleast_1d(out).ravel():
            self.draws.append({"normal": [float(loc), float(scale), float(v)]})
        return out

    def choice(self, a):
        assert isinstance(a, int)
        out = self._rs.choice(a)
        self.draws.append({"index": [a, int(out)]})
        return out


def make(spec):
    name = spec["name"]
    if name == "uniform":
        return UniformCrossover(spec["swapping_prob"])
    if name == "blx_alpha":
        return BLXAlphaCrossover(spec["alpha"])
    if name == "sbx":
        return SBXCrossover(spec["eta"], spec["uniform_crossover_prob"], spec["use_child_gene_prob"])
    if name == "vsbx":
        return VSBXCrossover(spec["eta"], spec["uniform_crossover_prob"], spec["use_child_gene_prob"])
    if name == "spx":
        return SPXCrossover(spec["epsilon"])
    if name == "undx":
        return UNDXCrossover(spec["sigma_xi"], spec["sigma_eta"])
    raise ValueError(name)


N_PARENTS = {"uniform": 2, "blx_alpha": 2, "sbx": 2, "vsbx": 2, "spx": 3, "undx": 3}

SPECS = [
    {"name": "spx", "epsilon": None},
    {"name": "spx", "epsilon": 1.0},
    {"name": "spx", "epsilon": 0.5},
    {"name": "undx", "sigma_xi": 0.5, "sigma_eta": None},
    {"name": "undx", "sigma_xi": 1.5, "sigma_eta": 0.7},
    {"name": "vsbx", "eta": None, "uniform_crossover_prob": 0.5, "use_child_gene_prob": 0.5},
    {"name": "vsbx", "eta": 0.0, "uniform_crossover_prob": 0.0, "use_child_gene_prob": 1.0},
    {"name": "vsbx", "eta": 5.0, "uniform_crossover_prob": 0.8, "use_child_gene_prob": 0.3},
    {"name": "sbx", "eta": None, "uniform_crossover_prob": 0.5, "use_child_gene_prob": 0.5},
    {"name": "sbx", "eta": 3.0, "uniform_crossover_prob": 0.2, "use_child_gene_prob": 0.9},
    {"name": "blx_alpha", "alpha": 0.5},
    {"name": "uniform", "swapping_prob": 0.3},
]


def study_for(n_objectives):
    return optuna.create_study(directions=["minimize"] * n_objectives)


def op_cases():
    rs = np.random.RandomState(0)
    cases = []
    k = 0
    for spec in SPECS:
        for n in [1, 2, 3, 5, 12]:
            for n_obj in [1, 2]:
                k += 1
                lows = rs.uniform(-5, 0, size=n)
                highs = lows + rs.uniform(0.5, 10, size=n)
                bounds = np.stack([lows, highs], axis=1)
                parents = lows + rs.rand(N_PARENTS[spec["name"]], n) * (highs - lows)
                if k % 7 == 0:  # the first two parents coincide
                    parents[1] = parents[0]
                rec = Recorder(1000 + k)
                child = make(spec).crossover(parents, rec, study_for(n_obj), bounds)
                cases.append(
                    {
                        "name": f"op-{spec['name']}-{k}",
                        "kind": "op",
                        "crossover": spec,
                        "multi_objective": n_obj > 1,
                        "parents": parents.tolist(),
                        "bounds": bounds.tolist(),
                        "draws": rec.draws,
                        "child": [float(c) for c in np.atleast_1d(child)],
                    }
                )
    return cases


# Sorted by name, as Optuna's IntersectionSearchSpace gives it to NSGA-II.
SPACE = {
    "f": FloatDistribution(-2.0, 3.0),
    "flog": FloatDistribution(1e-4, 1.0, log=True),
    "fstep": FloatDistribution(0.0, 1.0, step=0.25),
    "i": IntDistribution(-3, 7),
    "ilog": IntDistribution(1, 100, log=True),
    "istep": IntDistribution(0, 20, step=4),
    "c": CategoricalDistribution(["a", "b", "c"]),
    "flag": CategoricalDistribution([True, False]),
}


def to_descent(d):
    if isinstance(d, FloatDistribution):
        return {"kind": "float", "low": d.low, "high": d.high, "log": d.log, "step": d.step}
    if isinstance(d, IntDistribution):
        return {"kind": "int", "low": d.low, "high": d.high, "log": d.log, "step": d.step}
    return {"kind": "categorical", "choices": list(d.choices)}


def perform_cases():
    rs = np.random.RandomState(1)
    cases = []
    spaces = [
        dict(sorted(SPACE.items())),
        {k: v for k, v in SPACE.items() if k in ("f", "flog", "i")},
        {k: v for k, v in SPACE.items() if k in ("c", "flag")},
        {k: v for k, v in SPACE.items() if k in ("fstep", "istep", "ilog", "c")},
        # Floats crowded at their lower bound: children often fall below it
        # and the crossover is retried.
        {k: v for k, v in SPACE.items() if k in ("f", "flog")},
    ]
    k = 0
    for spec in SPECS:
        for si, space in enumerate(spaces):
            for n_obj in [1, 2]:
                k += 1
                study = study_for(n_obj)
                space = dict(sorted(space.items()))
                population = []
                for number in range(8):
                    params = {}
                    for name, d in space.items():
                        if si == 4 and d.log:
                            params[name] = float(d.low * np.exp(rs.uniform(0, 0.3)))
                        elif si == 4:
                            params[name] = float(d.low + rs.uniform(0, 0.05))
                        elif isinstance(d, CategoricalDistribution):
                            params[name] = d.choices[rs.randint(len(d.choices))]
                        elif isinstance(d, IntDistribution):
                            params[name] = int(d.low + d.step * rs.randint((d.high - d.low) // d.step + 1))
                        elif d.step is not None:
                            params[name] = d.low + d.step * rs.randint(int(round((d.high - d.low) / d.step)) + 1)
                        elif d.log:
                            params[name] = float(np.exp(rs.uniform(np.log(d.low), np.log(d.high))))
                        else:
                            params[name] = float(rs.uniform(d.low, d.high))
                    values = [float(v) for v in rs.uniform(0, 1, size=n_obj)]
                    t = create_trial(params=params, distributions=space, values=values)
                    t.number = number
                    population.append(t)
                swapping_prob = [0.5, 0.2, 0.9][k % 3]
                if spec["name"] == "uniform":
                    # NSGAIISampler's UniformCrossover shares its swapping_prob.
                    spec = dict(spec, swapping_prob=swapping_prob)
                rec = Recorder(5000 + k)
                child = perform_crossover(
                    make(spec), study, population, space, rec, swapping_prob, _dominates
                )
                cases.append(
                    {
                        "name": f"perform-{spec['name']}-{k}",
                        "kind": "perform",
                        "crossover": spec,
                        "directions": ["minimize"] * n_obj,
                        "swapping_prob": swapping_prob,
                        "space": {name: to_descent(d) for name, d in space.items()},
                        "population": [
                            {"number": t.number, "params": t.params, "values": t.values}
                            for t in population
                        ],
                        "draws": rec.draws,
                        "child": {
                            name: (v.item() if isinstance(v, np.generic) else v)
                            for name, v in child.items()
                        },
                    }
                )
    return cases


def main():
    cases = op_cases() + perform_cases()
    out = {
        "generator": "tests/optuna_ref/nsga2_crossovers.py",
        "optuna": optuna.__version__,
        "numpy": np.__version__,
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(__file__), "..", "fixtures", "nsga2_crossovers.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"{len(cases)} cases -> {path}")


if __name__ == "__main__":
    main()
