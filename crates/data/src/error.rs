//! The typed errors of `descent-data`.

use std::fmt;
use std::path::PathBuf;

/// Where in a file a problem was found.
///
/// For gzipped files, byte offsets count the *decompressed* bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A 0-based byte offset.
    Byte(u64),
    /// A 1-based line number.
    Line(usize),
    /// A 1-based line and column (for JSON, whose files may be one line).
    LineColumn {
        /// The line.
        line: usize,
        /// The column.
        column: usize,
    },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Byte(b) => write!(f, "byte {b}"),
            Location::Line(l) => write!(f, "line {l}"),
            Location::LineColumn { line, column } => write!(f, "line {line} column {column}"),
        }
    }
}

/// Errors raised while reading, generating or batching data.
///
/// Every error about a file names the file and, where there is one, the
/// [`Location`] (byte offset or line) of the problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read at all.
    #[error("{}: cannot read: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file ends before the data its header or format promises.
    #[error("{}: truncated at {at}: expected {expected}", file.display())]
    Truncated {
        /// The file.
        file: PathBuf,
        /// Where the data ran out.
        at: Location,
        /// What was expected there.
        expected: String,
    },
    /// The file does not start with the expected magic number.
    #[error("{}: wrong magic number {found:#010x} at byte 0, expected {expected}", file.display())]
    BadMagic {
        /// The file.
        file: PathBuf,
        /// The magic numbers accepted.
        expected: String,
        /// The four bytes found, big-endian.
        found: u32,
    },
    /// A count does not agree with another count (a header against the
    /// data, or an image file against its label file).
    #[error("{}: count mismatch at {at}: {what}: expected {expected}, found {found}", file.display())]
    CountMismatch {
        /// The file.
        file: PathBuf,
        /// Where the mismatch was found.
        at: Location,
        /// What was counted.
        what: String,
        /// The count required.
        expected: usize,
        /// The count found.
        found: usize,
    },
    /// A label lies outside `0..n_classes`.
    #[error("{}: label {label} at {at} is out of range 0..{n_classes}", file.display())]
    LabelOutOfRange {
        /// The file.
        file: PathBuf,
        /// Where the label is.
        at: Location,
        /// The label found.
        label: i64,
        /// The number of classes.
        n_classes: usize,
    },
    /// The file is not in the expected format.
    #[error("{}: malformed at {at}: {reason}", file.display())]
    Malformed {
        /// The file.
        file: PathBuf,
        /// Where the problem is.
        at: Location,
        /// What is wrong.
        reason: String,
    },
    /// A dataset was not found in any of the data directories.
    #[error(
        "dataset `{set}` ({}) not found; looked in: {}; pass `--data DIR` or set DESCENT_DATA",
        files.join(", "),
        looked.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    MissingDataset {
        /// The dataset's folder name (`mnist`, `digits`, ...).
        set: String,
        /// The files the folder must hold (each plain or gzipped).
        files: Vec<String>,
        /// Every directory looked in, in order.
        looked: Vec<PathBuf>,
    },
    /// The data directory given explicitly does not hold a dataset (no
    /// other place is looked in).
    #[error(
        "data directory {} does not hold dataset `{set}`: looked for {} in {}",
        dir.display(),
        files.join(", "),
        looked.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" and ")
    )]
    NotInDataDir {
        /// The directory given.
        dir: PathBuf,
        /// The dataset's folder name.
        set: String,
        /// The files looked for (each plain or gzipped).
        files: Vec<String>,
        /// The folders looked in: `dir/set`, then `dir`.
        looked: Vec<PathBuf>,
    },
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
    /// A sample index is out of range for the dataset.
    #[error("sample index {index} is out of range for a dataset of {len} samples")]
    IndexOutOfRange {
        /// The index given.
        index: usize,
        /// The dataset's length.
        len: usize,
    },
    /// An operation needs class labels, but the dataset's targets are real
    /// values (regression).
    #[error("{what} needs class labels, but the dataset has real-valued targets")]
    NotClassification {
        /// The operation.
        what: &'static str,
    },
}

impl Error {
    /// A [`Error::Malformed`] with the file converted to a path.
    pub(crate) fn malformed(
        file: &std::path::Path,
        at: Location,
        reason: impl Into<String>,
    ) -> Self {
        Error::Malformed {
            file: file.to_owned(),
            at,
            reason: reason.into(),
        }
    }

    /// A [`Error::Truncated`] with the file converted to a path.
    pub(crate) fn truncated(
        file: &std::path::Path,
        at: Location,
        expected: impl Into<String>,
    ) -> Self {
        Error::Truncated {
            file: file.to_owned(),
            at,
            expected: expected.into(),
        }
    }
}

pub use descent_core::ArgError;

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
