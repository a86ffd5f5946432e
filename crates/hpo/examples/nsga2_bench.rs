//! NSGA-II on ZDT1 (Zitzler, Deb and Thiele 2000), printed as JSON lines for
//! `nsga2_bench.py` (beside this file) to set against Python Optuna's
//! `NSGAIISampler`, in the manner of `tpe_bench.rs`.
//!
//! ```text
//! cargo run --release -p descent-hpo --example nsga2_bench -- \
//!     [--seeds 10] [--trials 3000] [--dim 30] [--pop 50] [--crossover uniform|sbx] > descent.jsonl
//! ```
//!
//! ZDT1 in `dim` variables on [0, 1]: f1 = x1, g = 1 + 9·mean(x2..), f2 =
//! g·(1 − sqrt(f1/g)); the true front is f2 = 1 − sqrt(f1) (g = 1), whose
//! hypervolume with reference point (1.1, 1.1) is 0.1 + 2/3 + 0.11. One line
//! per seed: the hypervolume of the complete trials after each tenth of the
//! budget (`hv_at`, with `budgets`) and the seconds spent per trial.

use descent_hpo::{
    Crossover, Direction, Error, NsgaIIConfig, NsgaIISampler, Sampler, Study, StudyConfig, Trial,
    hypervolume,
};
use std::time::Instant;

/// The hypervolume of ZDT1's true front with reference point (1.1, 1.1).
const TRUE_HV: f64 = 0.1 + 2.0 / 3.0 + 0.11;

fn zdt1(t: &mut Trial<'_>, dim: usize) -> Result<[f64; 2], Error> {
    let mut xs = Vec::with_capacity(dim);
    for i in 0..dim {
        xs.push(t.suggest_float(&format!("x{i:02}"), 0.0, 1.0)?);
    }
    let f1 = xs[0];
    let g = 1.0 + 9.0 * xs[1..].iter().sum::<f64>() / (dim - 1) as f64;
    Ok([f1, g * (1.0 - (f1 / g).sqrt())])
}

/// The hypervolume of the first `n` complete trials' values (points beyond
/// the reference point add nothing and are left out).
fn hv_of(values: &[[f64; 2]], n: usize) -> Result<f64, Error> {
    let pts: Vec<Vec<f64>> = values[..n]
        .iter()
        .filter(|v| v[0] <= 1.1 && v[1] <= 1.1)
        .map(|v| v.to_vec())
        .collect();
    hypervolume(&pts, &[1.1, 1.1])
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let seeds = arg(&args, "--seeds", 10);
    let trials = arg(&args, "--trials", 3000);
    let dim = arg(&args, "--dim", 30);
    let pop = arg(&args, "--pop", 50);
    let sbx = args.iter().any(|a| a == "sbx");
    let budgets: Vec<usize> = (1..=10).map(|k| trials * k / 10).collect();
    for seed in 0..seeds as u64 {
        let sampler = NsgaIISampler::new(NsgaIIConfig {
            population_size: pop,
            crossover: if sbx {
                Crossover::SBX
            } else {
                Crossover::Uniform
            },
            ..Default::default()
        })?;
        let study = Study::new(StudyConfig {
            directions: vec![Direction::Minimize; 2],
            ..Default::default()
        })
        .with_sampler(sampler.with_seed(seed));
        let start = Instant::now();
        study.optimize(|t| zdt1(t, dim), trials, 1)?;
        let secs = start.elapsed().as_secs_f64() / trials as f64;
        let values: Vec<[f64; 2]> = study
            .trials()
            .iter()
            .map(|t| [t.values[0], t.values[1]])
            .collect();
        let hv_at = budgets
            .iter()
            .map(|&n| hv_of(&values, n))
            .collect::<Result<Vec<f64>, Error>>()?;
        let name = if sbx {
            "descent-nsga2-sbx"
        } else {
            "descent-nsga2"
        };
        println!(
            "{}",
            serde_json::json!({
                "sampler": name, "seed": seed, "dim": dim, "pop": pop,
                "budgets": budgets, "hv_at": hv_at, "true_hv": TRUE_HV,
                "seconds_per_trial": secs,
            })
        );
    }
    Ok(())
}
