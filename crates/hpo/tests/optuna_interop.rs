//! Interop with real Python Optuna (a pinned release in a virtual
//! environment, `DESCENT_HPO_PYTHON`, set up by `.ci/hpo.sh`), on SQLite and,
//! when `.ci/hpo.sh` started one, PostgreSQL (`DESCENT_HPO_PG_URL`):
//! a study descent wrote is read by `optuna.load_study` with the same trials;
//! a study Optuna started is continued by descent and read back by Optuna;
//! Optuna and descent workers run on one study at the same time; Optuna's
//! visualization module draws a descent study.

mod common;

use common::{service, unique};
use descent_hpo::{
    Direction, Error, GENERATION_KEY, NsgaIIConfig, NsgaIISampler, Study, StudyConfig, Trial,
    TrialState,
};
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

/// The objective both sides run (Python's copy is in `PY_OBJECTIVE`).
fn objective(trial: &mut Trial<'_>) -> Result<f64, Error> {
    let x = trial.suggest_float("x", -3.0, 3.0)?;
    let n = trial.suggest_int("n", 1, 8)?;
    let opt: &str = trial.suggest_categorical("opt", &["sgd", "adam"])?;
    trial.report(0, x * x);
    Ok(value_of(x, n, opt == "adam"))
}

fn value_of(x: f64, n: i64, adam: bool) -> f64 {
    x * x + n as f64 + if adam { 0.0 } else { 0.5 }
}

const PY_OBJECTIVE: &str = r#"
import json, sys, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
def objective(t):
    x = t.suggest_float("x", -3.0, 3.0)
    n = t.suggest_int("n", 1, 8)
    opt = t.suggest_categorical("opt", ["sgd", "adam"])
    t.report(x * x, 0)
    return x * x + n + (0.0 if opt == "adam" else 0.5)
def dump(s):
    print(json.dumps({
        "best": s.best_trial.number,
        "direction": s.direction.name,
        "trials": [{"number": t.number, "state": t.state.name, "params": t.params,
                    "value": t.value, "intermediate": {str(k): v for k, v in t.intermediate_values.items()},
                    "system_attrs": t.system_attrs} for t in s.trials]}))
"#;

fn python() -> Option<String> {
    common::python("no Python Optuna")
}

fn run_py(python: &str, body: &str, args: &[&str]) -> std::process::Child {
    Command::new(python)
        .arg("-c")
        .arg(format!("{PY_OBJECTIVE}\n{body}"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python runs")
}

fn finish_py(child: std::process::Child) -> String {
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python failed");
    String::from_utf8(out.stdout).unwrap()
}

fn optuna_view(python: &str, url: &str, name: &str) -> Value {
    let out = finish_py(run_py(
        python,
        "dump(optuna.load_study(study_name=sys.argv[2], storage=sys.argv[1]))",
        &[url, name],
    ));
    serde_json::from_str(out.lines().last().unwrap()).unwrap()
}

fn urls() -> Vec<(String, Option<std::path::PathBuf>)> {
    let dir = std::env::temp_dir().join(unique("descent-hpo-interop"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut out = vec![(
        format!("sqlite:///{}", dir.join("study.db").display()),
        Some(dir),
    )];
    if let Some(url) = service("DESCENT_HPO_PG_URL", "the PostgreSQL part") {
        out.push((url, None));
    }
    out
}

fn check_same(optuna: &Value, study: &Study) {
    let ours = study.trials();
    let theirs = optuna["trials"].as_array().unwrap();
    assert_eq!(theirs.len(), ours.len());
    for (o, t) in ours.iter().zip(theirs) {
        assert_eq!(t["number"].as_u64(), Some(o.number));
        let state = format!("{:?}", o.state).to_uppercase();
        assert_eq!(
            t["state"].as_str(),
            Some(state.as_str()),
            "trial {}",
            o.number
        );
        assert_eq!(t["value"].as_f64(), o.value, "trial {}", o.number);
        assert_eq!(t["params"]["x"].as_f64(), o.params.f64("x").ok());
        assert_eq!(t["params"]["n"].as_i64(), o.params.i64("n").ok());
        assert_eq!(t["params"]["opt"].as_str(), o.params.str("opt").ok());
        assert_eq!(
            t["intermediate"]["0"].as_f64(),
            o.intermediate.get(&0).copied()
        );
    }
    assert_eq!(
        optuna["best"].as_u64(),
        Some(study.best_trial().unwrap().number),
        "the best trial agrees"
    );
}

#[test]
fn optuna_reads_a_study_descent_wrote() {
    let Some(py) = python() else { return };
    for (url, dir) in urls() {
        let name = unique("descent-wrote");
        let study = Study::load_or_create(&url, &name, StudyConfig::default()).unwrap();
        study.optimize(objective, 12, 2).unwrap();
        // A failed trial too.
        let mut t = study.ask().unwrap();
        t.suggest_float("x", -3.0, 3.0).unwrap();
        study.tell(t, Err::<f64, _>("diverged")).unwrap();
        let view = optuna_view(&py, &url, &name);
        assert_eq!(view["direction"], "MINIMIZE");
        check_same(&view, &study);
        assert_eq!(view["trials"][12]["state"], "FAIL");
        // Optuna's visualization module draws the study (plotly figures, not shown).
        let drawn = finish_py(run_py(
            &py,
            r#"
import optuna.visualization as v
s = optuna.load_study(study_name=sys.argv[2], storage=sys.argv[1])
figs = [v.plot_optimization_history(s), v.plot_intermediate_values(s),
        v.plot_param_importances(s), v.plot_parallel_coordinate(s), v.plot_slice(s)]
print(sum(len(f.data) for f in figs))
"#,
            &[&url, &name],
        ));
        assert!(drawn.trim().parse::<usize>().unwrap() > 0, "{drawn}");
        if let Some(dir) = dir {
            std::fs::remove_dir_all(dir).unwrap();
        }
    }
}

#[test]
fn descent_continues_a_study_optuna_started_and_both_run_at_once() {
    let Some(py) = python() else { return };
    for (url, dir) in urls() {
        let name = unique("optuna-started");
        finish_py(run_py(
            &py,
            "optuna.create_study(study_name=sys.argv[2], storage=sys.argv[1]).optimize(objective, n_trials=8)",
            &[&url, &name],
        ));
        let study = Study::load_or_create(&url, &name, StudyConfig::default()).unwrap();
        assert_eq!(study.trials().len(), 8, "descent sees Optuna's trials");
        study.optimize(objective, 8, 1).unwrap();
        // Now both at once: Optuna in one process, descent in this one.
        let optuna = run_py(
            &py,
            "optuna.load_study(study_name=sys.argv[2], storage=sys.argv[1]).optimize(objective, n_trials=20)",
            &[&url, &name],
        );
        study.optimize(objective, 20, 2).unwrap();
        finish_py(optuna);
        let view = optuna_view(&py, &url, &name);
        let trials = view["trials"].as_array().unwrap();
        assert_eq!(trials.len(), 56);
        let numbers: BTreeSet<u64> = trials
            .iter()
            .map(|t| t["number"].as_u64().unwrap())
            .collect();
        assert_eq!(numbers, (0..56).collect(), "every number exactly once");
        for t in trials {
            assert_eq!(t["state"], "COMPLETE");
            let p = &t["params"];
            let want = value_of(
                p["x"].as_f64().unwrap(),
                p["n"].as_i64().unwrap(),
                p["opt"] == "adam",
            );
            assert_eq!(t["value"].as_f64(), Some(want));
        }
        // Descent's view, refreshed, agrees with Optuna's.
        let again = Study::load_or_create(&url, &name, StudyConfig::default()).unwrap();
        assert!(
            again
                .trials()
                .iter()
                .all(|t| t.state == TrialState::Complete)
        );
        check_same(&view, &again);
        if let Some(dir) = dir {
            std::fs::remove_dir_all(dir).unwrap();
        }
    }
}

#[test]
fn descent_runs_the_trial_optuna_enqueued_with_its_fixed_params() {
    let Some(py) = python() else { return };
    for (url, dir) in urls() {
        let name = unique("enqueued");
        finish_py(run_py(
            &py,
            "s = optuna.create_study(study_name=sys.argv[2], storage=sys.argv[1])\n\
             s.enqueue_trial({'x': 0.5, 'n': 3, 'opt': 'sgd'})",
            &[&url, &name],
        ));
        let study = Study::load_or_create(&url, &name, StudyConfig::default()).unwrap();
        study.optimize(objective, 1, 1).unwrap();
        let t = &study.trials()[0];
        assert_eq!(t.params.f64("x").unwrap(), 0.5);
        assert_eq!(t.params.i64("n").unwrap(), 3);
        assert_eq!(t.params.str("opt").unwrap(), "sgd");
        assert_eq!(t.value, Some(3.75));
        let view = optuna_view(&py, &url, &name);
        check_same(&view, &study);
        if let Some(dir) = dir {
            std::fs::remove_dir_all(dir).unwrap();
        }
    }
}

/// The two objectives both sides run in the multi-objective case
/// (minimize, maximize); Python's copy is in `PY_MO`.
fn mo_values(x: f64, n: i64, adam: bool) -> [f64; 2] {
    [
        x * x + n as f64,
        -(x - 1.0) * (x - 1.0) + if adam { 0.0 } else { 0.5 },
    ]
}

fn mo_objective(trial: &mut Trial<'_>) -> Result<[f64; 2], Error> {
    let x = trial.suggest_float("x", -3.0, 3.0)?;
    let n = trial.suggest_int("n", 1, 8)?;
    let opt: &str = trial.suggest_categorical("opt", &["sgd", "adam"])?;
    Ok(mo_values(x, n, opt == "adam"))
}

const PY_MO: &str = r#"
def mo_objective(t):
    x = t.suggest_float("x", -3.0, 3.0)
    n = t.suggest_int("n", 1, 8)
    opt = t.suggest_categorical("opt", ["sgd", "adam"])
    return x * x + n, -(x - 1.0) * (x - 1.0) + (0.0 if opt == "adam" else 0.5)
def mo_dump(s):
    print(json.dumps({
        "directions": [d.name for d in s.directions],
        "best": sorted(t.number for t in s.best_trials),
        "trials": [{"number": t.number, "state": t.state.name, "params": t.params,
                    "values": t.values} for t in s.trials]}))
"#;

fn mo_config() -> StudyConfig {
    StudyConfig {
        directions: vec![Direction::Minimize, Direction::Maximize],
        ..Default::default()
    }
}

fn check_same_mo(optuna: &Value, study: &Study) {
    assert_eq!(
        optuna["directions"],
        serde_json::json!(["MINIMIZE", "MAXIMIZE"])
    );
    let ours = study.trials();
    let theirs = optuna["trials"].as_array().unwrap();
    assert_eq!(theirs.len(), ours.len());
    for (o, t) in ours.iter().zip(theirs) {
        assert_eq!(t["number"].as_u64(), Some(o.number));
        let values: Vec<f64> = t["values"]
            .as_array()
            .map(|v| v.iter().map(|x| x.as_f64().unwrap()).collect())
            .unwrap_or_default();
        assert_eq!(values, o.objective_values(), "trial {}", o.number);
        assert_eq!(t["params"]["x"].as_f64(), o.params.f64("x").ok());
    }
    let best: Vec<u64> = study
        .best_trials()
        .unwrap()
        .iter()
        .map(|t| t.number)
        .collect();
    assert_eq!(
        optuna["best"],
        serde_json::json!(best),
        "the Pareto fronts agree"
    );
}

#[test]
fn multi_objective_studies_cross_between_optuna_and_descent() {
    let Some(py) = python() else { return };
    let mo_view = |url: &str, name: &str| -> Value {
        let out = finish_py(run_py(
            &py,
            &format!(
                "{PY_MO}\nmo_dump(optuna.load_study(study_name=sys.argv[2], storage=sys.argv[1]))"
            ),
            &[url, name],
        ));
        serde_json::from_str(out.lines().last().unwrap()).unwrap()
    };
    for (url, dir) in urls() {
        // descent writes, Optuna reads.
        let name = unique("descent-mo");
        let study = Study::load_or_create(&url, &name, mo_config()).unwrap();
        study.optimize(mo_objective, 10, 2).unwrap();
        check_same_mo(&mo_view(&url, &name), &study);

        // Optuna starts (NSGA-II), descent continues with its NSGA-II, Optuna reads it all.
        let name = unique("optuna-mo");
        finish_py(run_py(
            &py,
            &format!(
                "{PY_MO}\noptuna.create_study(study_name=sys.argv[2], storage=sys.argv[1], \
                 directions=['minimize', 'maximize'], \
                 sampler=optuna.samplers.NSGAIISampler(population_size=4, seed=0))\
                 .optimize(mo_objective, n_trials=8)"
            ),
            &[&url, &name],
        ));
        let sampler = NsgaIISampler::new(NsgaIIConfig {
            population_size: 4,
            ..Default::default()
        })
        .unwrap();
        let study = Study::load_or_create(&url, &name, mo_config())
            .unwrap()
            .with_sampler(sampler);
        assert_eq!(study.trials().len(), 8, "descent sees Optuna's trials");
        assert!(study.trials().iter().all(|t| t.values.len() == 2));
        study.optimize(mo_objective, 8, 1).unwrap();
        let view = mo_view(&url, &name);
        for t in view["trials"].as_array().unwrap() {
            assert_eq!(t["state"], "COMPLETE");
            let p = &t["params"];
            let want = mo_values(
                p["x"].as_f64().unwrap(),
                p["n"].as_i64().unwrap(),
                p["opt"] == "adam",
            );
            assert_eq!(t["values"], serde_json::json!(want));
        }
        // descent continued Optuna's generations (population 4: 8 trials → generations 0, 1).
        let gens: Vec<u64> = study
            .trials()
            .iter()
            .map(|t| t.attrs[GENERATION_KEY].as_u64().unwrap())
            .collect();
        assert_eq!(gens, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
        check_same_mo(&view, &study);
        if let Some(dir) = dir {
            std::fs::remove_dir_all(dir).unwrap();
        }
    }
}
