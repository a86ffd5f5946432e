//! Golden parity with optax 0.2.8: every case of `optimizers_optax.json`
//! in the golden directory (the cases routed to `Harness::Optax`; PyTorch's
//! optimizers and clipping are `tests/parity.rs`'s), in f64 (relative 1e-10, purely
//! relative) and in f32 (relative 1e-5 with an absolute floor of 5e-7,
//! about 8·ε₃₂: a quadratic case's f32 gradient `A·p + b` cancels near the
//! optimum, where its absolute error stays a few ε₃₂·‖A‖·‖p₀‖ while `p`
//! shrinks; the largest seen is 1.1e-7 beyond the relative part).
//!
//! Cases come from `descent_testkit::golden::cases` and are dispatched on
//! their `optimizer`/`fn` and `hyper` fields, never on names; an unknown
//! class or function, a hyperparameter this harness does not read or a
//! value it cannot honour fails the case.

mod common;

use common::{cast, check_fields, close_scalar, list, tensor, widen};
use descent_core::{ParamStore, Scalar, Tags};
use descent_optim::transform::HessianFeed;
use descent_testkit::assert_close;
use descent_testkit::golden::{Harness, number};
use descent_testkit::optax;
use descent_testkit::torch;
use serde_json::Value;

/// Per-step records a case may carry beside `params`, each checked after
/// every step: the evaluation point (`eval_params`: schedule-free's `x`;
/// `slow_params`: Lookahead's slow weights), both read through
/// `Optimizer::eval_params`.
const EVAL_RECORDS: &[&str] = &["eval_params", "slow_params"];

/// The keys an optimizer case may have; any other fails the case.
const CASE_KEYS: &[&str] = &[
    "name",
    "optimizer",
    "hyper",
    "objective",
    "params0",
    "grads",
    "params",
    "eval_params",
    "slow_params",
    "estim_lr",
    "hessian_estimates",
    "hessian_probes",
];

/// Per-step scalars a case may record from the optimizer's state, each
/// read from the saved state (`Optimizer::state`) under the same key:
/// Prodigy's step-size estimate.
const STATE_RECORDS: &[&str] = &["estim_lr"];

/// The first value stored under `key` anywhere in `v`.
fn find_key<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    match v {
        Value::Object(m) => m
            .get(key)
            .or_else(|| m.values().find_map(|x| find_key(x, key))),
        Value::Array(a) => a.iter().find_map(|x| find_key(x, key)),
        _ => None,
    }
}

fn check_optimizer<S: Scalar>(case: &Value, (rtol, atol): (f64, f64)) -> Result<(), String> {
    check_fields(case, CASE_KEYS)?;
    let class = case["optimizer"].as_str().ok_or("no `optimizer`")?;
    let p0 = tensor(&case["params0"], "params0")?;
    let mut store = ParamStore::<S>::new();
    let id = store
        .register("p", Tags::WEIGHT, cast(&p0))
        .map_err(|e| e.to_string())?;
    let hessian = HessianFeed::new();
    let mut opt = if optax::NAMES.contains(&class) {
        optax::optimizer(&store, class, &case["hyper"], &hessian)?
    } else {
        torch::optimizer(&store, class, &case["hyper"])?
    };
    let objective = match &case["objective"] {
        Value::Null => None,
        o => Some((
            cast::<S>(&tensor(&o["A"], "A")?),
            cast::<S>(&tensor(&o["b"], "b")?),
        )),
    };
    let grads = list(&case["grads"], "grads")?;
    let want = list(&case["params"], "params")?;
    if grads.len() != want.len() || grads.is_empty() {
        return Err("`grads` and `params` differ in length".into());
    }
    let records = per_step(case, EVAL_RECORDS, grads.len())?;
    let scalars = per_step(case, STATE_RECORDS, grads.len())?;
    let estimates = hessian_estimates(case)?;
    let mut provided = 0;
    for (k, (g, w)) in grads.iter().zip(want).enumerate() {
        // Sophia takes an estimate on the steps that want one, in order:
        // the next one waits in the feed until then.
        if provided < estimates.len() && !hessian.is_pending() {
            hessian.provide(vec![estimates[provided].clone()]);
            provided += 1;
        }
        let grad = match &objective {
            None => cast(&tensor(g, "grad")?),
            // loss = ½ pᵀAp + bᵀp, so ∇ = A p + b (p is a row here).
            Some((a, b)) => (a * store.value(id).transpose()).transpose() + b,
        };
        store.grad_mut(id).copy_from(&grad);
        opt.step(&mut store).map_err(|e| e.to_string())?;
        assert_close(
            &format!("params after step {k}"),
            &widen(store.value(id)),
            &tensor(w, "params")?,
            rtol,
            atol,
        )?;
        for (key, r) in &scalars {
            let state = serde_json::to_value(opt.state()).map_err(|e| e.to_string())?;
            let got = find_key(&state, key)
                .and_then(number)
                .ok_or_else(|| format!("no number `{key}` in the optimizer's state"))?;
            let want = number(&r[k]).ok_or_else(|| format!("`{key}[{k}]` is not a number"))?;
            close_scalar(&format!("{key} after step {k}"), got, want, rtol, atol)?;
        }
        for (key, r) in &records {
            let mut eval = store.params().clone();
            opt.eval_params(&mut eval).map_err(|e| e.to_string())?;
            assert_close(
                &format!("{key} after step {k}"),
                &widen(eval.value(id)),
                &tensor(&r[k], key)?,
                rtol,
                atol,
            )?;
        }
    }
    let used = provided - usize::from(hessian.is_pending());
    if used != estimates.len() {
        return Err(format!(
            "{used} of {} Hessian estimates used",
            estimates.len()
        ));
    }
    Ok(())
}

/// The lists the case records under `keys` (those it has), each checked
/// to hold one entry per step.
fn per_step<'c>(
    case: &'c Value,
    keys: &[&'static str],
    steps: usize,
) -> Result<Vec<(&'static str, &'c Vec<Value>)>, String> {
    let mut out = Vec::new();
    for &key in keys {
        if let Some(r) = case.get(key) {
            let r = r
                .as_array()
                .ok_or_else(|| format!("`{key}` is not a list"))?;
            if r.len() != steps {
                return Err(format!("`{key}` and `grads` differ in length"));
            }
            out.push((key, r));
        }
    }
    Ok(out)
}

/// Sophia's Hessian-diagonal estimates, in the order its estimator is
/// called: with `hessian_probes` and a quadratic objective, Hutchinson's
/// `r ⊙ (A r)` computed here from each probe `r` (and checked against the
/// recorded `hessian_estimates`); otherwise the recorded estimates.
fn hessian_estimates(case: &Value) -> Result<Vec<Vec<f64>>, String> {
    let Some(recorded) = case.get("hessian_estimates") else {
        return Ok(Vec::new());
    };
    let recorded = recorded
        .as_array()
        .ok_or("`hessian_estimates` is not a list")?
        .iter()
        .map(|e| tensor(e, "hessian_estimates"))
        .collect::<Result<Vec<_>, _>>()?;
    let probes = match case.get("hessian_probes") {
        None | Some(Value::Null) => {
            return Ok(recorded.iter().map(|e| e.as_slice().to_vec()).collect());
        }
        Some(p) => p.as_array().ok_or("`hessian_probes` is not a list")?,
    };
    let a = match &case["objective"] {
        Value::Null => return Err("`hessian_probes` without a quadratic objective".into()),
        o => tensor(&o["A"], "A")?,
    };
    if probes.len() != recorded.len() {
        return Err("`hessian_probes` and `hessian_estimates` differ in length".into());
    }
    probes
        .iter()
        .zip(&recorded)
        .map(|(r, want)| {
            let r = tensor(r, "hessian_probes")?;
            let ar = (&a * r.transpose()).transpose();
            let est = r.component_mul(&ar);
            assert_close("Hutchinson estimate r ⊙ (A r)", &est, want, 1e-12, 0.0)?;
            Ok(est.as_slice().to_vec())
        })
        .collect()
}

/// Every optax case in precision `S`; returns the count checked.
fn run_all<S: Scalar>(tol: (f64, f64)) -> usize {
    common::run_all::<S>(Harness::Optax, &[("optimizers", check_optimizer::<S>)], tol)
}

#[test]
fn every_optax_case_matches_optax_in_f64() {
    assert!(run_all::<f64>((1e-10, 0.0)) > 0);
}

#[test]
fn every_optax_case_matches_optax_in_f32() {
    assert!(run_all::<f32>((1e-5, 5e-7)) > 0);
}
