//! Faults on a shared study: a worker that stops beating has its running
//! trial failed after the grace period and retried with its parameters and
//! origin (Optuna's `RetryFailedTrialCallback`); a PostgreSQL connection that
//! goes away gives a typed error, loses nothing committed, and reconnects.

mod common;

use common::{postgres_url, unique};
use descent_hpo::{
    Direction, Error, RdbConfig, RdbStorage, RetryConfig, Storage, Study, StudyConfig, TrialState,
};
use std::time::Duration;

fn config(max_retry: Option<u32>) -> RdbConfig {
    RdbConfig {
        heartbeat_interval: Some(Duration::from_millis(100)),
        grace_period: Some(Duration::from_millis(300)),
        retry: Some(RetryConfig {
            max_retry,
            inherit_intermediate_values: true,
        }),
    }
}

#[test]
fn a_silent_workers_trial_fails_after_the_grace_period_and_is_retried() {
    let dir = std::env::temp_dir().join(unique("descent-hpo-faults"));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite:///{}", dir.join("study.db").display());
    let open = || RdbStorage::open(&url, "s", Direction::Minimize, config(Some(1))).unwrap();

    // A worker starts trial 0, draws a parameter, reports, and goes silent.
    let silent = Study::new(StudyConfig::default())
        .with_storage(open())
        .unwrap();
    let mut t = silent.ask().unwrap();
    let lr = t.suggest_float_log("lr", 1e-4, 1.0).unwrap();
    t.report(0, 0.75);
    std::mem::forget(t);

    // Within the grace period, another worker leaves it running.
    let other = Study::new(StudyConfig::default())
        .with_storage(open())
        .unwrap();
    let t1 = other.ask().unwrap();
    assert_eq!(t1.number(), 1);
    other.tell(t1, Ok::<_, Error>(3.0)).unwrap();
    let mut probe = RdbStorage::open(&url, "s", Direction::Minimize, RdbConfig::default()).unwrap();
    assert_eq!(probe.trial_states().unwrap()[0].1, "RUNNING");

    // Past it, the next trial started fails trial 0 and runs its retry.
    std::thread::sleep(Duration::from_millis(500));
    let mut retry = other.ask().unwrap();
    assert_eq!(retry.number(), 2);
    assert_eq!(
        retry.params().f64("lr").unwrap(),
        lr,
        "the retry keeps the params"
    );
    assert_eq!(retry.suggest_float_log("lr", 1e-4, 1.0).unwrap(), lr);
    assert_eq!(retry.frozen().attrs["failed_trial"], 0);
    assert_eq!(
        retry.frozen().attrs["retry_history"],
        serde_json::json!([0])
    );
    assert_eq!(retry.frozen().intermediate[&0], 0.75, "inherited");
    other.tell(retry, Ok::<_, Error>(1.0)).unwrap();
    let states = probe.trial_states().unwrap();
    let names: Vec<&str> = states.iter().map(|s| s.1.as_str()).collect();
    assert_eq!(names, ["FAIL", "COMPLETE", "COMPLETE"]);

    // The silent worker's late tell is refused: its trial is over.
    let finished = probe.load().unwrap().trials;
    assert_eq!(finished[0].state, TrialState::Fail);
    assert_eq!(finished[2].attrs["failed_trial"], 0);
    // A trial that goes silent is retried; with max_retry 1, its retry going
    // silent too is failed and not retried again.
    let mut t3 = other.ask().unwrap();
    assert_eq!(t3.number(), 3);
    t3.suggest_float("x", 0.0, 1.0).unwrap();
    std::mem::forget(t3);
    std::thread::sleep(Duration::from_millis(500));
    let third = Study::new(StudyConfig::default())
        .with_storage(open())
        .unwrap();
    let t4 = third.ask().unwrap();
    assert_eq!(t4.number(), 4);
    assert_eq!(t4.frozen().attrs["failed_trial"], 3);
    std::mem::forget(t4);
    std::thread::sleep(Duration::from_millis(500));
    let fourth = Study::new(StudyConfig::default())
        .with_storage(open())
        .unwrap();
    let t5 = fourth.ask().unwrap();
    assert_eq!(t5.number(), 5);
    assert!(t5.frozen().attrs.is_empty(), "no second retry");
    fourth.tell(t5, Ok::<_, Error>(0.5)).unwrap();
    let names: Vec<String> = probe
        .trial_states()
        .unwrap()
        .into_iter()
        .map(|s| s.1)
        .collect();
    assert_eq!(
        names,
        ["FAIL", "COMPLETE", "COMPLETE", "FAIL", "FAIL", "COMPLETE"]
    );
    drop((silent, other, third));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_postgres_connection_that_goes_away_gives_a_typed_error_and_reconnects() {
    let Some(url) = postgres_url() else { return };
    let name = unique("away");
    let study = Study::load_or_create(&url, &name, StudyConfig::default()).unwrap();
    study
        .optimize(|t| t.suggest_float("x", 0.0, 1.0), 3, 1)
        .unwrap();
    let t = study.ask().unwrap();
    // Every other session of the database is cut off, ours included.
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .unwrap();
    let told = study.tell(t, Ok::<_, Error>(0.5));
    assert!(matches!(told, Err(Error::Database { .. })), "{told:?}");
    // The next call reconnects; everything committed is there.
    study
        .optimize(|t| t.suggest_float("x", 0.0, 1.0), 2, 1)
        .unwrap();
    let again = Study::load_or_create(&url, &name, StudyConfig::default()).unwrap();
    let complete = again
        .trials()
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .count();
    assert_eq!(complete, 5);
}
