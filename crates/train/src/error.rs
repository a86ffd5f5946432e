//! The typed errors of `descent-train`.

use std::path::PathBuf;

/// What went wrong in a training run, a checkpoint or a range test.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The loss of a batch was NaN or infinite.
    #[error(
        "non-finite loss {value} at epoch {epoch}, optimizer step {step} (batch {batch} of the epoch)"
    )]
    NonFiniteLoss {
        /// The epoch (0-based).
        epoch: u64,
        /// Optimizer steps completed before the bad one.
        step: u64,
        /// The micro-batch's index within the epoch.
        batch: u64,
        /// The loss observed.
        value: f64,
    },
    /// A gradient element was NaN or infinite.
    #[error("non-finite gradient of `{param}` at epoch {epoch}, optimizer step {step}")]
    NonFiniteGrad {
        /// The epoch (0-based).
        epoch: u64,
        /// Optimizer steps completed before the bad one.
        step: u64,
        /// The first parameter whose gradient is not finite.
        param: String,
    },
    /// A bad argument: a number of the trainer's configuration out of its
    /// range (`batch_size` 0, a negative clipping norm, ...).
    #[error(transparent)]
    Arg(#[from] ArgError),
    /// Settings of the trainer that do not fit together or with the run (a
    /// monitored metric the run does not measure, SAM with accumulation).
    #[error("invalid training configuration: `{name}` {reason}")]
    Config {
        /// The argument.
        name: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// The dataset does not fit the loss or the model (no labels for a
    /// classification loss, no targets for a regression loss, ...).
    #[error("dataset `{dataset}`: {reason}")]
    Data {
        /// Which dataset (train, validation, test).
        dataset: String,
        /// What is wrong.
        reason: String,
    },
    /// A checkpoint could not be read or does not belong to this run; nothing
    /// was changed.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An optimizer error.
    #[error(transparent)]
    Optim(#[from] descent_optim::Error),
    /// A model-state error.
    #[error(transparent)]
    Nn(#[from] descent_nn::Error),
    /// An early-stopping, penalty or guard error (the guard gave up, say).
    #[error(transparent)]
    Regularize(#[from] descent_regularize::Error),
    /// A data error.
    #[error(transparent)]
    Dataset(#[from] descent_data::Error),
    /// An augmentation error.
    #[error(transparent)]
    Augment(#[from] descent_augment::Error),
    /// A callback asked to abort with an error.
    #[error("callback: {0}")]
    Callback(String),
}

impl Error {
    pub(crate) fn config(name: &'static str, reason: impl Into<String>) -> Self {
        Error::Config {
            name,
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn checkpoint(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Checkpoint {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

pub use descent_core::ArgError;

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
