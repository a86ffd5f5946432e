//! A study killed with SIGKILL mid-way resumes from its journal with every
//! finished trial exactly once.
//!
//! The test binary re-runs itself as the child: with `DESCENT_HPO_CHILD_JOURNAL`
//! set, the test body runs the study (slowly) instead of supervising it.

use descent_hpo::{
    Error, FrozenTrial, GridSampler, JournalStorage, ParamValue, Storage, Study, StudyConfig,
    Trial, TrialState,
};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const CHILD_ENV: &str = "DESCENT_HPO_CHILD_JOURNAL";
const N_X: i64 = 10;
const N_Y: i64 = 6;

fn grid() -> GridSampler {
    GridSampler::new([
        ("x", (0..N_X).map(ParamValue::Int).collect()),
        ("y", (0..N_Y).map(ParamValue::Int).collect()),
    ])
    .unwrap()
}

fn study(path: &Path) -> Study {
    Study::new(StudyConfig {
        seed: 11,
        ..Default::default()
    })
    .with_sampler(grid())
    .with_storage(JournalStorage::open(path).unwrap())
    .unwrap()
}

fn objective(trial: &mut Trial<'_>, pause: Duration) -> Result<f64, Error> {
    let x = trial.suggest_int("x", 0, N_X - 1)?;
    let y = trial.suggest_int("y", 0, N_Y - 1)?;
    for epoch in 0..3 {
        std::thread::sleep(pause);
        trial.report(epoch, (x * y) as f64 / (epoch + 1) as f64);
    }
    Ok((x * 100 + y) as f64)
}

fn journal(path: &Path) -> Vec<FrozenTrial> {
    JournalStorage::open(path).unwrap().load().unwrap().trials
}

#[test]
fn a_killed_study_resumes_with_every_finished_trial_exactly_once() {
    if let Ok(path) = std::env::var(CHILD_ENV) {
        // The child: run until killed.
        study(Path::new(&path))
            .optimize(|t| objective(t, Duration::from_millis(8)), 1000, 2)
            .unwrap();
        return;
    }
    let path = std::env::temp_dir().join(format!("descent-hpo-kill-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_killed_study_resumes_with_every_finished_trial_exactly_once",
        ])
        .args(["--test-threads", "1"])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::fs::read(&path).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count()) < 12 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the child wrote too few trials"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the child finished before the kill"
    );
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();

    let mut before = journal(&path);
    before.sort_by_key(|t| t.number);
    let n_total = (N_X * N_Y) as usize;
    assert!(
        before.len() >= 12 && before.len() < n_total,
        "{} trials before the kill",
        before.len()
    );

    let resumed = study(&path);
    assert_eq!(resumed.trials(), before);
    let calls = AtomicUsize::new(0);
    resumed
        .optimize(
            |t| {
                calls.fetch_add(1, Ordering::SeqCst);
                objective(t, Duration::ZERO)
            },
            1000,
            2,
        )
        .unwrap();
    drop(resumed);

    let after = journal(&path);
    assert_eq!(after.len(), n_total, "every grid point finished once");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        n_total - before.len(),
        "no finished trial re-run"
    );
    let numbers: BTreeSet<u64> = after.iter().map(|t| t.number).collect();
    assert_eq!(
        numbers.len(),
        after.len(),
        "a trial number was recorded twice"
    );
    let points: BTreeSet<(i64, i64)> = after
        .iter()
        .map(|t| (t.params.i64("x").unwrap(), t.params.i64("y").unwrap()))
        .collect();
    assert_eq!(points.len(), n_total, "a grid point was evaluated twice");
    for t in &before {
        assert_eq!(
            after.iter().find(|a| a.number == t.number),
            Some(t),
            "trial {} changed",
            t.number
        );
    }
    assert!(
        after
            .iter()
            .all(|t| t.state == TrialState::Complete && t.intermediate.len() == 3)
    );
    std::fs::remove_file(&path).unwrap();
}
