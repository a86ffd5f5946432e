"""Reference numbers for descent-hpo's CMA-ES update (src/sampler/cmaes/cma.rs).

Runs CyberAgent's `cmaes.CMA` (the library behind Optuna's CmaEsSampler) on
fixed problems and records, per generation, the population told and the
state after the tell (mean, sigma, C, p_sigma, p_c) and `should_stop()`.
The Rust test replays the same tells and compares.

    /work/venv-optuna/bin/python crates/hpo/tests/cmaes_reference.py > crates/hpo/tests/cmaes_reference.json

(cmaes 0.13.1, numpy as installed beside Optuna 5.0.0.)
"""

import json

import cmaes
import numpy as np


def run(name, f, mean, sigma, bounds, popsize, generations, stop_early):
    opt = cmaes.CMA(mean=np.array(mean, dtype=float), sigma=sigma,
                    bounds=None if bounds is None else np.array(bounds, dtype=float),
                    seed=1, population_size=popsize,
                    n_max_resampling=10 * len(mean))
    gens = []
    for _ in range(generations):
        sols = []
        for _ in range(opt.population_size):
            x = opt.ask()
            sols.append((x, float(f(x))))
        told = [(x.tolist(), y) for x, y in sols]
        opt.tell(sols)
        state = {
            "mean": opt._mean.tolist(),
            "sigma": float(opt._sigma),
            "C": opt._C.tolist(),
            "p_sigma": opt._p_sigma.tolist(),
            "pc": opt._pc.tolist(),
        }
        stop = bool(opt.should_stop())
        gens.append({"solutions": told, "state": state, "should_stop": stop})
        if stop and stop_early:
            break
    return {
        "name": name,
        "mean": mean,
        "sigma": sigma,
        "bounds": bounds,
        "popsize": popsize,
        "generations": gens,
    }


def ellipsoid(x):
    z = x - 0.3
    return float(z[0] ** 2 + 10 * z[1] ** 2 + 100 * z[2] ** 2 + 5 * z[0] * z[1])


def sphere(x):
    return float(np.sum((x - 0.2) ** 2))


def flat(x):
    return 1.0


cases = [
    run("ellipsoid-3d-default-popsize", ellipsoid, [0.5, 0.5, 0.5], 1 / 6,
        [[0, 1]] * 3, None, 25, False),
    run("sphere-2d-popsize-12-until-stop", sphere, [0.5, 0.5], 1 / 6,
        [[0, 1]] * 2, 12, 400, True),
    run("flat-4d-tolfun-stop", flat, [0.5] * 4, 1 / 6, [[0, 1]] * 4, None, 100, True),
]
print(json.dumps({"cmaes_version": cmaes.__version__, "cases": cases}))
