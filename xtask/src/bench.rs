//! `cargo xtask bench`: the criterion benchmarks, then a table of the
//! training-step workloads W1–W4 at 1 and 2 threads, beside PyTorch when a
//! python3 with torch is importable, and this machine's limits.
//!
//! matrixmultiply reads `MATMUL_NUM_THREADS` once per process, so each
//! measurement runs in a child process (`bench --child`) with that variable
//! set. Children print one line per result; `benches/torch_workloads.py`
//! prints the same `workload NAME MS MS ...` lines. Each round runs descent
//! then PyTorch, and rounds alternate, so both see the same machine state.

mod table;

use anyhow::{Context, Result, bail};
use descent_bench::{Timing, WorkloadId, sgemm_gflops, time_steps, triad_gbs};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use table::{Limits, Measured};

/// Thread counts the table reports.
const THREADS: [usize; 2] = [1, 2];
/// The PyTorch script, relative to the workspace root.
const TORCH_SCRIPT: &str = "benches/torch_workloads.py";

struct Args {
    table_only: bool,
    quick: bool,
    rounds: usize,
    out: PathBuf,
    criterion: Vec<String>,
}

fn parse(args: &[String]) -> Result<Args> {
    let mut a = Args {
        table_only: false,
        quick: false,
        rounds: 2,
        out: super::workspace_root().join("out"),
        criterion: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--table" => a.table_only = true,
            "--quick" => a.quick = true,
            "--rounds" => {
                let n = it.next().context("--rounds needs a number")?;
                a.rounds = n.parse().with_context(|| format!("--rounds {n}"))?;
                if a.rounds == 0 {
                    bail!("--rounds must be positive");
                }
            }
            "--out" => a.out = it.next().context("--out needs a folder")?.into(),
            _ => a.criterion.push(arg.clone()),
        }
    }
    Ok(a)
}

/// Entry point of `cargo xtask bench [FILTER] [--table] [--quick] [--rounds N] [--out DIR]`.
pub fn main(args: &[String]) -> Result<()> {
    if args.first().map(String::as_str) == Some("--child") {
        return child(args.iter().any(|a| a == "--quick"));
    }
    let a = parse(args)?;
    if !a.table_only {
        let mut cargo_args = vec!["bench", "--bench", "bench_main", "--"];
        cargo_args.extend(a.criterion.iter().map(String::as_str));
        super::cargo(&cargo_args, &[])?;
    }
    let load_before = load_average();
    let torch = torch_available();
    if !torch {
        println!("PyTorch comparison skipped: torch not importable by python3");
    }
    let mut results = Vec::new();
    for threads in THREADS {
        let mut m = Measured::default();
        for round in 0..a.rounds {
            println!(
                "bench: {threads} thread(s), round {}/{}",
                round + 1,
                a.rounds
            );
            merge(
                &mut m.descent,
                &mut m.limits,
                &run_descent(threads, a.quick)?,
            );
            if torch {
                let mut ignored = Limits::default();
                merge(&mut m.torch, &mut ignored, &run_torch(threads, a.quick)?);
            }
        }
        results.push((threads, m));
    }
    let load = [load_before, load_average()];
    let md = table::render(&results, torch, &load);
    println!("\n{md}");
    let path = a.out.join("BENCH.md");
    write_atomically(&path, &md)?;
    println!("wrote {}", path.display());
    Ok(())
}

/// Measures the limits and every workload in this process, printing the
/// line protocol on stdout.
fn child(quick: bool) -> Result<()> {
    let (gemm_iters, triad_len) = if quick { (2, 1 << 22) } else { (5, 1 << 24) };
    println!("limit sgemm_gflops {}", sgemm_gflops(1024, gemm_iters));
    println!("limit triad_gbs {}", triad_gbs(triad_len, 10));
    let budget_s = if quick { 0.3 } else { 2.0 };
    for id in WorkloadId::ALL {
        let mut w = id.build(0);
        let start = Instant::now();
        for _ in 0..3 {
            w.step().expect("optimizer step");
        }
        let per_step = start.elapsed().as_secs_f64() / 3.0;
        let iters = ((budget_s / per_step) as usize).clamp(10, 2000);
        let t = time_steps(1, iters, || {
            w.step().expect("optimizer step");
        });
        println!("{}", protocol_line(id.name(), &t));
    }
    Ok(())
}

fn protocol_line(name: &str, t: &Timing) -> String {
    let ms: Vec<String> = t.samples_ms.iter().map(|v| format!("{v:.5}")).collect();
    format!("workload {name} {}", ms.join(" "))
}

/// Adds a child's `limit` and `workload` lines to `timings` and `limits`
/// (limits keep their best value across rounds).
fn merge(timings: &mut BTreeMap<String, Timing>, limits: &mut Limits, out: &str) {
    for line in out.lines() {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("limit"), Some(name)) => {
                let v: f64 = words
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(f64::NAN);
                let slot = match name {
                    "sgemm_gflops" => &mut limits.sgemm_gflops,
                    "triad_gbs" => &mut limits.triad_gbs,
                    _ => continue,
                };
                *slot = slot.max(v);
            }
            (Some("workload"), Some(name)) => {
                let samples_ms = words.filter_map(|v| v.parse().ok()).collect();
                timings
                    .entry(name.to_owned())
                    .or_default()
                    .extend(&Timing { samples_ms });
            }
            _ => {}
        }
    }
}

fn run_descent(threads: usize, quick: bool) -> Result<String> {
    let exe = std::env::current_exe().context("locating xtask")?;
    let mut cmd = Command::new(exe);
    cmd.args(["bench", "--child"]);
    if quick {
        cmd.arg("--quick");
    }
    output(
        cmd.env("MATMUL_NUM_THREADS", threads.to_string()),
        "descent child",
    )
}

fn run_torch(threads: usize, quick: bool) -> Result<String> {
    let mut cmd = Command::new("python3");
    cmd.current_dir(super::workspace_root())
        .arg(TORCH_SCRIPT)
        .args(["--threads", &threads.to_string()]);
    if quick {
        cmd.arg("--quick");
    }
    output(&mut cmd, TORCH_SCRIPT)
}

fn output(cmd: &mut Command, what: &str) -> Result<String> {
    let out = cmd.output().with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8(out.stdout).with_context(|| format!("{what} printed non-UTF-8"))
}

/// The 1-minute load average (`/proc/loadavg`), if readable: other work on
/// the machine shows up here and in the spread between median and min.
fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn torch_available() -> bool {
    Command::new("python3")
        .args(["-c", "import torch"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Writes `text` to a temporary file beside `path`, then renames it over
/// `path`, so a reader never sees a half-written table.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let dir = path.parent().context("output path has a folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = path.with_extension("md.tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_pools_samples_across_rounds_and_keeps_the_best_limit() {
        let (mut timings, mut limits) = (BTreeMap::new(), Limits::default());
        merge(
            &mut timings,
            &mut limits,
            "limit sgemm_gflops 50\nworkload w1_sgd 2.0 4.0\n",
        );
        merge(
            &mut timings,
            &mut limits,
            "limit sgemm_gflops 40\nnoise\nworkload w1_sgd 3.0\n",
        );
        assert_eq!(limits.sgemm_gflops, 50.0);
        assert_eq!(timings["w1_sgd"].samples_ms, vec![2.0, 4.0, 3.0]);
        assert_eq!(timings["w1_sgd"].median_ms(), 3.0);
    }

    #[test]
    fn protocol_lines_round_trip() {
        let t = Timing {
            samples_ms: vec![1.5, 2.25],
        };
        let (mut timings, mut limits) = (BTreeMap::new(), Limits::default());
        merge(&mut timings, &mut limits, &protocol_line("w2_adam", &t));
        assert_eq!(timings["w2_adam"], t);
    }
}
