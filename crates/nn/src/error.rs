//! The typed errors of `descent-nn`.

use std::path::PathBuf;

/// Errors raised while building layers or saving and loading model state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Registering a parameter in the store failed (duplicate or malformed name).
    #[error(transparent)]
    Core(#[from] descent_core::Error),
    /// A bad argument: a layer's configuration out of range (the reason
    /// names the layer), a tensor shape an initializer cannot use.
    #[error(transparent)]
    Arg(#[from] ArgError),
    /// No longer returned: a bad argument is [`Error::Arg`].
    #[deprecated(
        since = "0.1.0",
        note = "no longer returned; match `Error::Arg(ArgError { .. })`"
    )]
    #[error("invalid {layer} config: `{field}` = {value} ({reason})")]
    InvalidConfig {
        /// The layer, e.g. `Dropout`.
        layer: &'static str,
        /// The offending field.
        field: &'static str,
        /// Its value, formatted.
        value: String,
        /// What the field must satisfy.
        reason: &'static str,
    },
    /// A name is registered twice (as a parameter and a buffer, say).
    #[error("`{name}` is already registered")]
    DuplicateName {
        /// The name.
        name: String,
    },
    /// Reading or writing a state file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A state file is not valid safetensors.
    #[error("{}: not a valid safetensors file: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What the safetensors reader said.
        message: String,
    },
    /// A state does not fit the model; nothing was loaded.
    #[error(
        "state does not fit the model (nothing loaded): missing {missing:?}, unexpected {unexpected:?}, mismatched {mismatched:?}"
    )]
    StateMismatch {
        /// Names the model has and the state lacks.
        missing: Vec<String>,
        /// Names the state has and the model lacks.
        unexpected: Vec<String>,
        /// Tensors present in both with another shape or dtype.
        mismatched: Vec<TensorMismatch>,
    },
}

/// One tensor whose shape or dtype differs between a state file and the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorMismatch {
    /// The state-dict name, e.g. `0.weight`.
    pub name: String,
    /// PyTorch shape the model expects.
    pub expected_shape: Vec<usize>,
    /// Shape found in the file.
    pub got_shape: Vec<usize>,
    /// Dtype the model expects (`F32`, `F64` or `I64`).
    pub expected_dtype: String,
    /// Dtype found in the file.
    pub got_dtype: String,
}

pub use descent_core::ArgError;

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
