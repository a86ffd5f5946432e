//! Range checks for hyperparameters, shared by every crate that validates
//! arguments at construction. Each returns an [`ArgError`] (reason
//! `expected <range>`), which every crate's error takes with `From`, so call
//! sites just use `?`.

pub use crate::arg::ArgError;

/// A hyperparameter outside its valid range (NaN is always outside).
///
/// No longer returned: the checks below return [`ArgError`], into which this
/// converts (reason `expected {expected}`).
#[deprecated(since = "0.1.0", note = "the range checks return `ArgError`")]
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("{name} = {value} is out of range: expected {expected}")]
pub struct OutOfRange {
    /// The hyperparameter's name, as the user knows it (`lr`, `betas.0`, ...).
    pub name: &'static str,
    /// The rejected value.
    pub value: f64,
    /// The valid range, e.g. `[0, 1)`.
    pub expected: &'static str,
}

/// `Ok` when `ok` holds and `value` is not NaN; otherwise names the range.
///
/// # Examples
///
/// ```
/// use descent_core::range::{check, positive};
///
/// assert!(check("beta", 0.5, 0.5 < 1.0, "< 1").is_ok());
/// let err = positive("eps", 0.0).unwrap_err();
/// assert_eq!((err.name, &*err.reason), ("eps", "expected a finite value > 0"));
/// assert!(positive("eps", f64::NAN).is_err());
/// ```
pub fn check(
    name: &'static str,
    value: f64,
    ok: bool,
    expected: &'static str,
) -> Result<(), ArgError> {
    if ok && !value.is_nan() {
        Ok(())
    } else {
        Err(ArgError::new(name, value, format!("expected {expected}")))
    }
}

#[allow(deprecated)]
impl From<OutOfRange> for ArgError {
    fn from(e: OutOfRange) -> Self {
        ArgError::new(e.name, e.value, format!("expected {}", e.expected))
    }
}

/// `value >= 0` and finite.
pub fn non_negative(name: &'static str, value: f64) -> Result<(), ArgError> {
    check(
        name,
        value,
        value >= 0.0 && value.is_finite(),
        "a finite value >= 0",
    )
}

/// `value > 0` and finite.
pub fn positive(name: &'static str, value: f64) -> Result<(), ArgError> {
    check(
        name,
        value,
        value > 0.0 && value.is_finite(),
        "a finite value > 0",
    )
}

/// `0 <= value < 1`.
pub fn unit_interval(name: &'static str, value: f64) -> Result<(), ArgError> {
    check(name, value, (0.0..1.0).contains(&value), "[0, 1)")
}

/// `0 <= value <= 1`.
pub fn closed_unit_interval(name: &'static str, value: f64) -> Result<(), ArgError> {
    check(name, value, (0.0..=1.0).contains(&value), "[0, 1]")
}
