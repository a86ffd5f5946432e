//! The `Storage` trait: where finished trials are kept, so a study survives a crash.

mod journal;

pub use journal::JournalStorage;

use crate::{FrozenTrial, Result};
use std::path::PathBuf;

/// Something found wrong while loading a storage, skipped rather than fatal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadWarning {
    /// A line that does not parse as a trial (a torn write, a corrupt byte).
    CorruptLine {
        /// The journal file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// Why it did not parse.
        reason: String,
    },
    /// A trial number that appears again; the first record is kept.
    DuplicateTrial {
        /// The journal file.
        path: PathBuf,
        /// The 1-based line number of the repeat.
        line: usize,
        /// The trial's number.
        number: u64,
    },
}

impl std::fmt::Display for LoadWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadWarning::CorruptLine { path, line, reason } => {
                write!(f, "{}: line {line} skipped: {reason}", path.display())
            }
            LoadWarning::DuplicateTrial { path, line, number } => write!(
                f,
                "{}: line {line} skipped: trial {number} is already recorded",
                path.display()
            ),
        }
    }
}

/// What a storage holds: its finished trials, and what was skipped on the way.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// Finished trials, in the order they were recorded.
    pub trials: Vec<FrozenTrial>,
    /// Lines skipped, each reported once.
    pub warnings: Vec<LoadWarning>,
}

/// Keeps finished trials durably; a study replays [`Storage::load`] when it
/// opens and calls [`Storage::append`] for each finished trial before
/// starting the next one.
///
/// A shared database serving many worker processes would implement the same
/// two methods.
pub trait Storage: Send {
    /// Every finished trial recorded so far.
    fn load(&mut self) -> Result<Loaded>;

    /// Records a finished trial; when this returns `Ok`, the trial survives a
    /// crash of the process.
    fn append(&mut self, trial: &FrozenTrial) -> Result<()>;
}

/// Keeps trials in memory only (the default of a study).
///
/// # Examples
///
/// ```
/// use descent_hpo::{FrozenTrial, MemoryStorage, Storage};
///
/// let mut storage = MemoryStorage::new();
/// storage.append(&FrozenTrial::running(0))?;
/// assert_eq!(storage.load()?.trials.len(), 1);
/// # Ok::<(), descent_hpo::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStorage {
    trials: Vec<FrozenTrial>,
}

impl MemoryStorage {
    /// An empty in-memory storage.
    pub fn new() -> Self {
        MemoryStorage::default()
    }
}

impl Storage for MemoryStorage {
    fn load(&mut self) -> Result<Loaded> {
        Ok(Loaded {
            trials: self.trials.clone(),
            warnings: Vec::new(),
        })
    }

    fn append(&mut self, trial: &FrozenTrial) -> Result<()> {
        self.trials.push(trial.clone());
        Ok(())
    }
}
