//! Many worker processes on one study in Optuna's RDB schema: SQLite on a
//! file here, PostgreSQL when `.ci/hpo.sh` has started a server
//! (`DESCENT_HPO_PG_URL`). Every trial number is handed out exactly once, every
//! complete trial has its value and parameters, and every worker sees every
//! trial the others finished.
//!
//! The test binary re-runs itself as the workers: with `DESCENT_HPO_WORKER`
//! set to `URL|STUDY|N_TRIALS`, the test body runs a worker instead.

mod common;

use common::{postgres_url, run_workers, unique, worker_report};
use descent_hpo::{
    Direction, Error, RdbConfig, RdbStorage, Storage, Study, StudyConfig, Trial, TrialState,
};
use std::collections::BTreeSet;
use std::time::Instant;

const WORKER_ENV: &str = "DESCENT_HPO_WORKER";

fn objective(trial: &mut Trial<'_>) -> Result<f64, Error> {
    let x = trial.suggest_float("x", -3.0, 3.0)?;
    let n = trial.suggest_int("n", 1, 8)?;
    let opt: &str = trial.suggest_categorical("opt", &["sgd", "adam"])?;
    trial.report(0, x.abs());
    std::thread::sleep(std::time::Duration::from_millis(2));
    trial.report(1, x * x);
    Ok(x * x + n as f64 + if opt == "adam" { 0.0 } else { 0.5 })
}

/// Runs in a worker process: `n_trials` trials, then checks it saw the others.
fn work(spec: &str) {
    let mut parts = spec.split('|');
    let (url, name, n) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap().parse::<usize>().unwrap(),
    );
    let study = Study::load_or_create(url, name, StudyConfig::default()).unwrap();
    study.optimize(objective, n, 1).unwrap();
    let mine = study.trials();
    assert!(mine.len() >= n, "a worker lost its own trials");
}

/// `n_workers` processes run `per_worker` trials each on study `name` at `url`.
fn many_writers(url: &str, name: &str, n_workers: usize, per_worker: usize) {
    let started = Instant::now();
    let specs = (0..n_workers).map(|_| format!("{url}|{name}|{per_worker}"));
    let failed: Vec<String> = run_workers(test_name(url), WORKER_ENV, specs)
        .iter()
        .enumerate()
        .filter(|(_, out)| !out.status.success())
        .map(|(k, out)| worker_report(k, out))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    let secs = started.elapsed().as_secs_f64();
    let total = n_workers * per_worker;
    eprintln!(
        "{n_workers} workers, {total} trials on {}: {secs:.2} s, {:.1} trials/s",
        url.split(':').next().unwrap(),
        total as f64 / secs
    );
    let mut storage =
        RdbStorage::open(url, name, Direction::Minimize, RdbConfig::default()).unwrap();
    let trials = storage.load().unwrap().trials;
    let numbers: Vec<u64> = trials.iter().map(|t| t.number).collect();
    assert_eq!(
        numbers,
        (0..total as u64).collect::<Vec<_>>(),
        "every number 0..N-1 exactly once"
    );
    for t in &trials {
        assert_eq!(t.state, TrialState::Complete, "trial {}", t.number);
        let v = t.value.expect("a complete trial has its value");
        let x = t.params.f64("x").unwrap();
        let n = t.params.i64("n").unwrap();
        let adam = t.params.str("opt").unwrap() == "adam";
        let want = x * x + n as f64 + if adam { 0.0 } else { 0.5 };
        assert_eq!(v, want, "trial {} value matches its params", t.number);
        assert_eq!(t.intermediate.len(), 2);
    }
    let distinct: BTreeSet<u64> = trials
        .iter()
        .map(|t| t.params.f64("x").unwrap().to_bits())
        .collect();
    assert_eq!(
        distinct.len(),
        total,
        "no trial ran twice with one seed stream"
    );
}

fn test_name(url: &str) -> &'static str {
    if url.starts_with("sqlite") {
        "four_sqlite_workers_share_one_study"
    } else {
        "four_postgres_workers_share_one_study"
    }
}

#[test]
fn four_sqlite_workers_share_one_study() {
    if let Ok(spec) = std::env::var(WORKER_ENV) {
        return work(&spec);
    }
    let dir = std::env::temp_dir().join(unique("descent-hpo-sqlite"));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite:///{}", dir.join("study.db").display());
    many_writers(&url, "many", 4, 50);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn four_postgres_workers_share_one_study() {
    if let Ok(spec) = std::env::var(WORKER_ENV) {
        return work(&spec);
    }
    let Some(url) = postgres_url() else { return };
    many_writers(&url, &unique("many"), 4, 50);
}
