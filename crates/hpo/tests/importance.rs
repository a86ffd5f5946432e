//! Parameter importance: on the tpe_bench sphere with eight irrelevant
//! dimensions and on a mixed log-scaled / categorical space, both evaluators
//! rank the parameters that matter first, over several seeds.

use descent_hpo::{
    Direction, Error, FanovaConfig, FanovaImportanceEvaluator, FrozenTrial, ImportanceEvaluator,
    ParamImportance, PedAnovaConfig, PedAnovaImportanceEvaluator, Study, StudyConfig, Trial,
    get_param_importances,
};

/// The 10-D sphere of `examples/tpe_bench.rs`: only x0 and x1 matter.
fn sphere(t: &mut Trial<'_>) -> Result<f64, Error> {
    let mut f = 0.0;
    for i in 0..10 {
        let x = t.suggest_float(&format!("x{i}"), -5.0, 5.0)?;
        if i < 2 {
            f += x * x;
        }
    }
    Ok(f)
}

/// A log-scaled learning rate and a categorical that matter, two that do not.
fn mixed(t: &mut Trial<'_>) -> Result<f64, Error> {
    let lr = t.suggest_float_log("lr", 1e-5, 1.0)?;
    let opt: &str = t.suggest_categorical("optimizer", &["sgd", "adam", "rmsprop"])?;
    let _batch = t.suggest_int("batch", 16, 256)?;
    let _seed_noise = t.suggest_float("jitter", 0.0, 1.0)?;
    let penalty = match opt {
        "adam" => 0.0,
        "sgd" => 3.0,
        _ => 1.5,
    };
    Ok((lr.log10() + 3.0).powi(2) + penalty)
}

fn study(seed: u64, objective: fn(&mut Trial<'_>) -> Result<f64, Error>) -> Study {
    let study = Study::new(StudyConfig {
        seed,
        ..Default::default()
    });
    study.optimize(objective, 100, 1).unwrap();
    study
}

fn evaluators(seed: u64) -> Vec<(&'static str, Box<dyn ImportanceEvaluator>)> {
    vec![
        (
            "fanova",
            Box::new(FanovaImportanceEvaluator::new(FanovaConfig {
                seed,
                ..Default::default()
            })),
        ),
        (
            "ped-anova",
            Box::new(PedAnovaImportanceEvaluator::new(PedAnovaConfig::default()).unwrap()),
        ),
    ]
}

fn top(ranked: &[ParamImportance], k: usize) -> Vec<&str> {
    let mut names: Vec<&str> = ranked[..k].iter().map(|p| p.name.as_str()).collect();
    names.sort();
    names
}

/// Every parameter's importance for the value of a minimizing study's
/// `trials` by `evaluator`, checked to sum to one and be sorted.
fn ranked(trials: &[FrozenTrial], evaluator: &dyn ImportanceEvaluator) -> Vec<ParamImportance> {
    let ranked =
        get_param_importances(&(trials, Direction::Minimize), evaluator, None, None).unwrap();
    check_sums_to_one(&ranked);
    ranked
}

fn check_sums_to_one(ranked: &[ParamImportance]) {
    let sum: f64 = ranked.iter().map(|p| p.importance).sum();
    assert!((sum - 1.0).abs() < 1e-9, "importances sum to {sum}");
    assert!(
        ranked
            .windows(2)
            .all(|w| w[0].importance >= w[1].importance),
        "not sorted: {ranked:?}"
    );
}

#[test]
fn both_evaluators_rank_the_relevant_sphere_dimensions_first() {
    for seed in 0..4 {
        let trials = study(seed, sphere).trials();
        for (name, evaluator) in evaluators(seed) {
            let ranked = ranked(&trials, &*evaluator);
            eprintln!(
                "sphere seed {seed} {name}: {:?}",
                ranked
                    .iter()
                    .map(|p| format!("{}={:.3}", p.name, p.importance))
                    .collect::<Vec<_>>()
            );
            assert_eq!(ranked.len(), 10);
            assert_eq!(top(&ranked, 2), ["x0", "x1"], "{name}, seed {seed}");
        }
    }
}

/// Only the categorical matters; a log-scaled learning rate is there but unused.
fn categorical_only(t: &mut Trial<'_>) -> Result<f64, Error> {
    let _lr = t.suggest_float_log("lr", 1e-5, 1.0)?;
    let opt: &str = t.suggest_categorical("optimizer", &["sgd", "adam", "rmsprop"])?;
    let _batch = t.suggest_int("batch", 16, 256)?;
    Ok(match opt {
        "adam" => 0.0,
        "sgd" => 3.0,
        _ => 1.5,
    })
}

#[test]
fn log_scaled_and_categorical_parameters_are_ranked_above_noise() {
    for seed in 0..4 {
        let trials = study(seed, mixed).trials();
        for (name, evaluator) in evaluators(seed) {
            let ranked = ranked(&trials, &*evaluator);
            assert_eq!(ranked[0].name, "lr", "{name}, seed {seed}: {ranked:?}");
            // fANOVA sees raw values, as Optuna encodes them: with the log-scaled
            // lr dominating, the optimizer can fall below noise on some seeds
            // (seed 1 here; Optuna's fANOVA ranks it last on the same trials too).
            if name == "ped-anova" {
                assert_eq!(ranked[1].name, "optimizer", "{name}, seed {seed}");
            }
        }
        let trials = study(seed, categorical_only).trials();
        for (name, evaluator) in evaluators(seed) {
            let ranked = ranked(&trials, &*evaluator);
            assert_eq!(
                ranked[0].name, "optimizer",
                "{name}, seed {seed}: {ranked:?}"
            );
        }
    }
}

#[test]
fn fanova_reports_its_spread_over_trees_and_params_can_be_chosen() {
    let trials = study(1, sphere).trials();
    let evaluator = FanovaImportanceEvaluator::new(FanovaConfig::default());
    let ranked = get_param_importances(
        &(trials.as_slice(), Direction::Minimize),
        &evaluator,
        Some(&["x0", "x5"]),
        None,
    )
    .unwrap();
    assert_eq!(ranked.len(), 2);
    assert_eq!(ranked[0].name, "x0");
    assert!(
        ranked
            .iter()
            .all(|p| p.uncertainty.is_some_and(|u| u >= 0.0))
    );
    // A target instead of the value: the importance of x5 for x5² is all of it.
    let target = |t: &FrozenTrial| t.params.f64("x5").unwrap().powi(2);
    let ranked = get_param_importances(
        &(trials.as_slice(), Direction::Minimize),
        &evaluator,
        Some(&["x0", "x5"]),
        Some(&target),
    )
    .unwrap();
    assert_eq!(ranked[0].name, "x5");
    // An unknown parameter is a typed error, for both evaluators.
    for (_, evaluator) in evaluators(0) {
        let err = get_param_importances(
            &(trials.as_slice(), Direction::Minimize),
            &*evaluator,
            Some(&["nope"]),
            None,
        );
        assert!(matches!(err, Err(Error::Importance { .. })), "{err:?}");
    }
}

#[test]
fn maximizing_studies_look_at_the_top_trials() {
    let study = Study::new(StudyConfig {
        seed: 3,
        direction: Direction::Maximize,
        ..Default::default()
    });
    study
        .optimize(|t: &mut Trial<'_>| Ok::<_, Error>(-sphere(t)?), 100, 1)
        .unwrap();
    for (name, evaluator) in evaluators(3) {
        let ranked = get_param_importances(&study, &*evaluator, None, None).unwrap();
        assert_eq!(top(&ranked, 2), ["x0", "x1"], "{name}");
    }
}

#[test]
fn a_constant_objective_is_an_error_for_fanova_and_equal_shares_for_ped_anova() {
    let study = Study::new(StudyConfig::default());
    study
        .optimize(
            |t: &mut Trial<'_>| {
                t.suggest_float("a", 0.0, 1.0)?;
                t.suggest_int("b", 0, 3)?;
                Ok::<_, Error>(1.0)
            },
            20,
            1,
        )
        .unwrap();
    let trials = study.trials();
    let fanova = FanovaImportanceEvaluator::new(FanovaConfig::default());
    let err = get_param_importances(
        &(trials.as_slice(), Direction::Minimize),
        &fanova,
        None,
        None,
    );
    assert!(matches!(err, Err(Error::Importance { .. })), "{err:?}");
    let ped = PedAnovaImportanceEvaluator::new(PedAnovaConfig::default()).unwrap();
    let ranked =
        get_param_importances(&(trials.as_slice(), Direction::Minimize), &ped, None, None).unwrap();
    assert_eq!(ranked.len(), 2);
    check_sums_to_one(&ranked);
}
