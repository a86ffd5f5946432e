//! [`ArgError`]: the one shape of "bad argument" every descent crate returns.

use std::borrow::Cow;
use std::fmt;

/// An argument (a hyperparameter, a config field, a size) whose value is not
/// allowed: which argument, the value given, and what is required of it.
///
/// Every crate's error wraps it as one variant, `Error::Arg`, with `From`, so
/// a constructor validating its arguments writes
/// `return Err(ArgError::new("p", p, "must be in [0, 1]").into())` or uses
/// the checks of [`range`](crate::range), and `?` does the rest.
///
/// # Examples
///
/// ```
/// use descent_core::ArgError;
///
/// let err = ArgError::new("lr", -0.1, "expected a finite value >= 0");
/// assert_eq!(err.to_string(), "invalid `lr` = -0.1: expected a finite value >= 0");
/// assert!(matches!(err, ArgError { name: "lr", .. }));
/// assert_eq!(err.value, "-0.1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("invalid `{name}` = {value}: {reason}")]
pub struct ArgError {
    /// The argument's name as the user knows it (PyTorch's, in snake case:
    /// `lr`, `betas.0`, `t_0`, `p`).
    pub name: &'static str,
    /// The rejected value, formatted with `Display`.
    pub value: String,
    /// What the argument must satisfy, e.g. `expected [0, 1)` or
    /// `must be at least 1`.
    pub reason: Cow<'static, str>,
}

impl ArgError {
    /// The error for argument `name` given `value`, which fails `reason`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_core::ArgError;
    ///
    /// let err = ArgError::new("size", "(0, 3)", "both sides must be positive");
    /// assert_eq!(err.to_string(), "invalid `size` = (0, 3): both sides must be positive");
    /// ```
    pub fn new(
        name: &'static str,
        value: impl fmt::Display,
        reason: impl Into<Cow<'static, str>>,
    ) -> Self {
        ArgError {
            name,
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}
