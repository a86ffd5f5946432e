//! The figures of `docs/hpo/`: every plot of descent-hpo-plot for one small
//! study, as `cargo xtask reproduce` would draw them.
//!
//! ```text
//! cargo run --release -p descent-hpo-plot --example plots            # writes docs/hpo/*.png
//! cargo run --release -p descent-hpo-plot --example plots -- OUT_DIR  # PNG and SVG into OUT_DIR
//! ```
//!
//! The study: 60 trials of a cheap stand-in for a training run — a learning
//! rate (log scale), a depth (int) and an optimizer (categorical); the loss
//! falls each epoch towards a floor set by the optimizer and the depth, fastest
//! for a learning rate near 1e-2, and the median pruner stops poor runs.
//! The importance bars show each parameter's correlation ratio η² (the share
//! of the objective's variance its one-way grouping explains, over 5 bins),
//! computed here and normalized to sum 1 (as Optuna's evaluators); the
//! Pareto front is that of 80 random trials of ZDT1's two objectives.

use anyhow::Result;
use descent_hpo::{
    Direction, FrozenTrial, MedianConfig, MedianPruner, Study, StudyConfig, TpeConfig, TpeSampler,
    Trial, TrialState,
};
use descent_hpo_plot::{StudyPlots, plot_param_importances, plot_pareto_front};
use std::path::PathBuf;

fn main() -> Result<()> {
    let arg = std::env::args().nth(1).map(PathBuf::from);
    let docs = arg.is_none();
    let dir =
        arg.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/hpo"));
    let study = Study::new(StudyConfig {
        direction: Direction::Minimize,
        seed: 3,
        ..Default::default()
    })
    .with_sampler(TpeSampler::new(TpeConfig::default())?)
    .with_pruner(MedianPruner::new(MedianConfig {
        n_startup_trials: 5,
        n_warmup_steps: 3,
        ..Default::default()
    })?);
    study.optimize(objective, 60, 1)?;
    let staging = if docs {
        std::env::temp_dir().join(format!("descent-plots-{}", std::process::id()))
    } else {
        dir.clone()
    };
    let written = study.write_plots(&staging)?;
    for (stem, why) in &written.skipped {
        println!("skipped {stem}: {why}");
    }
    let trials = study.trials();
    let done: Vec<&FrozenTrial> = trials
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .collect();
    let importances: Vec<(String, f64)> = ["depth", "lr", "optimizer"]
        .iter()
        .map(|p| (p.to_string(), eta_squared(&done, p)))
        .collect();
    let total: f64 = importances.iter().map(|i| i.1).sum();
    let importances: Vec<(String, f64)> = importances
        .into_iter()
        .map(|(p, v)| (p, if total > 0.0 { v / total } else { 0.0 }))
        .collect();
    let points = zdt1_points()?;
    let front = pareto_front(&points);
    for ext in ["png", "svg"] {
        plot_param_importances(
            &importances,
            staging.join(format!("param_importances.{ext}")),
        )?;
        plot_pareto_front(
            &points,
            &front,
            Some(["f1", "f2"]),
            staging.join(format!("pareto_front.{ext}")),
        )?;
    }
    if docs {
        // The docs keep the PNGs of one contour; the rest of the set stays in the temp dir.
        std::fs::create_dir_all(&dir)?;
        for stem in [
            "optimization_history",
            "intermediate_values",
            "parallel_coordinate",
            "slice",
            "contour_depth_lr",
            "edf",
            "param_importances",
            "pareto_front",
        ] {
            let name = format!("{stem}.png");
            let bytes = std::fs::read(staging.join(&name))?;
            descent_core::fs::write_atomic(dir.join(&name), &bytes)?;
            println!("{} ({} KB)", dir.join(&name).display(), bytes.len() / 1024);
        }
        std::fs::remove_dir_all(&staging)?;
    } else {
        println!(
            "wrote {} files into {}",
            written.files.len() + 4,
            dir.display()
        );
    }
    Ok(())
}

/// The stand-in training run: loss per epoch, reported for pruning.
fn objective(t: &mut Trial) -> descent_hpo::Result<f64> {
    let lr = t.suggest_float_log("lr", 1e-4, 1.0)?;
    let depth = t.suggest_int("depth", 1, 8)?;
    let opt = t.suggest_categorical("optimizer", &["adam", "sgd", "rmsprop"])?;
    let floor = match opt {
        "adam" => 0.05,
        "sgd" => 0.15,
        _ => 0.10,
    } + 0.015 * (depth as f64 - 4.0).powi(2);
    let rate = 1.0 - 0.45 * (-(lr.log10() + 2.0).powi(2) / 1.5).exp();
    let mut loss = 1.0;
    for epoch in 0..20 {
        loss = floor + (loss - floor) * rate;
        t.report(epoch, loss);
        if t.should_prune() {
            break;
        }
    }
    Ok(loss)
}

/// The correlation ratio η² of the objective grouped by parameter `p`
/// (its categories, or 5 equal-count bins of its values).
fn eta_squared(done: &[&FrozenTrial], p: &str) -> f64 {
    let mut rows: Vec<(String, f64)> = done
        .iter()
        .filter_map(|t| Some((t.params.get(p)?.to_string(), t.value?)))
        .collect();
    let numeric = done.iter().all(|t| t.params.f64(p).is_ok());
    if numeric {
        let mut keyed: Vec<(f64, f64)> = done
            .iter()
            .filter_map(|t| Some((t.params.f64(p).ok()?, t.value?)))
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
        let n = keyed.len().max(1);
        rows = keyed
            .iter()
            .enumerate()
            .map(|(i, &(_, v))| ((i * 5 / n).to_string(), v))
            .collect();
    }
    let mean = rows.iter().map(|r| r.1).sum::<f64>() / rows.len().max(1) as f64;
    let total: f64 = rows.iter().map(|r| (r.1 - mean).powi(2)).sum();
    let mut groups: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    for (k, v) in &rows {
        groups.entry(k.as_str()).or_default().push(*v);
    }
    let between: f64 = groups
        .values()
        .map(|g| g.len() as f64 * (g.iter().sum::<f64>() / g.len() as f64 - mean).powi(2))
        .sum();
    if total > 0.0 { between / total } else { 0.0 }
}

/// 80 random trials of ZDT1 in two variables (Zitzler, Deb & Thiele 2000):
/// f1 = x, f2 = g·(1 − √(x/g)) with g = 1 + 9y; its true front is y = 0.
fn zdt1_points() -> Result<Vec<Vec<f64>>> {
    let study = Study::new(StudyConfig {
        seed: 5,
        ..Default::default()
    });
    study.optimize(
        |t| {
            Ok::<_, descent_hpo::Error>(
                t.suggest_float("x", 0.0, 1.0)? + t.suggest_float("y", 0.0, 1.0)?,
            )
        },
        80,
        1,
    )?;
    Ok(study
        .trials()
        .iter()
        .filter_map(|t| {
            let (x, y) = (t.params.f64("x").ok()?, t.params.f64("y").ok()?);
            let g = 1.0 + 9.0 * y;
            Some(vec![x, g * (1.0 - (x / g).sqrt())])
        })
        .collect())
}

/// Indices of the points no other point dominates (both objectives minimized).
fn pareto_front(points: &[Vec<f64>]) -> Vec<usize> {
    let dominates = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| x <= y) && a != b;
    (0..points.len())
        .filter(|&i| !points.iter().any(|q| dominates(q, &points[i])))
        .collect()
}
