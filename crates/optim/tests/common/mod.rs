//! What the two golden parity harnesses (`parity.rs`, PyTorch; and
//! `parity_optax.rs`, optax) share: reading tensors and lists out of a case,
//! the precision casts, the field check, and the data-driven driver that
//! runs every case of a harness and fails on a kind it has no check for.

use descent_core::Scalar;
use descent_testkit::assert_close;
use descent_testkit::golden::{self, Harness, Tensor};
use nalgebra::DMatrix;
use serde_json::Value;

/// A check of one case in precision `S` at tolerance `(rtol, atol)`.
pub type Check = fn(&Value, (f64, f64)) -> Result<(), String>;

/// `m` in precision `S`.
pub fn cast<S: Scalar>(m: &DMatrix<f64>) -> DMatrix<S> {
    m.map(S::cast)
}

/// `m` in f64, for comparison with a recorded tensor.
pub fn widen<S: Scalar>(m: &DMatrix<S>) -> DMatrix<f64> {
    m.map(|x| x.as_f64())
}

/// The tensor `v`, an error naming `what` if it is not one.
pub fn tensor(v: &Value, what: &str) -> Result<DMatrix<f64>, String> {
    Tensor::parse(v)
        .map(|t| t.matrix())
        .map_err(|e| format!("{what}: {e}"))
}

/// The list `v`, an error naming `what` if it is not one.
pub fn list<'a>(v: &'a Value, what: &str) -> Result<&'a [Value], String> {
    v.as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| format!("no `{what}` list"))
}

/// Fails on a field of `case` outside `fields` (no check would read it).
pub fn check_fields(case: &Value, fields: &[&str]) -> Result<(), String> {
    let obj = case.as_object().ok_or("case is not an object")?;
    match obj.keys().find(|k| !fields.contains(&k.as_str())) {
        Some(k) => Err(format!("unknown case field `{k}` (no check reads it)")),
        None => Ok(()),
    }
}

/// Two scalars compared as 1×1 tensors.
pub fn close_scalar(what: &str, got: f64, want: f64, rtol: f64, atol: f64) -> Result<(), String> {
    let m = |x| DMatrix::from_element(1, 1, x);
    assert_close(what, &m(got), &m(want), rtol, atol)
}

/// Runs every case routed to `harness` in precision `S` through the check
/// `checks` names for its kind (a kind with no check fails), panics listing
/// every failure, and returns the count checked.
pub fn run_all<S: Scalar>(harness: Harness, checks: &[(&str, Check)], tol: (f64, f64)) -> usize {
    let cases = golden::cases(harness).unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    for case in &cases {
        let Some((_, check)) = checks.iter().find(|(kind, _)| *kind == case.kind) else {
            failures.push(format!("{}: no check for kind `{}`", case.at(), case.kind));
            continue;
        };
        if let Err(e) = check(&case.value, tol) {
            failures.push(format!("{}: {e}", case.at()));
        }
    }
    println!(
        "{}: checked {} golden cases ({} failed)",
        S::NAME,
        cases.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    cases.len()
}
