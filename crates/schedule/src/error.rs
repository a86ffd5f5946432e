//! The typed errors of `descent-schedule`, raised once, at construction.

/// An invalid schedule argument, found when the schedule is built.
///
/// Every constructor validates its arguments and returns one of these; `lr`
/// never re-checks.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A bad argument: a number outside its range (not positive, negative,
    /// not finite, outside an interval, too small), named as in PyTorch.
    #[error(transparent)]
    Arg(#[from] ArgError),
    /// No longer returned: [`Error::Arg`] with reason `must be positive`.
    #[deprecated(
        since = "0.1.0",
        note = "no longer returned; match `Error::Arg(ArgError { .. })`"
    )]
    /// An argument that must be greater than zero is not.
    #[error("`{name}` must be positive, got {value}")]
    NonPositive {
        /// The argument's name (PyTorch's, in snake case).
        name: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// No longer returned: [`Error::Arg`] with reason `must not be negative`.
    #[deprecated(
        since = "0.1.0",
        note = "no longer returned; match `Error::Arg(ArgError { .. })`"
    )]
    /// An argument that must be zero or more is negative.
    #[error("`{name}` must not be negative, got {value}")]
    Negative {
        /// The argument's name.
        name: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// No longer returned: [`Error::Arg`] with reason `must be finite`.
    #[deprecated(
        since = "0.1.0",
        note = "no longer returned; match `Error::Arg(ArgError { .. })`"
    )]
    /// An argument is NaN or infinite.
    #[error("`{name}` must be finite, got {value}")]
    NonFinite {
        /// The argument's name.
        name: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// No longer returned: [`Error::Arg`] with reason `must lie in <range>`.
    #[deprecated(
        since = "0.1.0",
        note = "no longer returned; match `Error::Arg(ArgError { .. })`"
    )]
    /// An argument lies outside its allowed interval.
    #[error("`{name}` must lie in {range}, got {value}")]
    OutOfRange {
        /// The argument's name.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// The allowed interval, e.g. `[0, 1)`.
        range: &'static str,
    },
    /// A list of steps (milestones, change points) decreases somewhere.
    #[error("`{name}` must be non-decreasing, but entry {index} ({value}) follows {previous}")]
    OutOfOrder {
        /// The list's name.
        name: &'static str,
        /// Index of the first entry smaller than its predecessor.
        index: usize,
        /// That entry.
        value: u64,
        /// Its predecessor.
        previous: u64,
    },
    /// Two lists that must have related lengths do not.
    #[error("`{name}` must have {expected} entries, got {got}")]
    LengthMismatch {
        /// The list's name.
        name: &'static str,
        /// The expected number of entries.
        expected: usize,
        /// The number given.
        got: usize,
    },
    /// A list that needs at least one entry is empty.
    #[error("`{name}` must not be empty")]
    Empty {
        /// The list's name.
        name: &'static str,
    },
    /// OneCycleLR's warm-up phase would end at step 0 (`pct_start * total_steps == 1`),
    /// which divides by zero in PyTorch too.
    #[error(
        "one-cycle warm-up ends at step 0 (pct_start {pct_start} * total_steps {total_steps} = 1)"
    )]
    EmptyWarmup {
        /// The `pct_start` given.
        pct_start: f64,
        /// The number of steps of the cycle.
        total_steps: u64,
    },
    /// No longer returned: [`Error::Arg`] with reason `must be at least <min>`.
    #[deprecated(
        since = "0.1.0",
        note = "no longer returned; match `Error::Arg(ArgError { .. })`"
    )]
    /// A step count is too small compared with another one.
    #[error("`{name}` must be at least {min}, got {value}")]
    TooShort {
        /// The argument's name.
        name: &'static str,
        /// The value given.
        value: u64,
        /// The smallest allowed value.
        min: u64,
    },
    /// A step count computed from the arguments does not fit in a `u64`.
    #[error("`{name}` overflows u64")]
    Overflow {
        /// What was being computed.
        name: &'static str,
    },
}

/// The old second name of [`Error`]; every crate's error is `<crate>::Error`.
#[deprecated(since = "0.1.0", note = "use `descent_schedule::Error`")]
pub type ScheduleError = Error;

pub use descent_core::ArgError;

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `value > 0` and finite.
pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64> {
    finite(name, value)?;
    if value > 0.0 {
        Ok(value)
    } else {
        Err(ArgError::new(name, value, "must be positive").into())
    }
}

/// `value >= 0` and finite.
pub(crate) fn non_negative(name: &'static str, value: f64) -> Result<f64> {
    finite(name, value)?;
    if value >= 0.0 {
        Ok(value)
    } else {
        Err(ArgError::new(name, value, "must not be negative").into())
    }
}

/// Not NaN nor infinite.
pub(crate) fn finite(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(ArgError::new(name, value, "must be finite").into())
    }
}

/// An integer count that must be at least 1.
pub(crate) fn positive_count(name: &'static str, value: u64) -> Result<u64> {
    if value > 0 {
        Ok(value)
    } else {
        Err(ArgError::new(name, value, "must be positive").into())
    }
}

/// `value` within the unit interval `range`: one of `"[0, 1]"`, `"(0, 1]"`,
/// `"[0, 1)"`, `"(0, 1)"`, whose brackets say which ends are allowed.
pub(crate) fn unit_interval(name: &'static str, value: f64, range: &'static str) -> Result<f64> {
    let lo_ok = if range.starts_with('(') {
        value > 0.0
    } else {
        value >= 0.0
    };
    let hi_ok = if range.ends_with(')') {
        value < 1.0
    } else {
        value <= 1.0
    };
    if lo_ok && hi_ok {
        Ok(value)
    } else {
        Err(ArgError::new(name, value, format!("must lie in {range}")).into())
    }
}

/// A non-decreasing list of steps.
pub(crate) fn non_decreasing(name: &'static str, steps: &[u64]) -> Result<()> {
    match steps.windows(2).position(|w| w[1] < w[0]) {
        None => Ok(()),
        Some(i) => Err(Error::OutOfOrder {
            name,
            index: i + 1,
            value: steps[i + 1],
            previous: steps[i],
        }),
    }
}
