//! Replays `tests/fixtures/optuna_pruners.json` (written by
//! `tests/optuna_ref/pruners.py` with Optuna 5.0.0 and SciPy 1.17): every
//! pruner decision, every argument Optuna rejects, every signed-rank p-value.
//! Adding a case to the fixture needs no code; an unknown pruner type fails.

use descent_hpo::{
    Alternative, Direction, FrozenTrial, MedianConfig, MedianPruner, PatientPruner,
    PercentileConfig, PercentilePruner, PruneContext, Pruner, ThresholdConfig, ThresholdPruner,
    TrialState, WilcoxonConfig, WilcoxonPruner, wilcoxon_signed_rank,
};
use serde_json::{Map, Value};

type Res<T> = Result<T, String>;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/optuna_pruners.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A float, with "nan", "inf", "-inf" for the non-finite ones.
fn float(v: &Value) -> Res<f64> {
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| format!("bad number {n}")),
        Value::String(s) => match s.as_str() {
            "nan" => Ok(f64::NAN),
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            _ => Err(format!("bad float {s}")),
        },
        _ => Err(format!("not a float: {v}")),
    }
}

fn field<'a>(spec: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    spec.get(name).filter(|v| !v.is_null())
}

fn uint(spec: &Map<String, Value>, name: &str, default: u64) -> Res<u64> {
    field(spec, name).map_or(Ok(default), |v| {
        v.as_u64()
            .ok_or_else(|| format!("`{name}` = {v} is not a count"))
    })
}

fn opt_float(spec: &Map<String, Value>, name: &str) -> Res<Option<f64>> {
    field(spec, name).map(float).transpose()
}

/// Our pruner for an Optuna spec: `Ok(Err(_))` when our constructor rejects it.
fn build(spec: &Value) -> Res<descent_hpo::Result<Box<dyn Pruner>>> {
    let s = spec.as_object().ok_or("pruner spec is not an object")?;
    let kind = s.get("type").and_then(Value::as_str).ok_or("no type")?;
    let boxed = |p: Box<dyn Pruner>| p;
    Ok(match kind {
        "percentile" => PercentilePruner::new(PercentileConfig {
            percentile: opt_float(s, "percentile")?.ok_or("no percentile")?,
            n_startup_trials: uint(s, "n_startup_trials", 5)? as usize,
            n_warmup_steps: uint(s, "n_warmup_steps", 0)?,
            interval_steps: uint(s, "interval_steps", 1)?,
            n_min_trials: uint(s, "n_min_trials", 1)? as usize,
        })
        .map(|p| boxed(Box::new(p))),
        "median" => MedianPruner::new(MedianConfig {
            n_startup_trials: uint(s, "n_startup_trials", 5)? as usize,
            n_warmup_steps: uint(s, "n_warmup_steps", 0)?,
            interval_steps: uint(s, "interval_steps", 1)?,
            n_min_trials: uint(s, "n_min_trials", 1)? as usize,
        })
        .map(|p| boxed(Box::new(p))),
        "threshold" => ThresholdPruner::new(ThresholdConfig {
            lower: opt_float(s, "lower")?,
            upper: opt_float(s, "upper")?,
            n_warmup_steps: uint(s, "n_warmup_steps", 0)?,
            interval_steps: uint(s, "interval_steps", 1)?,
        })
        .map(|p| boxed(Box::new(p))),
        "patient" => {
            let wrapped = match field(s, "wrapped") {
                None => None,
                Some(inner) => match build(inner)? {
                    Ok(p) => Some(p),
                    Err(e) => return Ok(Err(e)),
                },
            };
            PatientPruner::new(
                wrapped,
                uint(s, "patience", 0)? as usize,
                opt_float(s, "min_delta")?.unwrap_or(0.0),
            )
            .map(|p| boxed(Box::new(p)))
        }
        "wilcoxon" => WilcoxonPruner::new(WilcoxonConfig {
            p_threshold: opt_float(s, "p_threshold")?.unwrap_or(0.1),
            n_startup_steps: uint(s, "n_startup_steps", 2)? as usize,
        })
        .map(|p| boxed(Box::new(p))),
        other => return Err(format!("unknown pruner type `{other}`")),
    })
}

fn intermediate(v: &Value) -> Res<Vec<(u64, f64)>> {
    v.as_array()
        .ok_or("intermediate values are not a list")?
        .iter()
        .map(|pair| {
            let step = pair[0].as_u64().ok_or("bad step")?;
            Ok((step, float(&pair[1])?))
        })
        .collect()
}

fn trials(history: &Value, current: &[(u64, f64)]) -> Res<Vec<FrozenTrial>> {
    let mut out = Vec::new();
    for (number, h) in history
        .as_array()
        .ok_or("history is not a list")?
        .iter()
        .enumerate()
    {
        let mut t = FrozenTrial::running(number as u64);
        t.state = serde_json::from_value::<TrialState>(h["state"].clone())
            .map_err(|e| format!("state: {e}"))?;
        t.value = if h["value"].is_null() {
            None
        } else {
            Some(float(&h["value"])?)
        };
        t.intermediate = intermediate(&h["intermediate"])?.into_iter().collect();
        out.push(t);
    }
    let mut running = FrozenTrial::running(out.len() as u64);
    running.intermediate = current.iter().copied().collect();
    out.push(running);
    Ok(out)
}

fn direction(v: &Value) -> Res<Direction> {
    serde_json::from_value(v.clone()).map_err(|e| format!("direction: {e}"))
}

fn check_case(fx: &Value, case: &Value) -> Res<()> {
    let pruner = build(&case["pruner"])?.map_err(|e| format!("rejected: {e}"))?;
    let hkey = case["history"].as_str().ok_or("no history")?;
    let ckey = case["current"].as_str().ok_or("no current")?;
    let current = intermediate(&fx["currents"][ckey])?;
    let trials = trials(&fx["histories"][hkey], &current)?;
    let ctx = PruneContext {
        trials: &trials,
        direction: direction(&case["direction"])?,
        seed: 0,
    };
    let got = pruner.prune(&ctx, trials.last().ok_or("no trial")?);
    let want = case["prune"].as_bool().ok_or("no decision")?;
    if got != want {
        return Err(format!("pruned: descent {got}, Optuna {want}"));
    }
    Ok(())
}

#[test]
fn every_pruner_decides_as_optuna_on_every_case() {
    let fx = fixture();
    let cases = fx["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    let mut per_type = std::collections::BTreeMap::<String, usize>::new();
    for (i, case) in cases.iter().enumerate() {
        let kind = case["pruner"]["type"].as_str().unwrap_or("?").to_string();
        *per_type.entry(kind).or_default() += 1;
        if let Err(e) = check_case(&fx, case) {
            failures.push(format!(
                "case {i} ({} {} {} {}): {e}",
                case["pruner"], case["direction"], case["history"], case["current"]
            ));
        }
    }
    eprintln!("{} cases: {per_type:?}", cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_argument_optuna_rejects_is_a_typed_error() {
    let fx = fixture();
    let invalid = fx["invalid"].as_array().unwrap();
    assert!(!invalid.is_empty());
    for case in invalid {
        match build(&case["pruner"]) {
            Ok(Err(descent_hpo::Error::Arg(descent_core::ArgError { .. }))) => {}
            Ok(Err(e)) => panic!("{}: wrong error {e}", case["pruner"]),
            Ok(Ok(_)) => panic!(
                "{} accepted; Optuna says {}",
                case["pruner"], case["optuna_error"]
            ),
            Err(e) => panic!("{}: {e}", case["pruner"]),
        }
    }
}

#[test]
fn signed_rank_p_values_match_scipy() {
    let fx = fixture();
    let cases = fx["wilcoxon_pvalues"].as_array().unwrap();
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for case in cases {
        let d: Vec<f64> = case["d"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| float(v).unwrap())
            .collect();
        let alternative = match case["alternative"].as_str().unwrap() {
            "less" => Alternative::Less,
            "greater" => Alternative::Greater,
            "two-sided" => Alternative::TwoSided,
            other => panic!("unknown alternative `{other}`"),
        };
        let want = float(&case["pvalue"]).unwrap();
        let got = wilcoxon_signed_rank(&d, alternative).unwrap();
        let close =
            (got.is_nan() && want.is_nan()) || (got - want).abs() <= 1e-12 * want.abs().max(1e-3);
        if !close {
            failures.push(format!(
                "n={} {alternative:?}: descent {got}, scipy {want}",
                d.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
