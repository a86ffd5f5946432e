//! `cargo xtask soak train --kills N [--seed S]`: SIGKILLs a training run at N
//! random micro-batches, resumes it from its checkpoints after each, and
//! prints how many resumes ended bit-identical to the uninterrupted run.
//! The scenario and its checks are `crates/train/tests/kill_resume.rs`; this
//! command runs that test with N kills (in release mode) and prints its count.

use anyhow::{Context, Result, bail};
use std::process::Command;

const USAGE: &str = "usage: cargo xtask soak train [--kills N] [--seed S]";

pub fn main(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("train") => train(&args[1..]),
        Some("hpo") => crate::hpo::soak_main(args),
        _ => bail!(
            "{USAGE}\n   or: cargo xtask soak hpo --kills N [--workers W] [--url URL] [--seed S]"
        ),
    }
}

fn train(args: &[String]) -> Result<()> {
    let (mut kills, mut seed) = (20u64, 5u64);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| -> Result<u64> {
            it.next()
                .with_context(|| format!("{name} needs a value"))?
                .parse()
                .with_context(|| format!("{name} takes a whole number"))
        };
        match a.as_str() {
            "--kills" => kills = value("--kills")?,
            "--seed" => seed = value("--seed")?,
            other => bail!("unknown argument `{other}`\n{USAGE}"),
        }
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(crate::workspace_root())
        .args([
            "test",
            "--release",
            "-p",
            "descent-train",
            "--test",
            "kill_resume",
            "--",
            "--nocapture",
            "--exact",
            "a_killed_run_resumes_bit_identical",
        ])
        .env("DESCENT_SOAK_KILLS", kills.to_string())
        .env("DESCENT_SOAK_SEED", seed.to_string())
        .output()
        .context("running the kill-resume test")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find(|l| l.starts_with("soak:"));
    match line {
        Some(l) => println!("{l}"),
        None => {
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
            bail!("the soak test printed no count ({})", out.status);
        }
    }
    if !out.status.success() {
        bail!("not every resume matched ({})", out.status);
    }
    Ok(())
}
