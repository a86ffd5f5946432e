//! Parity with PyTorch 2.15: every case of `schedulers.json` (and the
//! `swalr` cases of `averaging.json`, in the same layout) in the golden
//! directory (`$DESCENT_GOLDEN_DIR`, default the repository's
//! `tests/golden/`), and the learning rates of every `training.json` case
//! that has a scheduler.
//!
//! Each scheduler is built from its `scheduler` name and `hyper` alone
//! (`descent_testkit::torch::scheduler`); an unknown scheduler, a
//! hyperparameter the builder does not read, or a value it cannot honour
//! fails the case as unsupported. Learning rates and momentums must agree to
//! 1e-10 relative.

use descent_schedule::{MetricSchedule, Schedule};
use descent_testkit::golden::{self, Harness};
use descent_testkit::torch::{Built, scheduler as build};
use serde_json::Value;

const RTOL: f64 = 1e-10;

fn numbers(v: &Value, what: &str) -> Result<Vec<f64>, String> {
    let list = v.as_array().ok_or(format!("`{what}` is not a list"))?;
    list.iter()
        .map(|x| golden::number(x).ok_or(format!("`{what}` holds {x}")))
        .collect()
}

/// Checks every value to `RTOL` and returns the largest relative error.
fn compare(what: &str, got: &[f64], want: &[f64]) -> Result<f64, String> {
    if got.len() != want.len() {
        return Err(format!(
            "{what}: {} values, expected {}",
            got.len(),
            want.len()
        ));
    }
    let mut worst: f64 = 0.0;
    for (k, (&g, &w)) in got.iter().zip(want).enumerate() {
        let within = (g - w).abs() <= RTOL * w.abs(); // false for NaN
        if g != w {
            worst = worst.max((g - w).abs() / w.abs());
        }
        if !within {
            return Err(format!(
                "{what}[{k}] = {g:e}, expected {w:e} (rel {:e})",
                (g - w).abs() / w.abs()
            ));
        }
    }
    Ok(worst)
}

/// One case of schedulers.json.
fn check(case: &Value) -> Result<(usize, f64), String> {
    let name = case["scheduler"].as_str().ok_or("no `scheduler`")?;
    let base_lr = golden::number(&case["base_lr"]).ok_or("no `base_lr`")?;
    let steps = case["steps"].as_u64().ok_or("no `steps`")?;
    let want = numbers(&case["lrs"], "lrs")?;
    if want.len() as u64 != steps + 1 {
        return Err(format!("{} lrs for {steps} steps", want.len()));
    }
    let want_momentum = match &case["momentums"] {
        Value::Null => None,
        v => Some(numbers(v, "momentums")?),
    };
    let mut n = want.len();
    let worst = match build(name, &case["hyper"], base_lr)? {
        Built::Pure { lr, momentum } => {
            let mut worst = compare("lrs", &lr.lrs(steps + 1), &want)?;
            match (
                momentum.map(|m| (0..=steps).map(m).collect::<Option<Vec<f64>>>()),
                want_momentum,
            ) {
                (Some(Some(got)), Some(w)) => {
                    worst = worst.max(compare("momentums", &got, &w)?);
                    n += w.len();
                }
                (None | Some(None), None) => {}
                (got, w) => {
                    return Err(format!(
                        "momentum cycling mismatch: got {}, expected {}",
                        got.is_some(),
                        w.is_some()
                    ));
                }
            }
            worst
        }
        Built::Plateau(mut p) => {
            let metrics = numbers(&case["metrics"], "metrics")?;
            let mut got = vec![p.lr()];
            got.extend(p.observe_all(&metrics));
            compare("lrs", &got, &want)?
        }
    };
    Ok((n, worst))
}

/// The lrs of one training.json case, if it has a scheduler.
fn check_training(case: &Value) -> Result<(usize, f64), String> {
    let spec = &case["scheduler"];
    if spec.is_null() {
        return Ok((0, 0.0));
    }
    let name = spec["scheduler"].as_str().ok_or("no `scheduler`")?;
    let base_lr = golden::number(&case["optimizer"]["hyper"]["lr"]).ok_or("no optimizer lr")?;
    let want = numbers(&case["lrs"], "lrs")?;
    let got = match build(name, &spec["hyper"], base_lr)? {
        Built::Pure { lr, .. } => lr.lrs(want.len() as u64),
        Built::Plateau(mut p) => {
            // Step k runs at the lr in force, then the scheduler sees its loss.
            let losses = numbers(&case["losses"], "losses")?;
            if losses.len() + 1 < want.len() {
                return Err(format!("{} losses for {} lrs", losses.len(), want.len()));
            }
            let mut got = vec![p.lr()];
            got.extend(p.observe_all(&losses[..want.len() - 1]));
            got
        }
    };
    Ok((want.len(), compare("lrs", &got, &want)?))
}

#[test]
fn schedules_match_pytorch_golden_values() {
    let all = golden::cases(Harness::Schedule).unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    let (mut cases, mut values, mut worst) = (0, 0, 0.0f64);
    for case in &all {
        let checker: fn(&Value) -> Result<(usize, f64), String> = match case.kind.as_str() {
            "schedulers" => check,
            // SWALR, in the layout of schedulers.json
            "averaging" => check,
            "training" => check_training,
            other => {
                failures.push(format!("{}: no check for kind `{other}`", case.at()));
                continue;
            }
        };
        match checker(&case.value) {
            Ok((0, _)) => {}
            Ok((n, w)) => {
                cases += 1;
                values += n;
                worst = worst.max(w);
            }
            Err(e) => failures.push(format!("{}: {e}", case.at())),
        }
    }
    println!(
        "checked {cases} scheduler cases ({values} values) at relative {RTOL:e}; worst relative error {worst:e}"
    );
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn unread_or_unsupported_hyperparameters_fail_the_case() {
    let extra =
        serde_json::json!({"step_size": 2, "gamma": 0.5, "last_epoch": -1, "verbose": true});
    let e = build("StepLR", &extra, 0.1).err().expect("must fail");
    assert!(e.contains("verbose"), "{e}");
    let resumed = serde_json::json!({"step_size": 2, "gamma": 0.5, "last_epoch": 3});
    assert!(build("StepLR", &resumed, 0.1).is_err());
    assert!(build("MultiplicativeLR", &serde_json::json!({}), 0.1).is_err());
    let custom = serde_json::json!({
        "base_lr": 0.01, "max_lr": 0.1, "step_size_up": 5, "step_size_down": null,
        "mode": "triangular", "gamma": 1.0, "scale_fn": "lambda x: 1.0", "scale_mode": "cycle",
        "cycle_momentum": false, "base_momentum": 0.8, "max_momentum": 0.9, "last_epoch": -1
    });
    assert!(build("CyclicLR", &custom, 0.1).is_err());
}
