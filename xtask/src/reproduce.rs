//! `cargo xtask reproduce`: the experiments behind each idea, each with a
//! claim, a threshold fixed in code before it runs, numbers, figures and a
//! verdict, written to `REPORT.md` (default folder `target/reproduce`).
//!
//! Layout: [`lab`] is what an experiment sees and returns, [`plot`] draws
//! its figures, [`crate::report`] writes the report and the JSON files;
//! each experiment is one module below, listed in [`EXPERIMENTS`].
//!
//! Invariant: a claim's threshold is a constant in its experiment's module,
//! fixed before any run; the harness never adjusts it, and a claim that does
//! not hold is reported as such (the command fails on it only with
//! `--strict`; it fails when an experiment errors).
//! Invariant: every experiment derives every RNG from `Ctx::seed`
//! (`lab::rng(seed, purpose)`), so a seed reproduces a run; data come from
//! `lab::images` (the data-directory rule, else the embedded digits) and the
//! report names what was used.

mod activation_noise;
mod augmentation;
mod batch_norm_large_lr;
mod double_descent;
mod dropout;
mod early_stopping;
mod gradient_clipping;
mod gradient_noise;
mod implicit_bias;
mod l2_vs_weight_decay;
pub mod lab;
mod large_vs_small_batch;
mod learning_rate;
mod memorization;
mod optim_common;
mod optimizers;
pub mod plot;
mod random_vs_grid;
mod schedules;

use crate::report::{self, Aggregate, Run};
use anyhow::{Context, Result, bail};
use clap::Parser;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use lab::{Ctx, Experiment, Group};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

/// Every experiment, in report order.
pub const EXPERIMENTS: &[Experiment] = &[
    // -- optimization --
    optimizers::EXPERIMENT,
    learning_rate::EXPERIMENT,
    schedules::EXPERIMENT,
    gradient_clipping::EXPERIMENT,
    implicit_bias::EXPERIMENT,
    gradient_noise::EXPERIMENT,
    l2_vs_weight_decay::EXPERIMENT,
    random_vs_grid::EXPERIMENT,
    // -- generalization --
    early_stopping::EXPERIMENT,
    dropout::EXPERIMENT,
    batch_norm_large_lr::EXPERIMENT,
    large_vs_small_batch::EXPERIMENT,
    activation_noise::EXPERIMENT,
    memorization::EXPERIMENT,
    double_descent::EXPERIMENT,
    augmentation::EXPERIMENT,
];

/// `cargo xtask reproduce [NAME|GROUP]... [options]`
#[derive(Parser, Debug)]
#[command(
    name = "cargo xtask reproduce",
    about = "Re-run the experiments behind each idea and write REPORT.md"
)]
struct Args {
    /// Experiments to run: names, or `optimization` / `generalization` (default: all).
    selection: Vec<String>,
    /// List the experiments with their claims and exit.
    #[arg(long)]
    list: bool,
    /// The small version CI runs (at most 3 minutes for all).
    #[arg(long)]
    quick: bool,
    /// Base seed; run k of `--seeds` uses seed + k.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Repeat each experiment over this many seeds; claims are judged on the
    /// mean and the spread.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    seeds: u64,
    /// Data directory (else $DESCENT_DATA, then ../shared/datasets, then embedded data).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Output folder (default: target/reproduce).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Exit non-zero when a claim does not hold (it always does when an experiment fails to run).
    #[arg(long)]
    strict: bool,
}

/// Resolves names and group names to experiments, in [`EXPERIMENTS`] order.
fn select(names: &[String]) -> Result<Vec<&'static Experiment>> {
    if names.is_empty() {
        return Ok(EXPERIMENTS.iter().collect());
    }
    let mut picked = vec![false; EXPERIMENTS.len()];
    for name in names {
        let mut any = false;
        for (k, e) in EXPERIMENTS.iter().enumerate() {
            if e.name == name || e.group.as_str() == name {
                picked[k] = true;
                any = true;
            }
        }
        if !any {
            let known: Vec<&str> = EXPERIMENTS.iter().map(|e| e.name).collect();
            bail!(
                "no experiment or group named `{name}`; groups: optimization, generalization; experiments: {}",
                known.join(", ")
            );
        }
    }
    Ok(EXPERIMENTS
        .iter()
        .zip(picked)
        .filter_map(|(e, p)| p.then_some(e))
        .collect())
}

fn list() {
    for group in [Group::Optimization, Group::Generalization] {
        println!("{}:", group.as_str());
        for e in EXPERIMENTS.iter().filter(|e| e.group == group) {
            println!("  {:<22} {}", e.name, e.claim);
            println!("  {:<22} ({})", "", e.source);
        }
    }
}

pub fn main(args: &[String]) -> Result<()> {
    use clap::{CommandFactory, FromArgMatches};
    let parsed = Args::command()
        .bin_name("cargo xtask reproduce")
        .try_get_matches_from(std::iter::once("reproduce".to_owned()).chain(args.iter().cloned()))
        .and_then(|m| Args::from_arg_matches(&m));
    let args = match parsed {
        Ok(a) => a,
        Err(e) if !e.use_stderr() => {
            // --help / --version
            print!("{e}");
            return Ok(());
        }
        Err(e) => bail!("{e}"),
    };
    if args.list {
        list();
        return Ok(());
    }
    let selected = select(&args.selection)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| crate::workspace_root().join("target").join("reproduce"));
    std::fs::create_dir_all(out.join("figures"))
        .with_context(|| format!("creating {}", out.join("figures").display()))?;

    let plain = !std::io::stderr().is_terminal();
    let multi = MultiProgress::with_draw_target(if plain {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    });
    let total = selected.len() as u64 * args.seeds;
    let overall = multi.add(ProgressBar::new(total));
    overall.set_style(
        ProgressStyle::with_template(
            "reproduce [{bar:30}] {pos}/{len} runs, {elapsed} elapsed {msg}",
        )
        .context("progress template")?
        .progress_chars("=> "),
    );
    let started = Instant::now();
    let mut aggregates = Vec::new();
    for (k, e) in selected.iter().enumerate() {
        let mut runs = Vec::new();
        let mut failure = None;
        for s in 0..args.seeds {
            let seed = args.seed.wrapping_add(s);
            let bar = multi.add(ProgressBar::new(1));
            bar.set_style(
                ProgressStyle::with_template("{prefix:>24} [{bar:30}] {pos}/{len} {msg}")
                    .context("progress template")?
                    .progress_chars("=> "),
            );
            bar.set_prefix(format!("{} (seed {seed})", e.name));
            if plain {
                println!(
                    "== [{}/{}] {} (seed {seed}{}): {}",
                    k + 1,
                    selected.len(),
                    e.name,
                    if args.quick { ", quick" } else { "" },
                    e.claim
                );
            }
            let ctx = Ctx::new(
                args.quick,
                seed,
                args.data.clone(),
                bar.clone(),
                plain,
                e.name,
            );
            let t0 = Instant::now();
            let result = (e.run)(&ctx);
            let wall = t0.elapsed();
            bar.finish_and_clear();
            multi.remove(&bar);
            overall.inc(1);
            match result {
                Ok(outcome) => {
                    if plain {
                        let held = outcome.claims.iter().all(|c| c.held());
                        println!(
                            "   {} in {}: claim {}",
                            e.name,
                            lab::secs(wall),
                            if held { "held" } else { "did NOT hold" }
                        );
                    }
                    runs.push(Run {
                        seed,
                        wall,
                        outcome,
                    });
                }
                Err(err) => {
                    let msg = format!("{err:#}");
                    let _ = multi.println(format!("   {} (seed {seed}) FAILED: {msg}", e.name));
                    if plain {
                        println!("   {} (seed {seed}) FAILED: {msg}", e.name);
                    }
                    failure = Some(format!("seed {seed}: {msg}"));
                    break;
                }
            }
        }
        let mut agg = Aggregate::new(e, runs, failure, args.quick);
        report::write_experiment(&out, &mut agg)?;
        aggregates.push(agg);
    }
    overall.finish_and_clear();
    let wall = started.elapsed();
    report::write_report(&out, &aggregates, &args_summary(&args), wall)?;

    let failed: Vec<&str> = aggregates
        .iter()
        .filter(|a| a.failure.is_some())
        .map(|a| a.name())
        .collect();
    let not_held: Vec<&str> = aggregates
        .iter()
        .filter(|a| a.failure.is_none() && !a.held())
        .map(|a| a.name())
        .collect();
    println!(
        "{} of {} experiments' claims held in {}; report: {}",
        aggregates
            .iter()
            .filter(|a| a.failure.is_none() && a.held())
            .count(),
        aggregates.len(),
        lab::secs(wall),
        out.join("REPORT.md").display()
    );
    if !failed.is_empty() {
        bail!("experiments failed to run: {}", failed.join(", "));
    }
    if !not_held.is_empty() {
        if args.strict {
            bail!("claims did not hold (--strict): {}", not_held.join(", "));
        }
        eprintln!(
            "note: claims that did not hold on this run: {}; see the report",
            not_held.join(", ")
        );
    }
    Ok(())
}

fn args_summary(args: &Args) -> String {
    let seeds = if args.seeds == 1 {
        format!("seed {}", args.seed)
    } else {
        format!("seeds {}–{}", args.seed, args.seed + args.seeds - 1)
    };
    format!(
        "{}{seeds}{}",
        if args.quick {
            "quick mode, "
        } else {
            "full mode, "
        },
        args.data
            .as_ref()
            .map(|d| format!(", data directory {}", d.display()))
            .unwrap_or_default()
    )
}
