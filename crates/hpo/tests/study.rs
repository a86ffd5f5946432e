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

#[test]
fn best_value_and_best_params_are_those_of_the_best_trial() {
    let study = Study::new(StudyConfig::default());
    assert!(matches!(
        study.best_value(),
        Err(descent_hpo::Error::NoCompletedTrial)
    ));
    study
        .optimize(
            |t| Ok::<_, descent_hpo::Error>(t.suggest_float("x", -1.0, 1.0)?.abs()),
            20,
            1,
        )
        .unwrap();
    let best = study.best_trial().unwrap();
    assert_eq!(study.best_value().unwrap(), best.value.unwrap());
    assert_eq!(study.best_params().unwrap(), best.params);
    let min = study
        .trials()
        .iter()
        .filter_map(|t| t.value)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(study.best_value().unwrap(), min);
}

#[test]
fn optimize_local_runs_an_objective_that_is_neither_sync_nor_fn() {
    use std::rc::Rc;
    let seen = Rc::new(std::cell::RefCell::new(Vec::new()));
    let mut calls = 0;
    let study = Study::new(StudyConfig::default());
    study
        .optimize_local(
            |t| {
                calls += 1;
                let x = t.suggest_float("x", 0.0, 1.0)?;
                seen.borrow_mut().push(x);
                Ok::<_, descent_hpo::Error>(x)
            },
            descent_hpo::OptimizeOptions {
                n_trials: Some(7),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(calls, 7);
    assert_eq!(seen.borrow().len(), 7);
    assert_eq!(study.trials().len(), 7);
}

#[test]
fn callbacks_see_every_trial_and_stop_ends_the_run() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let seen = AtomicUsize::new(0);
    let study = Study::new(StudyConfig::default());
    study
        .optimize_with(
            |t| t.suggest_float("x", 0.0, 1.0),
            descent_hpo::OptimizeOptions {
                n_trials: None,
                n_parallel: 2,
                callbacks: vec![Box::new(|s: &Study, t: &descent_hpo::FrozenTrial| {
                    assert!(t.state.is_finished());
                    if seen.fetch_add(1, Ordering::SeqCst) + 1 >= 10 {
                        s.stop();
                    }
                })],
                ..Default::default()
            },
        )
        .unwrap();
    let n = study.trials().len();
    // The tenth trial's callback stops it; the other thread may finish one more.
    assert!((10..=11).contains(&n), "{n} trials");
    assert_eq!(seen.load(Ordering::SeqCst), n);
    // A new call starts afresh.
    study
        .optimize_local(
            |t| t.suggest_float("x", 0.0, 1.0),
            descent_hpo::OptimizeOptions {
                n_trials: Some(3),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(study.trials().len(), n + 3);
}

#[test]
fn an_elapsed_timeout_starts_no_trial() {
    let study = Study::new(StudyConfig::default());
    study
        .optimize_with(
            |t| t.suggest_float("x", 0.0, 1.0),
            descent_hpo::OptimizeOptions {
                n_trials: Some(100),
                timeout: Some(std::time::Duration::ZERO),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(study.trials().is_empty());
}

/// A sampler that must not be asked.
struct Refuses;

impl descent_hpo::Sampler for Refuses {
    fn sample(
        &self,
        _: &descent_hpo::SampleContext<'_>,
        name: &str,
        _: &descent_hpo::Distribution,
        _: &mut rand_chacha::ChaCha8Rng,
    ) -> descent_hpo::Result<descent_hpo::ParamValue> {
        panic!("asked for {name}")
    }
}

#[test]
fn a_single_valued_range_is_returned_without_asking_the_sampler() {
    let study = Study::new(StudyConfig::default()).with_sampler(Refuses);
    let mut t = study.ask().unwrap();
    assert_eq!(t.suggest_float("a", 0.5, 0.5).unwrap(), 0.5);
    assert_eq!(t.suggest_float_log("b", 2.0, 2.0).unwrap(), 2.0);
    assert_eq!(t.suggest_int("c", 3, 3).unwrap(), 3);
    assert_eq!(t.suggest_int_step("d", 3, 5, 4).unwrap(), 3);
    assert_eq!(t.suggest_float_step("e", 1.0, 1.5, 1.0).unwrap(), 1.0);
    assert_eq!(t.suggest_categorical("f", &["only"]).unwrap(), "only");
}

#[test]
fn a_sampler_seed_replaces_the_study_seed() {
    use descent_hpo::{RandomSampler, Sampler, TpeConfig, TpeSampler};
    let run = |study_seed: u64, sampler_seed: Option<u64>| -> Vec<f64> {
        let tpe = TpeSampler::new(TpeConfig::default()).unwrap();
        let study = Study::new(StudyConfig {
            seed: study_seed,
            ..Default::default()
        });
        let study = match sampler_seed {
            Some(s) => study.with_sampler(tpe.with_seed(s)),
            None => study.with_sampler(tpe),
        };
        study
            .optimize(|t| t.suggest_float("x", -1.0, 1.0).map(|x| x * x), 15, 1)
            .unwrap();
        study
            .trials()
            .iter()
            .map(|t| t.params.f64("x").unwrap())
            .collect()
    };
    assert_eq!(run(1, Some(9)), run(2, Some(9)));
    assert_ne!(run(1, None), run(2, None));
    let study = Study::new(StudyConfig::default()).with_sampler(RandomSampler.with_seed(3));
    assert!(study.ask().is_ok());
}

#[test]
fn tpe_draws_jointly_and_shows_running_trials_to_the_next_one() {
    use descent_hpo::{TpeConfig, TpeSampler};
    let study = Study::new(StudyConfig::default())
        .with_sampler(TpeSampler::new(TpeConfig::default()).unwrap());
    let objective = |t: &mut descent_hpo::Trial<'_>| -> descent_hpo::Result<f64> {
        let x = t.suggest_float("x", -2.0, 2.0)?;
        let y = t.suggest_float("y", -2.0, 2.0)?;
        Ok(x * x + y * y)
    };
    study.optimize(objective, 10, 1).unwrap();
    // Two trials run at once, as two workers would have them.
    let mut a = study.ask().unwrap();
    let xa = a.suggest_float("x", -2.0, 2.0).unwrap();
    let relative: serde_json::Value =
        serde_json::from_str(a.frozen().attrs["tpe:relative_params:0"].as_str().unwrap()).unwrap();
    // Both parameters were drawn at the first suggest, x as recorded.
    assert_eq!(relative["x"].as_f64(), Some(xa));
    let ya = relative["y"].as_f64().unwrap();
    assert_eq!(a.suggest_float("y", -2.0, 2.0).unwrap(), ya);
    // The study's copy of the running trial carries the draw for the others.
    let running = study
        .trials()
        .into_iter()
        .find(|t| t.number == a.number())
        .unwrap();
    assert!(running.attrs.contains_key("tpe:relative_params:0"));
    let b = study.ask().unwrap();
    study.tell(b, Ok::<_, descent_hpo::Error>(1.0)).unwrap();
    study
        .tell(a, Ok::<_, descent_hpo::Error>(xa * xa + ya * ya))
        .unwrap();
}

#[test]
fn grouped_tpe_draws_each_branch_of_a_conditional_space_jointly_on_threads() {
    use descent_hpo::{TpeConfig, TpeSampler};
    let study = Study::new(StudyConfig {
        seed: 5,
        ..Default::default()
    })
    .with_sampler(
        TpeSampler::new(TpeConfig {
            group: true,
            ..Default::default()
        })
        .unwrap(),
    );
    let objective = |t: &mut Trial<'_>| -> Result<f64, Error> {
        let lr = t.suggest_float_log("lr", 1e-4, 1.0)?;
        let opt: &str = t.suggest_categorical("optimizer", &["sgd", "adam"])?;
        let extra = if opt == "adam" {
            (t.suggest_float("beta", 0.8, 0.999)? - 0.9).powi(2)
        } else {
            0.5 + (t.suggest_float("momentum", 0.0, 0.99)? - 0.5).powi(2)
        };
        Ok((lr.log10() + 2.0).powi(2) + extra)
    };
    study.optimize(objective, 40, 2).unwrap();
    let trials = study.trials();
    assert_eq!(trials.len(), 40);
    assert!(trials.iter().all(|t| t.state == TrialState::Complete));
    // After the start-up trials every trial had a joint draw covering each
    // group seen so far: {lr, optimizer}, {beta} and {momentum}.
    let late = &trials[30..];
    for t in late {
        let relative: serde_json::Value =
            serde_json::from_str(t.attrs["tpe:relative_params:0"].as_str().unwrap()).unwrap();
        for name in ["lr", "optimizer", "beta", "momentum"] {
            assert!(
                relative.get(name).is_some(),
                "trial {} lacks {name}",
                t.number
            );
        }
        assert_eq!(
            relative["lr"].as_f64(),
            Some(t.params.f64("lr").unwrap()),
            "the trial took its joint draw"
        );
    }
}
