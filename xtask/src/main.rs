//! descent's task runner (`cargo xtask <command>`).
//!
//! - `reproduce [NAME|GROUP]... [--quick] [--seed N] [--seeds K] [--strict] [--out DIR]`:
//!   runs the experiments and writes `REPORT.md` under the output folder
//!   (default `target/reproduce`);
//! - `bench [FILTER] [--table] [--quick] [--rounds N] [--out DIR] [--python PATH]
//!   [--rows PREFIX,...] [--only GROUPS] [--with-w9]
//!   [--mnist DIR] [--save-previous] [--baseline REV|previous] [--confirm N]`:
//!   the criterion benchmarks, then the workload tables W1–W6 and the W6
//!   family of augmentation ops (`DIR/BENCH.md`)
//!   at 1 and 2 threads, beside PyTorch when the interpreter (`--python`,
//!   `$DESCENT_PYTHON`, else `python3`) can import torch;
//! - `soak train [--kills N] [--seed S]`: SIGKILLs a training run at N random
//!   micro-batches and counts the resumes that end bit-identical;
//! - `soak hpo --kills N`: the kill soak of a study shared by worker processes;
//! - `hpo copy FROM TO`: copies a study between storages;
//! - `fuzz [TARGET...] [--seconds N] [--engine auto|libfuzzer|mutate]`: every
//!   fuzz target of `descent-fuzz` for N seconds (libFuzzer through cargo-fuzz
//!   when installed, else the mutation engine);
//! - `tidy`: the workspace's own checks (also part of `cargo test`).
//!
//! # Code map
//!
//! A task runner with `anyhow` and few dependencies.
//! - `reproduce.rs` runs the selection over `--seeds K`; `reproduce/*.rs` are
//!   the experiments, each training through descent-train and the crates'
//!   public APIs and returning an `Outcome`; `reproduce/lab.rs` is what an
//!   experiment sees and returns, `reproduce/plot.rs` draws its figures
//!   (plotters, PNG and SVG, embedded DejaVu font), `reproduce/optim_common.rs`
//!   is the MLP and step recorder the first three share; `report.rs` judges
//!   each claim part and writes `REPORT.md` plus `NAME.json`.
//!   The sixteen experiments, in report order: optimization — `optimizers`
//!   (2-D surfaces through the optimizers' public API, and nine optimizers on
//!   an MLP), `learning_rate`, `schedules` (five schedules, and OPT-style
//!   bad-batch spikes against the instability guard), `gradient_clipping`,
//!   `implicit_bias` (least squares on the tape, against the pseudo-inverse),
//!   `gradient_noise`, `l2_vs_weight_decay`, `random_vs_grid` (descent-hpo's
//!   samplers over real training runs); generalization — `early_stopping`,
//!   `dropout`, `batch_norm_large_lr`, `large_vs_small_batch`
//!   (descent-regularize's sharpness measures), `activation_noise`,
//!   `memorization`, `double_descent` (random features by min-norm least
//!   squares, and an MLP width sweep), `augmentation` (images and EDA text).
//! - `bench.rs` + `bench/`: `cargo xtask bench` (the child protocol, the
//!   tables, the previous-run comparison; see their module docs).
//! - `soak.rs` (`soak train`), `hpo.rs` (`soak hpo`, `hpo copy`), `fuzz.rs` (`fuzz`).
//!
//! Invariant: reports are written atomically (`descent_core::fs::write_atomic`).

mod bench;
mod fuzz;
mod hpo;
mod report;
mod reproduce;
mod soak;

use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::process::Command;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  reproduce [NAME|GROUP]... [--quick] [--seed N] [--seeds K] [--data DIR] [--out DIR] [--strict]
                     run the experiments (all, or those named) and write DIR/REPORT.md
                     (default target/reproduce); `reproduce --help` says more
  reproduce --list   list the experiments
  bench [FILTER] [--table] [--quick] [--rounds N] [--out DIR] [--python PATH]
        [--rows PREFIX,...]
                     run the criterion benchmarks (skipped with --table), then time
                     workloads W1-W8 and the W6 augmentation ops at 1 and 2 threads
                     (and PyTorch's, when PATH, else $DESCENT_PYTHON, else python3
                     imports torch) and write
                     DIR/BENCH.md (default out/); other arguments go to criterion;
                     --rows PREFIX,... times only the rows whose names start with a
                     prefix (e.g. w6, w7); every row is compared with the previous
                     table (benches/previous/BENCH.json, --save-previous stores one)
  bench ... [--only GROUPS] [--with-w9] [--mnist DIR] [--save-previous]
                     GROUPS (comma-separated): w1-w6, w8 (an MNIST epoch vs PyTorch's
                     DataLoader; MNIST under DIR, default ../shared/datasets), peak
                     (peak memory per workload), load (W1 with one core kept busy),
                     w9 (a full `reproduce`, timed; also --with-w9); default all but
                     w9. Rows are compared with benches/previous/BENCH.json, which
                     --save-previous replaces with this run
  bench ... --baseline REV
                     also build REV's xtask (in target/bench-baseline/) and time it
                     in the same run, its child beside this build's in every round
                     (each going first in turn);
                     each descent row is judged against it (DIR/BENCH-baseline.json);
                     --baseline previous: the commit benches/previous/BENCH.json measured
  bench ... --baseline REV --confirm N
                     time each row flagged against the baseline again in N rounds
                     (default 7, 0 = none), both builds each round; the flag stands
                     only if every round agrees
  soak train [--kills N] [--seed S]
                     kill a training run with SIGKILL at N random micro-batches, resume
                     each time, and print how many resumes matched the uninterrupted run
  fuzz [TARGET...] [--seconds N] [--engine auto|libfuzzer|mutate]
                     run every fuzz target (or those named) N seconds each (default 60):
                     libFuzzer via `cargo +nightly fuzz` when installed, else a mutation
                     engine; crashes are saved to fuzz/regressions/<target>/
  soak hpo --kills N [--workers W] [--url URL] [--seed S]
                     SIGKILL shared-study workers N times (SQLite in a temp dir unless
                     URL) and check no finished trial is lost, renumbered or duplicated
  hpo copy FROM TO [--study NAME] [--to-study NAME]
                     copy a study's finished trials; FROM/TO are journal:PATH or URLs
  hpo throughput [--url URL]... [--trials N]
                     trials/s with 1, 2, 4 workers on a journal, SQLite and each URL
  tidy               check the workspace's dependency rule and layout";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("reproduce") => reproduce::main(&args[1..]),
        Some("bench") => bench::main(&args[1..]),
        Some("soak") => soak::main(&args[1..]),
        Some("fuzz") => fuzz::main(&args[1..]),
        Some("hpo") => hpo::main(&args[1..]),
        Some("tidy") => cargo(&["test", "--test", "tidy"], &[]),
        Some("-h" | "--help" | "help") | None => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}

/// Runs cargo from the workspace root with `args` then `extra`.
fn cargo(args: &[&str], extra: &[String]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace_root())
        .args(args)
        .args(extra)
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}
