//! The typed errors of `descent-augment`.

use std::path::PathBuf;

/// Errors raised while configuring augmentations or reading a lexicon.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A bad argument: a configuration value, size, probability or range
    /// that is not allowed.
    #[error(transparent)]
    Arg(#[from] ArgError),
    /// No longer returned: a bad argument is [`Error::Arg`] (same fields,
    /// same message).
    #[deprecated(
        since = "0.1.0",
        note = "no longer returned; match `Error::Arg(ArgError { .. })`"
    )]
    #[error("invalid `{name}` = {value}: {reason}")]
    InvalidConfig {
        /// The parameter's name.
        name: &'static str,
        /// The rejected value, formatted.
        value: String,
        /// What is required of it.
        reason: &'static str,
    },
    /// A buffer's length does not match the image dimensions.
    #[error("{what}: expected {expected} values, got {got}")]
    ShapeMismatch {
        /// Which buffer.
        what: &'static str,
        /// The length required.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// A lexicon file could not be read.
    #[error("{}: cannot read: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A lexicon file is not in the expected format.
    #[error("{}: malformed at line {line}: {reason}", file.display())]
    Malformed {
        /// The file.
        file: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The JPEG codec failed on an image (never expected for a valid image).
    #[error("jpeg codec: {reason}")]
    Codec {
        /// The codec's message.
        reason: String,
    },
    /// No WordNet database was found in any of the directories looked in.
    #[error(
        "wordnet not found; looked in: {}; pass `--wordnet DIR` or set WNHOME",
        looked.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    MissingWordNet {
        /// Every directory looked in, in order.
        looked: Vec<PathBuf>,
    },
}

impl Error {
    /// An [`Error::Malformed`].
    pub(crate) fn malformed(
        file: &std::path::Path,
        line: usize,
        reason: impl Into<String>,
    ) -> Self {
        Error::Malformed {
            file: file.to_owned(),
            line,
            reason: reason.into(),
        }
    }
}

pub use descent_core::ArgError;

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Checks `lo <= hi` (and both finite) for a range parameter.
pub(crate) fn check_range(name: &'static str, (lo, hi): (f32, f32)) -> Result<()> {
    if lo.is_finite() && hi.is_finite() && lo <= hi {
        Ok(())
    } else {
        Err(Error::Arg(ArgError::new(
            name,
            format!("({lo}, {hi})"),
            "must be a finite range with lo <= hi",
        )))
    }
}

/// Checks `0 <= p <= 1`.
pub(crate) fn check_prob(name: &'static str, p: f64) -> Result<()> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(Error::Arg(ArgError::new(
            name,
            p,
            "must be a probability in [0, 1]",
        )))
    }
}
