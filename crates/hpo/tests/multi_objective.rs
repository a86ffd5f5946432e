//! Multi-objective studies: several values per trial, the Pareto front,
//! single-objective operations refused with a typed error, persistence.

use descent_hpo::{
    Direction, Error, JournalStorage, MedianConfig, MedianPruner, Study, StudyConfig, TpeConfig,
    TpeSampler, Trial, TrialState, dominates, to_losses,
};

fn two_objectives() -> StudyConfig {
    StudyConfig {
        directions: vec![Direction::Minimize, Direction::Maximize],
        seed: 3,
        ..Default::default()
    }
}

fn objective(t: &mut Trial<'_>) -> Result<[f64; 2], Error> {
    let x = t.suggest_float("x", 0.0, 1.0)?;
    let y = t.suggest_float("y", 0.0, 1.0)?;
    Ok([x * x + y, x - y * y])
}

#[test]
fn best_trials_is_exactly_the_set_no_complete_trial_dominates() {
    let study = Study::new(two_objectives());
    study.optimize(objective, 60, 2).unwrap();
    let trials = study.trials();
    assert!(
        trials
            .iter()
            .all(|t| t.values.len() == 2 && t.value.is_none())
    );
    let dirs = study.directions();
    let losses: Vec<Vec<f64>> = trials.iter().map(|t| to_losses(&t.values, dirs)).collect();
    let brute: Vec<u64> = (0..trials.len())
        .filter(|&i| !losses.iter().any(|l| dominates(l, &losses[i])))
        .map(|i| trials[i].number)
        .collect();
    let front: Vec<u64> = study
        .best_trials()
        .unwrap()
        .iter()
        .map(|t| t.number)
        .collect();
    assert_eq!(front, brute);
    assert!(!front.is_empty() && front.len() < trials.len());
}

#[test]
fn single_objective_accessors_are_typed_errors_on_a_multi_objective_study() {
    let study = Study::new(two_objectives());
    study.optimize(objective, 3, 1).unwrap();
    assert_eq!(
        study.directions(),
        [Direction::Minimize, Direction::Maximize]
    );
    for r in [
        study.best_value().map(|_| ()),
        study.best_trial().map(|_| ()),
        study.best_params().map(|_| ()),
    ] {
        assert!(matches!(
            r,
            Err(Error::SingleObjectiveOnly {
                n_objectives: 2,
                ..
            })
        ));
    }
}

#[test]
fn reporting_in_a_multi_objective_study_fails_the_trial_and_stops_with_a_typed_error() {
    let study = Study::new(two_objectives())
        .with_pruner(MedianPruner::new(MedianConfig::default()).unwrap());
    let r = study.optimize(
        |t| {
            let v = objective(t)?;
            t.report(0, v[0]);
            Ok::<_, Error>(v)
        },
        5,
        1,
    );
    assert!(matches!(
        r,
        Err(Error::SingleObjectiveOnly {
            op: "Trial::report",
            ..
        })
    ));
    let trials = study.trials();
    assert_eq!(trials.len(), 1, "the run stops at the first misuse");
    assert_eq!(trials[0].state, TrialState::Fail);
    assert!(trials[0].intermediate.is_empty());
}

#[test]
fn a_single_objective_sampler_is_refused_and_a_wrong_count_fails_the_trial() {
    let study =
        Study::new(two_objectives()).with_sampler(TpeSampler::new(TpeConfig::default()).unwrap());
    assert!(matches!(
        study.ask(),
        Err(Error::SingleObjectiveOnly {
            n_objectives: 2,
            ..
        })
    ));
    let study = Study::new(two_objectives());
    study
        .optimize(|t| t.suggest_float("x", 0.0, 1.0).map(|x| vec![x; 3]), 2, 1)
        .unwrap();
    for t in study.trials() {
        assert_eq!(t.state, TrialState::Fail);
        assert!(
            t.message
                .as_deref()
                .unwrap()
                .contains("expected 2 objectives, got 3")
        );
    }
    assert!(study.best_trials().unwrap().is_empty());
    let nan = Study::new(two_objectives());
    nan.optimize(|_| Ok::<_, Error>([1.0, f64::NAN]), 1, 1)
        .unwrap();
    assert_eq!(nan.trials()[0].state, TrialState::Fail);
}

#[test]
fn a_multi_objective_journal_resumes_with_its_values_and_table() {
    let path = std::env::temp_dir().join(format!("descent-hpo-mo-{}.jsonl", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let study = Study::new(two_objectives())
        .with_storage(JournalStorage::open(&path).unwrap())
        .unwrap();
    study.optimize(objective, 6, 1).unwrap();
    let again = Study::new(two_objectives())
        .with_storage(JournalStorage::open(&path).unwrap())
        .unwrap();
    assert_eq!(again.trials(), study.trials());
    assert_eq!(again.best_trials().unwrap(), study.best_trials().unwrap());
    let table = again.results_table();
    assert!(table.starts_with("number  state     values"), "{table}");
    let t = &again.trials()[0];
    assert!(table.contains(&format!("{:.6}, {:.6}", t.values[0], t.values[1])));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn a_multi_objective_sqlite_study_round_trips_and_checks_its_directions() {
    let path = std::env::temp_dir().join(format!("descent-hpo-mo-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite:///{}", path.display());
    let study = Study::load_or_create(&url, "mo", two_objectives()).unwrap();
    study.optimize(objective, 5, 1).unwrap();
    let again = Study::load_or_create(&url, "mo", two_objectives()).unwrap();
    assert_eq!(again.trials().len(), 5);
    for (a, b) in again.trials().iter().zip(study.trials()) {
        assert_eq!(a.values, b.values);
        assert_eq!(a.params, b.params);
    }
    let single = Study::load_or_create(&url, "mo", StudyConfig::default());
    assert!(matches!(single, Err(Error::StudyMismatch { .. })));
    drop((study, again));
    std::fs::remove_file(&path).unwrap();
}
