//! The typed errors of `descent-hpo-plot`.

use std::path::PathBuf;

/// Errors raised while preparing or writing a plot.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The trials hold nothing this plot can show (no completed trial with a
    /// finite value, no intermediate value, fewer than two distinct values
    /// of a contour's parameter, …); Optuna draws an empty figure and logs a
    /// warning in these cases.
    #[error("{plot}: nothing to plot: {reason}")]
    NothingToPlot {
        /// The plot (Optuna's function name).
        plot: &'static str,
        /// What was missing.
        reason: String,
    },
    /// A parameter asked for that no completed trial holds.
    #[error("{plot}: parameter `{name}` does not exist in the study's completed trials")]
    UnknownParam {
        /// The plot.
        plot: &'static str,
        /// The parameter.
        name: String,
    },
    /// Plain input data that does not fit the plot (a Pareto point with the
    /// wrong number of objectives, a negative importance, …).
    #[error("{plot}: invalid input: {reason}")]
    InvalidInput {
        /// The plot.
        plot: &'static str,
        /// What was wrong, naming the offending item.
        reason: String,
    },
    /// A file name whose extension is neither `png` nor `svg`.
    #[error("{}: unsupported image format: the file name must end in .png or .svg", path.display())]
    UnsupportedFormat {
        /// The path given.
        path: PathBuf,
    },
    /// The drawing library failed.
    #[error("{plot}: drawing failed: {message}")]
    Draw {
        /// The plot.
        plot: &'static str,
        /// The library's message.
        message: String,
    },
    /// The embedded font could not be loaded.
    #[error("the embedded DejaVu Sans font did not load")]
    Font,
    /// The image could not be encoded or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The study could not be read.
    #[error(transparent)]
    Hpo(#[from] descent_hpo::Error),
}

impl Error {
    pub(crate) fn nothing(plot: &'static str, reason: impl Into<String>) -> Self {
        Error::NothingToPlot {
            plot,
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid(plot: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            plot,
            reason: reason.into(),
        }
    }
}

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
