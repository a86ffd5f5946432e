//! Range checks for hyperparameters, shared by every crate that validates
//! arguments at construction. Each crate turns [`OutOfRange`] into its own
//! error type with `From`, so call sites just use `?`.

/// A hyperparameter outside its valid range (NaN is always outside).
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
/// assert_eq!((err.name, err.expected), ("eps", "a finite value > 0"));
/// assert!(positive("eps", f64::NAN).is_err());
/// ```
pub fn check(
    name: &'static str,
    value: f64,
    ok: bool,
    expected: &'static str,
) -> Result<(), OutOfRange> {
    if ok && !value.is_nan() {
        Ok(())
    } else {
        Err(OutOfRange {
            name,
            value,
            expected,
        })
    }
}

/// `value >= 0` and finite.
pub fn non_negative(name: &'static str, value: f64) -> Result<(), OutOfRange> {
    check(
        name,
        value,
        value >= 0.0 && value.is_finite(),
        "a finite value >= 0",
    )
}

/// `value > 0` and finite.
pub fn positive(name: &'static str, value: f64) -> Result<(), OutOfRange> {
    check(
        name,
        value,
        value > 0.0 && value.is_finite(),
        "a finite value > 0",
    )
}

/// `0 <= value < 1`.
pub fn unit_interval(name: &'static str, value: f64) -> Result<(), OutOfRange> {
    check(name, value, (0.0..1.0).contains(&value), "[0, 1)")
}

/// `0 <= value <= 1`.
pub fn closed_unit_interval(name: &'static str, value: f64) -> Result<(), OutOfRange> {
    check(name, value, (0.0..=1.0).contains(&value), "[0, 1]")
}
