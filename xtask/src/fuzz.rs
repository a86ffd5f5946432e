//! `cargo xtask fuzz [TARGET...] [--seconds N] [--engine auto|libfuzzer|mutate]`:
//! every fuzz target of `descent-fuzz` for N seconds each (default 60).
//!
//! `libfuzzer` runs `cargo +nightly fuzz run` (coverage-guided; needs a
//! nightly toolchain and `cargo install cargo-fuzz`), with a working corpus
//! in `target/fuzz-corpus/<target>/` seeded from `fuzz/corpus/<target>/`.
//! `mutate` runs `descent_fuzz::mutate` in this process (no nightly needed;
//! what CI runs). `auto` (the default) picks libfuzzer when it is installed.
//! A crash is copied to `fuzz/regressions/<target>/`, which the
//! `descent-fuzz` tests replay, and fails the command.

use anyhow::{Context, Result, bail};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    Auto,
    LibFuzzer,
    Mutate,
}

#[derive(Debug, PartialEq)]
struct Args {
    seconds: u64,
    engine: Engine,
    targets: Vec<String>,
}

fn parse(args: &[String]) -> Result<Args> {
    let mut a = Args {
        seconds: 60,
        engine: Engine::Auto,
        targets: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => {
                let v = it.next().context("--seconds needs a value")?;
                a.seconds = v.parse().with_context(|| format!("--seconds {v}"))?;
            }
            "--engine" => {
                a.engine = match it.next().map(String::as_str) {
                    Some("auto") => Engine::Auto,
                    Some("libfuzzer") => Engine::LibFuzzer,
                    Some("mutate") => Engine::Mutate,
                    other => bail!("--engine takes auto, libfuzzer or mutate, not {other:?}"),
                }
            }
            name if descent_fuzz::target(name).is_some() => a.targets.push(name.to_owned()),
            other => bail!(
                "unknown fuzz argument `{other}`; targets: {}",
                descent_fuzz::TARGETS
                    .iter()
                    .map(|t| t.0)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    if a.targets.is_empty() {
        a.targets = descent_fuzz::TARGETS
            .iter()
            .map(|t| t.0.to_owned())
            .collect();
    }
    Ok(a)
}

/// Whether `cargo +nightly fuzz` runs here.
fn libfuzzer_available() -> bool {
    Command::new("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Entry point of `cargo xtask fuzz`.
pub fn main(args: &[String]) -> Result<()> {
    let a = parse(args)?;
    let engine = match a.engine {
        Engine::Auto if libfuzzer_available() => Engine::LibFuzzer,
        Engine::Auto => Engine::Mutate,
        e => e,
    };
    let root = crate::workspace_root();
    println!(
        "fuzz: {} targets, {} s each, engine {}",
        a.targets.len(),
        a.seconds,
        if engine == Engine::LibFuzzer {
            "libFuzzer (cargo-fuzz, coverage-guided)"
        } else {
            "descent_fuzz::mutate (mutation, not coverage-guided)"
        }
    );
    let mut crashed = Vec::new();
    for name in &a.targets {
        let (executions, crash) = if engine == Engine::LibFuzzer {
            run_libfuzzer(&root, name, a.seconds)?
        } else {
            run_mutate(&root, name, a.seconds)
        };
        let verdict = match &crash {
            Some(path) => format!("CRASH, saved to {}", path.display()),
            None => "ok".into(),
        };
        println!("{name:<16} {executions:>12} executions  {verdict}");
        if crash.is_some() {
            crashed.push(name.clone());
        }
    }
    if !crashed.is_empty() {
        bail!("fuzz targets crashed: {}", crashed.join(", "));
    }
    Ok(())
}

fn run_mutate(root: &Path, name: &str, seconds: u64) -> (u64, Option<PathBuf>) {
    let target = descent_fuzz::target(name).expect("parsed names are targets");
    let seeds = descent_fuzz::mutate::seeds(&root.join("fuzz/corpus").join(name));
    // Panics are findings here, caught and saved; keep their default
    // messages off the terminal.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let out = descent_fuzz::mutate::run(target, &seeds, 0, Duration::from_secs(seconds), u64::MAX);
    std::panic::set_hook(hook);
    let crash = out.crash.map(|(input, message)| {
        eprintln!("{name}: panic: {message}");
        save_regression(root, name, &input)
    });
    (out.executions, crash)
}

fn run_libfuzzer(root: &Path, name: &str, seconds: u64) -> Result<(u64, Option<PathBuf>)> {
    let work = root.join("target/fuzz-corpus").join(name);
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let artifacts = root.join("target/fuzz-artifacts").join(name);
    std::fs::create_dir_all(&artifacts)?;
    let out = Command::new("cargo")
        .current_dir(root)
        .args(["+nightly", "fuzz", "run", name])
        .arg(&work)
        .arg(root.join("fuzz/corpus").join(name))
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg("-rss_limit_mb=2048")
        .output()
        .context("running cargo +nightly fuzz")?;
    let log = String::from_utf8_lossy(&out.stderr);
    // libFuzzer ends with "Done N runs in S second(s)", or prints #N lines.
    let executions = log
        .lines()
        .filter_map(|l| l.strip_prefix("Done ").or_else(|| l.strip_prefix('#')))
        .filter_map(|l| l.split_whitespace().next()?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    if out.status.success() {
        return Ok((executions, None));
    }
    let crash = std::fs::read_dir(&artifacts)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.is_file());
    match crash {
        Some(path) => {
            let input = std::fs::read(&path)?;
            eprintln!(
                "{}",
                log.lines().rev().take(30).collect::<Vec<_>>().join("\n")
            );
            Ok((executions, Some(save_regression(root, name, &input))))
        }
        None => bail!("cargo fuzz run {name} failed without an artifact:\n{log}"),
    }
}

/// Saves a crashing input as `fuzz/regressions/<name>/crash-<hash>`.
fn save_regression(root: &Path, name: &str, input: &[u8]) -> PathBuf {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    input.hash(&mut h);
    let dir = root.join("fuzz/regressions").join(name);
    let path = dir.join(format!("crash-{:016x}", h.finish()));
    let saved =
        std::fs::create_dir_all(&dir).and_then(|_| descent_core::fs::write_atomic(&path, input));
    if let Err(e) = saved {
        eprintln!("could not save {}: {e}", path.display());
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arguments_parse_and_default_to_every_target() {
        let a = parse(&strings(&["--seconds", "5", "--engine", "mutate", "idx"])).unwrap();
        assert_eq!(a.seconds, 5);
        assert_eq!(a.engine, Engine::Mutate);
        assert_eq!(a.targets, ["idx"]);
        let all = parse(&[]).unwrap();
        assert_eq!(all.targets.len(), descent_fuzz::TARGETS.len());
        assert!(parse(&strings(&["nope"])).is_err());
        assert!(parse(&strings(&["--engine", "afl"])).is_err());
    }
}
