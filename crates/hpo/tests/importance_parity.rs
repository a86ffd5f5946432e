//! Replays `tests/fixtures/optuna_importance.json` (written by
//! `tests/optuna_ref/importance.py` with Optuna 5.0.0 and scikit-learn):
//! on the same trials, PED-ANOVA (deterministic) gives Optuna's numbers, and
//! fANOVA (whose forest's randomness differs from scikit-learn's) ranks
//! first the same parameters Optuna's fANOVA finds important.

use descent_hpo::{
    Direction, Distribution, FanovaConfig, FanovaImportanceEvaluator, FrozenTrial, ParamImportance,
    ParamValue, PedAnovaConfig, PedAnovaImportanceEvaluator, TrialState, get_param_importances,
};
use serde_json::Value;
use std::collections::BTreeMap;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/optuna_importance.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn trials(problem: &Value) -> Vec<FrozenTrial> {
    let dists: BTreeMap<String, Distribution> =
        serde_json::from_value(problem["distributions"].clone()).unwrap();
    problem["trials"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut f = FrozenTrial::running(i as u64);
            f.state = TrialState::Complete;
            f.value = t["value"].as_f64();
            for (name, v) in t["params"].as_object().unwrap() {
                let value: ParamValue = serde_json::from_value(v.clone()).unwrap();
                f.params.insert(name.clone(), value);
                f.distributions.insert(name.clone(), dists[name].clone());
            }
            f
        })
        .collect()
}

fn as_map(v: &Value) -> BTreeMap<String, f64> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_f64().unwrap()))
        .collect()
}

fn show(ranked: &[ParamImportance]) -> String {
    ranked
        .iter()
        .map(|p| format!("{}={:.3}", p.name, p.importance))
        .collect::<Vec<_>>()
        .join(" ")
}

fn direction(problem: &Value) -> Direction {
    serde_json::from_value(problem["direction"].clone()).unwrap()
}

#[test]
fn ped_anova_gives_optunas_importances() {
    let fx = fixture();
    let problems = fx["problems"].as_array().unwrap();
    assert!(!problems.is_empty());
    let evaluator = PedAnovaImportanceEvaluator::new(PedAnovaConfig::default()).unwrap();
    for problem in problems {
        let ours = get_param_importances(
            &(trials(problem).as_slice(), direction(problem)),
            &evaluator,
            None,
            None,
        )
        .unwrap();
        let theirs = as_map(&problem["ped_anova"]);
        eprintln!(
            "{} {}: descent {}",
            problem["name"],
            problem["direction"],
            show(&ours)
        );
        eprintln!("{:>20} optuna  {theirs:?}", "");
        assert_eq!(ours.len(), theirs.len());
        for p in &ours {
            let want = theirs[&p.name];
            assert!(
                (p.importance - want).abs() < 1e-9,
                "{} {}: {} descent {} Optuna {want}",
                problem["name"],
                problem["direction"],
                p.name,
                p.importance
            );
        }
    }
}

#[test]
fn fanova_ranks_first_the_parameters_optunas_fanova_finds_important() {
    let fx = fixture();
    for problem in fx["problems"].as_array().unwrap() {
        // Optuna's importances averaged over its forest seeds.
        let runs = problem["fanova"].as_array().unwrap();
        let mut mean: BTreeMap<String, f64> = BTreeMap::new();
        for run in runs {
            for (k, v) in as_map(run) {
                *mean.entry(k).or_default() += v / runs.len() as f64;
            }
        }
        let mut important: Vec<&str> = mean
            .iter()
            .filter(|(_, v)| **v >= 0.05)
            .map(|(k, _)| k.as_str())
            .collect();
        important.sort();
        let trials = trials(problem);
        for seed in 0..3 {
            let evaluator = FanovaImportanceEvaluator::new(FanovaConfig {
                seed,
                ..Default::default()
            });
            let ours = get_param_importances(
                &(trials.as_slice(), direction(problem)),
                &evaluator,
                None,
                None,
            )
            .unwrap();
            eprintln!(
                "{} {} seed {seed}: descent {}\n{:>20} optuna mean {mean:.3?}",
                problem["name"],
                problem["direction"],
                show(&ours),
                ""
            );
            let mut top: Vec<&str> = ours[..important.len()]
                .iter()
                .map(|p| p.name.as_str())
                .collect();
            top.sort();
            assert_eq!(
                top, important,
                "{} {}",
                problem["name"], problem["direction"]
            );
        }
    }
}
