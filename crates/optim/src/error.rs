//! The typed errors of `descent-optim`.

/// Errors raised when building an optimizer, restoring its state or clipping.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A bad argument: a hyperparameter outside its valid range, named as in
    /// PyTorch (`lr`, `betas.0`, ...), a group or layer index that does not exist.
    #[error(transparent)]
    Arg(#[from] ArgError),
    /// No longer returned: a hyperparameter outside its range is [`Error::Arg`].
    #[deprecated(
        since = "0.1.0",
        note = "no longer returned; match `Error::Arg(ArgError { .. })`"
    )]
    #[error("hyperparameter `{name}` = {value} is out of range: expected {expected}")]
    OutOfRange {
        /// The hyperparameter, named as in PyTorch (`lr`, `betas.0`, ...).
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// The valid range, e.g. `[0, 1)`.
        expected: &'static str,
    },
    /// Nesterov momentum needs a positive momentum and zero dampening.
    #[error(
        "nesterov momentum requires momentum > 0 and dampening = 0 (got momentum {momentum}, dampening {dampening})"
    )]
    NesterovRequiresMomentum {
        /// The momentum given.
        momentum: f64,
        /// The dampening given.
        dampening: f64,
    },
    /// An optimizer needs at least one parameter group.
    #[error("an optimizer needs at least one parameter group")]
    NoGroups,
    /// A group index past the last group.
    #[error("no parameter group {index} (there are {len})")]
    NoSuchGroup {
        /// The index asked for.
        index: usize,
        /// The number of groups.
        len: usize,
    },
    /// The store stepped is not the one the optimizer was built for.
    #[error(
        "store mismatch: the optimizer was built for {expected} parameters of sizes {expected_numel:?}, the store has {got} of sizes {got_numel:?}"
    )]
    StoreMismatch {
        /// Parameters at construction.
        expected: usize,
        /// Their element counts.
        expected_numel: Vec<usize>,
        /// Parameters in the store stepped.
        got: usize,
        /// Their element counts.
        got_numel: Vec<usize>,
    },
    /// A saved state does not fit this optimizer (other groups, transforms or parameters).
    #[error("saved optimizer state does not fit: {reason}")]
    StateMismatch {
        /// What differs.
        reason: String,
    },
    /// A metric was given to an optimizer none of whose groups has a plateau schedule.
    #[error("no parameter group has a plateau schedule to observe the metric")]
    NoPlateau,
    /// A momentum was set or scheduled on a group whose chain has no momentum
    /// stage (an `Sgd` built with `momentum: 0.0`, Adagrad, Adadelta).
    #[error("parameter group {group} has no momentum (nor beta1) to set")]
    NoMomentum {
        /// The group.
        group: usize,
    },
    /// A hyperparameter name that no optimizer has.
    #[error(
        "unknown hyperparameter `{name}`: expected lr, momentum, betas.0, betas.1, eps or weight_decay"
    )]
    UnknownHyperparam {
        /// The name given.
        name: String,
    },
    /// A hyperparameter read or set on a group whose chain does not have it
    /// (`betas.1` of an SGD group, `weight_decay` of a group built without decay).
    #[error("parameter group {group} has no hyperparameter `{name}`")]
    NoHyperparam {
        /// The group.
        group: usize,
        /// The hyperparameter's name.
        name: &'static str,
    },
    /// A parameter of a shape the optimizer does not support reached it
    /// (a one-row parameter, PyTorch's 1-d tensor, in a Muon group).
    #[error("{optimizer} does not support parameter `{name}` of shape {rows} x {cols}: {expected}")]
    UnsupportedShape {
        /// The optimizer (or stage).
        optimizer: &'static str,
        /// The parameter's name.
        name: String,
        /// Its rows.
        rows: usize,
        /// Its columns.
        cols: usize,
        /// What it supports, and what to do instead.
        expected: &'static str,
    },
    /// The total gradient norm is NaN or infinite and `error_if_nonfinite` was set.
    #[error("the total norm of order {norm_type} of the gradients is non-finite ({total_norm})")]
    NonFiniteNorm {
        /// The norm's order.
        norm_type: f64,
        /// The norm found.
        total_norm: f64,
    },
}

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub use descent_core::ArgError;
pub(crate) use descent_core::range::{closed_unit_interval, non_negative, positive, unit_interval};
