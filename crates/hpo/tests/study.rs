//! The study's contract: states, ask/tell, threads, directions, resume.

use descent_hpo::{
    Direction, Error, JournalStorage, MemoryStorage, Study, StudyConfig, Trial, TrialState,
};
use std::collections::BTreeSet;

fn quadratic(t: &mut Trial<'_>) -> Result<f64, Error> {
    let x = t.suggest_float("x", -2.0, 2.0)?;
    let n = t.suggest_int("n", 1, 4)?;
    Ok(x * x + n as f64)
}

#[test]
fn tell_records_complete_and_failed_trials() {
    let study = Study::new(StudyConfig::default());
    let t = study.ask().unwrap();
    assert_eq!(
        study.tell(t, Ok::<_, Error>(1.5)).unwrap().state,
        TrialState::Complete
    );
    let t = study.ask().unwrap();
    let failed = study.tell(t, Ok::<_, Error>(f64::NAN)).unwrap();
    assert_eq!(failed.state, TrialState::Fail);
    assert!(failed.message.unwrap().contains("NaN"));
    let t = study.ask().unwrap();
    let failed = study.tell(t, Err("diverged")).unwrap();
    assert_eq!(
        (failed.state, failed.message.as_deref()),
        (TrialState::Fail, Some("diverged"))
    );
    let running = study.ask().unwrap();
    assert_eq!(study.trials()[3].state, TrialState::Running);
    // A trial told to a study that did not ask it.
    let other = Study::new(StudyConfig::default());
    assert!(matches!(
        other.tell(running, Ok::<_, Error>(0.0)),
        Err(Error::NotRunning { number: 3 })
    ));
    assert_eq!(study.best_trial().unwrap().value, Some(1.5));
    assert!(matches!(other.best_trial(), Err(Error::NoCompletedTrial)));
}

#[test]
fn a_panicking_objective_fails_its_trial_and_the_study_goes_on() {
    let study = Study::new(StudyConfig::default());
    study
        .optimize(
            |t| {
                if t.number() == 1 {
                    panic!("boom");
                }
                quadratic(t)
            },
            4,
            2,
        )
        .unwrap();
    let trials = study.trials();
    assert_eq!(trials.len(), 4);
    assert_eq!(trials[1].state, TrialState::Fail);
    assert!(trials[1].message.as_deref().unwrap().contains("boom"));
    assert_eq!(
        trials
            .iter()
            .filter(|t| t.state == TrialState::Complete)
            .count(),
        3
    );
}

#[test]
fn trials_draw_the_same_values_whatever_the_thread_count() {
    let run = |n_parallel| {
        let study = Study::new(StudyConfig {
            seed: 9,
            ..Default::default()
        });
        study.optimize(quadratic, 24, n_parallel).unwrap();
        let trials = study.trials();
        let numbers: BTreeSet<u64> = trials.iter().map(|t| t.number).collect();
        assert_eq!(numbers, (0..24).collect());
        trials
            .into_iter()
            .map(|t| (t.number, t.params))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(1), run(3));
}

#[test]
fn suggesting_a_name_again_returns_its_value_or_a_typed_error() {
    let study = Study::new(StudyConfig::default());
    let mut t = study.ask().unwrap();
    let x = t.suggest_float("x", 0.0, 1.0).unwrap();
    assert_eq!(t.suggest_float("x", 0.0, 1.0).unwrap(), x);
    assert!(matches!(
        t.suggest_float("x", 0.0, 2.0),
        Err(Error::DistributionChanged { .. })
    ));
    assert!(matches!(
        t.suggest_float_log("lr", 0.0, 1.0),
        Err(Error::NonPositiveLog { .. })
    ));
    assert!(matches!(
        t.suggest_int("n", 3, 2),
        Err(Error::EmptyRange { .. })
    ));
    assert_eq!(
        t.suggest_int("one", 3, 3).unwrap(),
        3,
        "Optuna allows low == high"
    );
    let none: [&str; 0] = [];
    assert!(matches!(
        t.suggest_categorical("c", &none),
        Err(Error::EmptyCategorical { .. })
    ));
}

#[test]
fn maximizing_studies_pick_the_largest_value() {
    let study = Study::new(StudyConfig {
        direction: Direction::Maximize,
        ..Default::default()
    })
    .with_storage(MemoryStorage::new())
    .unwrap();
    study.optimize(quadratic, 20, 1).unwrap();
    let best = study.best_trial().unwrap().value.unwrap();
    let max = study
        .trials()
        .iter()
        .filter_map(|t| t.value)
        .fold(f64::MIN, f64::max);
    assert_eq!(best, max);
}

#[test]
fn a_resumed_study_numbers_new_trials_after_the_recorded_ones() {
    let path =
        std::env::temp_dir().join(format!("descent-hpo-resume-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let open = || {
        Study::new(StudyConfig::default())
            .with_storage(JournalStorage::open(&path).unwrap())
            .unwrap()
    };
    open().optimize(quadratic, 5, 2).unwrap();
    let study = open();
    assert!(study.warnings().is_empty());
    study.optimize(quadratic, 3, 1).unwrap();
    let numbers: Vec<u64> = study.trials().iter().map(|t| t.number).collect();
    assert_eq!(numbers, (0..8).collect::<Vec<_>>());
    assert_eq!(open().trials(), study.trials());
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn optimize_with_a_progress_bar_runs_every_trial() {
    // Under `cargo test` stderr is not a terminal, so indicatif draws nothing.
    let study = Study::new(StudyConfig {
        progress_bar: true,
        ..Default::default()
    });
    study.optimize(quadratic, 7, 2).unwrap();
    assert_eq!(study.trials().len(), 7);
    assert!(
        study
            .trials()
            .iter()
            .all(|t| t.state == TrialState::Complete)
    );
}

#[test]
fn a_journal_holding_the_last_trial_number_loads_and_ask_gives_a_typed_error() {
    let path = std::env::temp_dir().join(format!("descent-hpo-max-{}.jsonl", std::process::id()));
    let line = format!(
        "{{\"number\":{},\"state\":\"COMPLETE\",\"value\":1.0,\"params\":{{}},\"distributions\":{{}},\"intermediate\":{{}},\"duration_secs\":0.0}}\n",
        u64::MAX
    );
    std::fs::write(&path, line).unwrap();
    let study = Study::new(StudyConfig::default())
        .with_storage(JournalStorage::open(&path).unwrap())
        .unwrap();
    assert_eq!(study.trials().len(), 1);
    assert_eq!(study.trials()[0].number, u64::MAX);
    assert!(matches!(
        study.ask(),
        Err(Error::TrialNumbersExhausted { .. })
    ));
    assert_eq!(study.best_trial().unwrap().number, u64::MAX);
    std::fs::remove_file(&path).unwrap();
}

/// A journal line written before `Direction` moved to descent-core (the
/// format of commit 2f9029e), with every kind of distribution.
const OLD_JOURNAL: &str = concat!(
    r#"{"number":0,"state":"COMPLETE","value":0.5,"params":{"lr":0.01,"n":3,"opt":"adam"},"#,
    r#""distributions":{"lr":{"kind":"float","low":0.0001,"high":1.0,"log":true,"step":null},"#,
    r#""n":{"kind":"int","low":1,"high":4,"log":false,"step":1},"#,
    r#""opt":{"kind":"categorical","choices":["sgd","adam"]}},"#,
    r#""intermediate":{"0":0.9,"1":null},"duration_secs":0.125}"#,
    "
",
    r#"{"number":1,"state":"PRUNED","value":0.75,"params":{},"distributions":{},"intermediate":{"0":0.75},"duration_secs":0.0}"#,
    "
",
);

#[test]
fn journals_written_before_direction_moved_to_core_still_load() {
    let path = std::env::temp_dir().join(format!("descent-hpo-old-{}.jsonl", std::process::id()));
    std::fs::write(&path, OLD_JOURNAL).unwrap();
    let direction: descent_core::Direction = Direction::Maximize;
    let study = Study::new(StudyConfig {
        direction,
        ..Default::default()
    })
    .with_storage(JournalStorage::open(&path).unwrap())
    .unwrap();
    assert!(study.warnings().is_empty(), "{:?}", study.warnings());
    let trials = study.trials();
    assert_eq!(trials.len(), 2);
    assert_eq!(trials[0].params.str("opt").unwrap(), "adam");
    assert!(trials[0].intermediate[&1].is_nan());
    assert_eq!(trials[1].state, TrialState::Pruned);
    assert_eq!(study.best_trial().unwrap().number, 0);
    assert_eq!(study.ask().unwrap().number(), 2);
    std::fs::remove_file(&path).unwrap();
}
