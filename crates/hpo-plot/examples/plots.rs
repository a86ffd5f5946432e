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
//! The importance bars are fANOVA's (Optuna's default evaluator), as
//! `write_plots` draws them; the Pareto front is that of an NSGA-II study of
//! ZDT1's two objectives (80 trials), written by `write_plots` too.

use anyhow::Result;
use descent_hpo::{
    Direction, MedianConfig, MedianPruner, NsgaIIConfig, NsgaIISampler, Study, StudyConfig,
    TpeConfig, TpeSampler, Trial,
};
use descent_hpo_plot::StudyPlots;
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
    let zdt1 = zdt1_study()?;
    let pareto = zdt1.write_plots(staging.join("zdt1"))?;
    let pareto_files =
        ["png", "svg"].map(|ext| staging.join("zdt1").join(format!("pareto_front.{ext}")));
    for (from, ext) in pareto_files.iter().zip(["png", "svg"]) {
        std::fs::rename(from, staging.join(format!("pareto_front.{ext}")))?;
    }
    std::fs::remove_dir_all(staging.join("zdt1"))?;
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
            written.files.len() + pareto.files.len() - 1,
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

/// 80 trials of NSGA-II (population 20) on ZDT1 in two variables (Zitzler,
/// Deb & Thiele 2000): f1 = x, f2 = g·(1 − √(x/g)) with g = 1 + 9y; its true
/// front is y = 0.
fn zdt1_study() -> Result<Study> {
    let study = Study::new(StudyConfig {
        directions: vec![Direction::Minimize, Direction::Minimize],
        seed: 5,
        ..Default::default()
    })
    .with_sampler(NsgaIISampler::new(NsgaIIConfig {
        population_size: 20,
        ..Default::default()
    })?);
    study.optimize(
        |t| {
            let (x, y) = (
                t.suggest_float("x", 0.0, 1.0)?,
                t.suggest_float("y", 0.0, 1.0)?,
            );
            let g = 1.0 + 9.0 * y;
            Ok::<_, descent_hpo::Error>(vec![x, g * (1.0 - (x / g).sqrt())])
        },
        80,
        1,
    )?;
    Ok(study)
}
