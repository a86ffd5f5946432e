//! The typed errors of `descent-core`.

/// Errors raised while building or querying a [`ParamStore`](crate::ParamStore).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter with this name is already registered.
    #[error("parameter `{name}` is already registered")]
    DuplicateName {
        /// The name registered twice.
        name: String,
    },
    /// A parameter name is not a dotted path of non-empty segments.
    #[error("invalid parameter name `{name}`: {reason}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No parameter has this name.
    #[error("no parameter named `{name}`")]
    UnknownParam {
        /// The name looked up.
        name: String,
    },
    /// A tensor does not have the shape the receiver expects.
    #[error("shape mismatch for {what}: expected {expected:?}, got {got:?}")]
    ShapeMismatch {
        /// What was being checked.
        what: String,
        /// The expected `(rows, cols)`.
        expected: (usize, usize),
        /// The shape found.
        got: (usize, usize),
    },
    /// A value that must be finite is NaN or infinite.
    #[error("{what} is not finite")]
    NonFinite {
        /// What was being checked.
        what: String,
    },
}

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
