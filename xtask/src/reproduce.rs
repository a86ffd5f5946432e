//! `cargo xtask reproduce`: the experiments behind each idea.

mod two_moons_gd;

use crate::report::{self, Report};
use anyhow::{Context, Result, bail};
use std::path::PathBuf;

/// Settings shared by every experiment.
pub struct Config {
    /// Small version for CI.
    pub quick: bool,
}

/// An experiment: a name, the claim it tests, and how to run it.
struct Experiment {
    name: &'static str,
    claim: &'static str,
    run: fn(&Config, u64) -> Result<Report>,
}

const EXPERIMENTS: &[Experiment] = &[Experiment {
    name: two_moons_gd::NAME,
    claim: two_moons_gd::CLAIM,
    run: two_moons_gd::run,
}];

pub fn main(args: &[String]) -> Result<()> {
    let mut quick = false;
    let mut out = crate::workspace_root().join("out");
    let mut seed = 0u64;
    let mut only: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--quick" => quick = true,
            "--out" => out = PathBuf::from(it.next().context("--out needs a directory")?),
            "--seed" => {
                seed = it
                    .next()
                    .context("--seed needs a number")?
                    .parse()
                    .context("--seed needs a number")?
            }
            "--list" => {
                for e in EXPERIMENTS {
                    println!("{:<16} {}", e.name, e.claim);
                }
                return Ok(());
            }
            flag if flag.starts_with('-') => bail!("unknown option `{flag}`"),
            name => only = Some(name.to_owned()),
        }
    }
    let selected: Vec<&Experiment> = match &only {
        Some(name) => match EXPERIMENTS.iter().find(|e| e.name == name) {
            Some(e) => vec![e],
            None => {
                let names: Vec<&str> = EXPERIMENTS.iter().map(|e| e.name).collect();
                bail!("no experiment named `{name}`; known: {}", names.join(", "))
            }
        },
        None => EXPERIMENTS.iter().collect(),
    };
    let cfg = Config { quick };
    let mut reports = Vec::new();
    for e in selected {
        println!("== {}: {}", e.name, e.claim);
        let r = (e.run)(&cfg, seed).with_context(|| format!("experiment {}", e.name))?;
        println!("   claim held: {}", if r.held { "yes" } else { "NO" });
        reports.push(r);
    }
    report::write(&out, &reports, quick, seed)?;
    if reports.iter().any(|r| !r.held) {
        eprintln!("note: some claims did not hold on this run; see the report");
    }
    Ok(())
}
