//! A training run killed with SIGKILL at random micro-batches (mid-epoch and
//! mid-accumulation included) and resumed from its newest checkpoint ends
//! bit-identical to the uninterrupted run: parameters, buffers, optimizer
//! state and metric history.
//!
//! The test binary re-runs itself as the child: with `DESCENT_TRAIN_SOAK_DIR`
//! set, the test body trains (resuming from the directory's newest
//! checkpoint) instead of supervising. `DESCENT_SOAK_KILLS` sets the number
//! of kills (default 20); `cargo xtask soak train --kills N` runs this test
//! with N and prints its count line.

mod support;

use descent_data::InMemory;
use descent_nn::Sequential;
use descent_train::{
    BatchInfo, Callback, CheckpointConfig, Control, Data, TrainConfig, Trainer, latest_checkpoint,
};
use rand::RngExt;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::*;

const CHILD_ENV: &str = "DESCENT_TRAIN_SOAK_DIR";
const EPOCHS: u64 = 3;
const BATCHES_PER_EPOCH: u64 = 13; // 300 samples in batches of 24

fn data() -> (InMemory<f32>, InMemory<f32>) {
    let all = digits_subset::<f32>(400);
    (
        all.select(&(0..300).collect::<Vec<_>>()).unwrap(),
        all.select(&(300..400).collect::<Vec<_>>()).unwrap(),
    )
}

fn scenario(dir: Option<&Path>) -> Trainer<f32, Sequential<f32>> {
    let t = trainer::<f32>(quiet(TrainConfig {
        epochs: EPOCHS,
        batch_size: 24,
        accumulation: 3,
        seed: 23,
        ..TrainConfig::default()
    }));
    match dir {
        Some(dir) => t
            .with_checkpoints(CheckpointConfig {
                every_batches: Some(1),
                keep_last: 2,
                ..CheckpointConfig::new(dir)
            })
            .unwrap(),
        None => t,
    }
}

/// What the run ends with, as comparable text.
fn outcome(t: &Trainer<f32, Sequential<f32>>, history: &descent_train::History) -> String {
    serde_json::json!({
        "bits": bits(t.state()),
        "optimizer": t.optimizer().state(),
        "history": serde_json::to_value(history.without_timing()).unwrap(),
    })
    .to_string()
}

/// Prints each micro-batch's global position and slows the run down enough
/// for the supervisor to kill it where it wants.
struct Announce;

impl Callback for Announce {
    fn on_batch_end(&mut self, info: &BatchInfo) -> Control {
        let pos = info.epoch * BATCHES_PER_EPOCH + info.batch + 1;
        let mut out = std::io::stdout().lock();
        writeln!(out, "pos {pos}").unwrap();
        out.flush().unwrap();
        std::thread::sleep(Duration::from_millis(4));
        Control::Continue
    }
}

fn child(dir: &Path) {
    let (train, val) = data();
    let mut t = scenario(Some(dir)).with_callback(Announce);
    if let Some(path) = latest_checkpoint(dir).unwrap() {
        t.load_checkpoint(&path).unwrap();
    }
    let history = t.fit(Data::train(&train).with_validation(&val)).unwrap();
    descent_core::fs::write_atomic(dir.join("outcome.json"), outcome(&t, &history).as_bytes())
        .unwrap();
}

fn spawn(dir: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_killed_run_resumes_bit_identical",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Runs a child in `dir` until it prints a position ≥ `kill_at` (then
/// SIGKILLs it; returns the position seen) or finishes (returns `None`).
fn run_until(dir: &Path, kill_at: Option<u64>) -> Option<u64> {
    let mut child = spawn(dir);
    let stdout = child.stdout.take().unwrap();
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let Some(pos) = line
            .strip_prefix("pos ")
            .and_then(|p| p.parse::<u64>().ok())
        else {
            continue;
        };
        if kill_at.is_some_and(|k| pos >= k) {
            child.kill().unwrap(); // SIGKILL on Unix
            child.wait().unwrap();
            return Some(pos);
        }
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "child failed: {status}");
    None
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn a_killed_run_resumes_bit_identical() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        child(Path::new(&dir));
        return;
    }
    let kills: usize = std::env::var("DESCENT_SOAK_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let (train, val) = data();
    let mut whole = scenario(None);
    let history = whole
        .fit(Data::train(&train).with_validation(&val))
        .unwrap();
    let want = outcome(&whole, &history);

    let total = EPOCHS * BATCHES_PER_EPOCH;
    let mut rng = descent_train::seed::rng(
        std::env::var("DESCENT_SOAK_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(5),
        descent_train::seed::Purpose::Split,
    );
    // kill targets: random positions, in order along one run (repeats allowed
    // past `total` positions, so any count of kills works)
    let mut targets: Vec<u64> = (0..kills).map(|_| rng.random_range(1..total)).collect();
    targets.sort();
    let dir = scratch("soak");
    let (mut matched, mut mid_accumulation, mut mid_epoch) = (0, 0, 0);
    let mut seen = BTreeSet::new();
    for (i, &target) in targets.iter().enumerate() {
        let Some(killed_at) = run_until(&dir, Some(target)) else {
            panic!("the run finished before position {target}");
        };
        seen.insert(killed_at);
        // where the newest checkpoint is: mid-epoch? mid-accumulation?
        if let Some(path) = latest_checkpoint(&dir).unwrap() {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let batch: u64 = name
                .split("-b")
                .nth(1)
                .unwrap()
                .trim_end_matches(".safetensors")
                .parse()
                .unwrap();
            mid_epoch += usize::from(!batch.is_multiple_of(BATCHES_PER_EPOCH));
            mid_accumulation += usize::from(!batch.is_multiple_of(3) && batch != 0);
        }
        // each kill's resume, run to the end on a copy of the directory
        let branch = scratch(&format!("soak-branch-{i}"));
        copy_dir(&dir, &branch);
        assert_eq!(run_until(&branch, None), None);
        let got = std::fs::read_to_string(branch.join("outcome.json")).unwrap();
        if got == want {
            matched += 1;
        } else {
            eprintln!("kill {i} at position {killed_at}: the resumed run differs");
        }
        std::fs::remove_dir_all(&branch).ok();
    }
    assert_eq!(run_until(&dir, None), None);
    let chained = std::fs::read_to_string(dir.join("outcome.json")).unwrap() == want;
    println!(
        "soak: {kills} kills at {} distinct positions ({mid_epoch} mid-epoch, {mid_accumulation} mid-accumulation checkpoints), {matched} of {kills} resumes matched the uninterrupted run; the chained run {}",
        seen.len(),
        if chained { "matched" } else { "DIFFERED" }
    );
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(matched, kills, "every resume must match");
    assert!(chained, "the run resumed after every kill must match");
}
