//! Population-based training across worker processes sharing one study
//! (`descent_hpo::pbt::SharedPopulation`), on the embedded digits.
//!
//! The example starts `--workers N` copies of itself (3 by default); each
//! opens the same SQLite study and trains members of one population of 6
//! MLPs (64-32-10, SGD with momentum 0.9, 200 steps, the learning rate
//! explored every 25 steps), claiming a member at a time. Checkpoints (the
//! trainer's bundle) are files in a shared directory. When the workers are
//! done, the parent prints each member's lineage from the study: who
//! trained what, which member it copied at which step, its learning rates.
//!
//! Run: `cargo run --release -p descent-train --features hpo --example pbt_shared [-- --workers 3]`
//! (pass `--keep` to keep the study and checkpoints; the path is printed).

mod common;

use anyhow::{Context, Result};
use common::{digits_member, digits_split, lr_law};
use descent_hpo::pbt::{SharedConfig, SharedPopulation};
use descent_hpo::{Pbt, PbtConfig};
use descent_train::pbt::{PbtScore, TrainerMember};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const WORKER_ENV: &str = "DESCENT_PBT_SHARED_EXAMPLE_WORKER";
const POPULATION: usize = 6;
const STEPS: u64 = 200;
const READY: u64 = 25;

/// The run every worker opens: the same for all of them.
fn pbt() -> Result<Pbt> {
    Ok(Pbt::new(PbtConfig {
        ready_interval: READY,
        total_steps: STEPS,
        seed: 7,
        ..Default::default()
    })?
    .with_mutation("lr", lr_law())?)
}

fn shared_config(dir: &Path) -> SharedConfig {
    SharedConfig {
        heartbeat_interval: Duration::from_secs(1),
        grace_period: Duration::from_secs(10),
        poll_interval: Duration::from_millis(50),
        ..SharedConfig::new(POPULATION, dir.join("checkpoints"))
    }
}

/// One worker process: trains members until the population is done.
fn work(url: &str, dir: &Path) -> Result<()> {
    let (train, val) = digits_split()?;
    let mut population = SharedPopulation::open(url, "pbt-digits", pbt()?, shared_config(dir))?;
    let report = population.run(|i| {
        let t = digits_member(100 + i as u64, 32)?;
        Ok(TrainerMember::new(t, &train, &val, PbtScore::Loss))
    })?;
    println!(
        "worker {}: {} segments, {} exploits, members finished: {:?}",
        population.worker_id(),
        report.segments,
        report.exploits,
        report.completed
    );
    Ok(())
}

fn main() -> Result<()> {
    if let Ok(spec) = std::env::var(WORKER_ENV) {
        let (url, dir) = spec.split_once('|').context("worker spec")?;
        return work(url, Path::new(dir));
    }
    let args: Vec<String> = std::env::args().collect();
    let workers: usize = match args.iter().position(|a| a == "--workers") {
        Some(k) => args.get(k + 1).context("--workers N")?.parse()?,
        None => 3,
    };
    let keep = args.iter().any(|a| a == "--keep");
    let dir = std::env::temp_dir().join(format!("descent-pbt-shared-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite:///{}", dir.join("study.db").display());
    println!(
        "{workers} worker processes, a population of {POPULATION}, {STEPS} steps each, study {url}"
    );
    let exe = std::env::current_exe()?;
    let children = (0..workers)
        .map(|_| {
            Command::new(&exe)
                .env(WORKER_ENV, format!("{url}|{}", dir.display()))
                .spawn()
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    for mut c in children {
        let status = c.wait()?;
        anyhow::ensure!(status.success(), "a worker failed: {status}");
    }

    let result =
        SharedPopulation::open(&url, "pbt-digits", pbt()?, shared_config(&dir))?.result()?;
    println!(
        "\n| member | trial | initial lr | final lr | final val loss | segments by worker (pid: count) | lineage |"
    );
    println!("|---|---|---|---|---|---|---|");
    for m in &result.members {
        let mut by: std::collections::BTreeMap<&str, usize> = Default::default();
        for s in &m.segments {
            *by.entry(s.worker.split(':').nth(1).unwrap_or("?"))
                .or_default() += 1;
        }
        let by: Vec<String> = by.iter().map(|(w, n)| format!("{w}: {n}")).collect();
        let lineage: Vec<String> = m
            .lineage
            .iter()
            .map(|e| {
                format!(
                    "at {} copied member {} (step {}), lr {:.4} → {:.4}",
                    e.step,
                    e.donor,
                    e.donor_step,
                    e.donor_hyperparams.f64("lr").unwrap_or(f64::NAN),
                    e.after.f64("lr").unwrap_or(f64::NAN)
                )
            })
            .collect();
        println!(
            "| {} | {} | {:.4} | {:.4} | {:.4} | {} | {} |",
            m.member,
            m.trial_number,
            m.initial.f64("lr").unwrap_or(f64::NAN),
            m.hyperparams.f64("lr").unwrap_or(f64::NAN),
            m.score().unwrap_or(f64::NAN),
            by.join(", "),
            if lineage.is_empty() {
                "—".to_owned()
            } else {
                lineage.join("; ")
            }
        );
    }
    if let Some(best) = result.best() {
        let schedule: Vec<String> = result
            .schedule(best.member)
            .iter()
            .map(|(step, h)| format!("{step}:{:.4}", h.f64("lr").unwrap_or(f64::NAN)))
            .collect();
        println!(
            "\nbest: member {} (val loss {:.4}); its learning-rate schedule: {}",
            best.member,
            best.score().unwrap_or(f64::NAN),
            schedule.join(" → ")
        );
    }
    if keep {
        println!("kept {}", dir.display());
    } else {
        std::fs::remove_dir_all(&dir)?;
    }
    Ok(())
}
