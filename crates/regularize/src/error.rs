//! The typed errors of `descent-regularize`.

/// Errors raised when building a regularizer or restoring a snapshot.
///
/// Hyperparameters are validated once, in the constructors; the per-step
/// methods only fail when what they are handed does not fit (another store,
/// no snapshot to roll back to).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A bad argument: a hyperparameter outside its valid range.
    #[error(transparent)]
    Arg(#[from] ArgError),
    /// No longer returned: a hyperparameter outside its range is [`Error::Arg`].
    #[deprecated(
        since = "0.1.0",
        note = "no longer returned; match `Error::Arg(ArgError { .. })`"
    )]
    #[error("`{name}` = {value} is out of range: expected {expected}")]
    OutOfRange {
        /// The hyperparameter's name.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// The valid range, e.g. `a finite value >= 0`.
        expected: &'static str,
    },
    /// A snapshot does not fit the store it is restored into.
    #[error("snapshot does not fit the store: {reason}")]
    SnapshotMismatch {
        /// What differs.
        reason: String,
    },
    /// The guard saw a bad loss before it had any good state to roll back to.
    #[error("loss {loss} at step {step} is unstable and there is no snapshot to roll back to")]
    NoSnapshot {
        /// The optimizer step at which the loss was observed.
        step: u64,
        /// The offending loss.
        loss: f64,
    },
    /// The guard rolled back to the same snapshot too many times in a row.
    #[error("gave up after {rollbacks} consecutive rollbacks to the snapshot of step {step}")]
    TooManyRollbacks {
        /// The step of the snapshot rolled back to.
        step: u64,
        /// The rollbacks made without a good step in between.
        rollbacks: usize,
    },
    /// The optimizer already has a learning-rate multiplier, which the guard
    /// would replace; pass it as the base of `InstabilityGuard::with_schedule`.
    #[error(
        "the optimizer already has a learning-rate multiplier; give it to the guard as the base of its schedule"
    )]
    LrMultiplierInUse,
    /// A loss evaluated by a sharpness measure is NaN or infinite.
    #[error("the loss is not finite ({loss}) {during}")]
    NonFiniteLoss {
        /// The loss found.
        loss: f64,
        /// Where it was met.
        during: &'static str,
    },
    /// A saved state (a guard's record and snapshot) does not fit together.
    #[error("invalid saved state: {reason}")]
    InvalidState {
        /// What does not fit.
        reason: String,
    },
    /// An optimizer operation failed during a rollback.
    #[error(transparent)]
    Optim(#[from] descent_optim::Error),
    /// Recording a learning-rate change failed.
    #[error(transparent)]
    Schedule(#[from] descent_schedule::Error),
}

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub use descent_core::ArgError;
pub(crate) use descent_core::range::{check, non_negative, positive};
