//! TPE against random search on four standard problems, printed as JSON
//! lines for `tpe_bench.py` (beside this file) to set against Python Optuna.
//!
//! ```text
//! cargo run --release -p descent-hpo --example tpe_bench -- [--seeds 100] [--trials 60] > descent.jsonl
//! ```
//!
//! The CMA-ES comparison runs the same harness on the sphere with a longer budget:
//!
//! ```text
//! cargo run --release -p descent-hpo --example tpe_bench -- --seeds 100 --trials 200 \
//!     --checkpoints 50,100,200 --problems sphere10 --samplers descent-cmaes,descent-random > cmaes.jsonl
//! ```
//!
//! One line per (problem, sampler, seed): the best value after 20, 40 and 60
//! trials (`best_at`), the problem's minimum, the category of the best trial
//! (mixed problem), and the seconds spent inside the sampler per trial.
//! Samplers: `descent-tpe` (`TpeConfig::default()`, multivariate),
//! `descent-tpe-independent` (`multivariate: false`) and `descent-random`;
//! `descent-cmaes` (`CmaEsConfig::default()`) when named in `--samplers`.

use descent_hpo::{
    CmaEsConfig, CmaEsSampler, Distribution, Error, FrozenTrial, ParamValue, RandomSampler,
    RelativeSample, SampleContext, Sampler, Study, StudyConfig, TpeConfig, TpeSampler, Trial,
};
use rand_chacha::ChaCha8Rng;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A sampler that adds the time spent in the inner one to a shared total.
struct Timed<S> {
    inner: S,
    spent: Arc<Mutex<Duration>>,
}

impl<S: Sampler> Timed<S> {
    fn add(&self, t: Instant) {
        *self.spent.lock().unwrap_or_else(|e| e.into_inner()) += t.elapsed();
    }
}

impl<S: Sampler> Sampler for Timed<S> {
    fn sample(
        &self,
        ctx: &SampleContext<'_>,
        name: &str,
        distribution: &Distribution,
        rng: &mut ChaCha8Rng,
    ) -> descent_hpo::Result<ParamValue> {
        let t = Instant::now();
        let v = self.inner.sample(ctx, name, distribution, rng);
        self.add(t);
        v
    }

    fn sample_relative(
        &self,
        ctx: &SampleContext<'_>,
        rng: &mut ChaCha8Rng,
    ) -> descent_hpo::Result<RelativeSample> {
        let t = Instant::now();
        let v = self.inner.sample_relative(ctx, rng);
        self.add(t);
        v
    }

    fn before_trial(
        &self,
        trials: &[FrozenTrial],
        trial: &mut FrozenTrial,
    ) -> descent_hpo::Result<()> {
        self.inner.before_trial(trials, trial)
    }
}

/// Branin–Hoo on [−5, 10] × [0, 15]; minimum 0.397887.
fn branin(t: &mut Trial<'_>) -> Result<f64, Error> {
    let x1 = t.suggest_float("x1", -5.0, 10.0)?;
    let x2 = t.suggest_float("x2", 0.0, 15.0)?;
    let pi = std::f64::consts::PI;
    let b = 5.1 / (4.0 * pi * pi);
    let c = 5.0 / pi;
    let s = 1.0 / (8.0 * pi);
    Ok((x2 - b * x1 * x1 + c * x1 - 6.0).powi(2) + 10.0 * (1.0 - s) * x1.cos() + 10.0)
}

/// Hartmann-6 on [0, 1]⁶; minimum −3.32237.
fn hartmann6(t: &mut Trial<'_>) -> Result<f64, Error> {
    const ALPHA: [f64; 4] = [1.0, 1.2, 3.0, 3.2];
    const A: [[f64; 6]; 4] = [
        [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
        [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
        [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
        [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
    ];
    const P: [[f64; 6]; 4] = [
        [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
        [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
        [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
        [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
    ];
    let mut x = [0.0; 6];
    for (i, xi) in x.iter_mut().enumerate() {
        *xi = t.suggest_float(&format!("x{i}"), 0.0, 1.0)?;
    }
    let mut f = 0.0;
    for k in 0..4 {
        let e: f64 = (0..6).map(|j| A[k][j] * (x[j] - P[k][j]).powi(2)).sum();
        f -= ALPHA[k] * (-e).exp();
    }
    Ok(f)
}

/// x0² + x1² on [−5, 5]¹⁰: eight dimensions that do not matter; minimum 0.
fn sphere(t: &mut Trial<'_>) -> Result<f64, Error> {
    let mut f = 0.0;
    for i in 0..10 {
        let x = t.suggest_float(&format!("x{i}"), -5.0, 5.0)?;
        if i < 2 {
            f += x * x;
        }
    }
    Ok(f)
}

/// A training-like space: a log-scale float, an int, and an optimizer whose
/// own parameter exists only when it is chosen; minimum 0 (adam, lr 1e-3,
/// 7 layers, beta 0.95).
fn mixed(t: &mut Trial<'_>) -> Result<f64, Error> {
    let lr = t.suggest_float_log("lr", 1e-5, 1.0)?;
    let layers = t.suggest_int("layers", 1, 20)?;
    let opt: &str = t.suggest_categorical("optimizer", &["sgd", "adam", "rmsprop"])?;
    let base = (lr.log10() + 3.0).powi(2) / 4.0 + ((layers - 7) as f64).powi(2) / 20.0;
    let extra = match opt {
        "adam" => 10.0 * (t.suggest_float("beta", 0.8, 0.999)? - 0.95).powi(2),
        "sgd" => 0.5 + (t.suggest_float("momentum", 0.0, 0.99)? - 0.9).powi(2),
        _ => 1.0,
    };
    Ok(base + extra)
}

type Objective = fn(&mut Trial<'_>) -> Result<f64, Error>;

const PROBLEMS: [(&str, Objective, f64); 4] = [
    ("branin", branin, 0.397_887_357_729_738),
    ("hartmann6", hartmann6, -3.322_368_011_391_339),
    ("sphere10", sphere, 0.0),
    ("mixed", mixed, 0.0),
];

fn sampler(name: &str) -> Box<dyn Sampler> {
    match name {
        "descent-tpe" => Box::new(TpeSampler::new(TpeConfig::default()).expect("valid")),
        "descent-tpe-independent" => Box::new(
            TpeSampler::new(TpeConfig {
                multivariate: false,
                ..Default::default()
            })
            .expect("valid"),
        ),
        "descent-cmaes" => Box::new(CmaEsSampler::new(CmaEsConfig::default()).expect("valid")),
        _ => Box::new(RandomSampler),
    }
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |flag: &str, default: usize| -> usize {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .map_or(default, |v| v.parse().expect("a number"))
    };
    let seeds = arg("--seeds", 100);
    let n_trials = arg("--trials", 60);
    let list = |flag: &str, default: &str| -> Vec<String> {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .map_or(default, |v| v.as_str())
            .split(',')
            .map(str::to_owned)
            .collect()
    };
    let checkpoints: Vec<usize> = list("--checkpoints", "20,40,60")
        .iter()
        .map(|c| c.parse().expect("a number"))
        .filter(|&c| c <= n_trials)
        .collect();
    let samplers = list(
        "--samplers",
        "descent-tpe,descent-tpe-independent,descent-random",
    );
    let problems = list("--problems", "branin,hartmann6,sphere10,mixed");
    for (problem, objective, minimum) in PROBLEMS {
        if !problems.iter().any(|p| p == problem) {
            continue;
        }
        for name in samplers.iter().map(String::as_str) {
            for seed in 0..seeds as u64 {
                let spent = Arc::new(Mutex::new(Duration::ZERO));
                let timed = Timed {
                    inner: sampler(name),
                    spent: Arc::clone(&spent),
                };
                let study = Study::new(StudyConfig {
                    seed,
                    ..Default::default()
                })
                .with_sampler(timed);
                for _ in 0..n_trials {
                    let mut trial = study.ask()?;
                    let result = objective(&mut trial);
                    study.tell(trial, result)?;
                }
                let trials = study.trials();
                let best_at: Vec<f64> = checkpoints
                    .iter()
                    .map(|&c| {
                        trials[..c]
                            .iter()
                            .filter_map(|t| t.value)
                            .fold(f64::INFINITY, f64::min)
                    })
                    .collect();
                let best = study.best_trial()?;
                let category = best
                    .params
                    .get("optimizer")
                    .map_or("null".to_string(), |v| format!("\"{v}\""));
                let spent = spent
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .as_secs_f64();
                println!(
                    "{{\"problem\":\"{problem}\",\"sampler\":\"{name}\",\"seed\":{seed},\"minimum\":{minimum},\"checkpoints\":{checkpoints:?},\"best_at\":{best_at:?},\"best_category\":{category},\"sampler_seconds_per_trial\":{}}}",
                    spent / n_trials as f64
                );
            }
        }
    }
    Ok(())
}
