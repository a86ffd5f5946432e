//! The `Storage` trait: where finished trials are kept, so a study survives a crash.

mod journal;
mod rdb;

pub use journal::JournalStorage;
pub(crate) use rdb::{MemberRow, PopDb, PopTx, parse_db_time};
pub use rdb::{OPTUNA_ALEMBIC_REVISION, OPTUNA_SCHEMA_VERSION, RdbConfig, RdbStorage, RetryConfig};

use crate::{FrozenTrial, Result};
use std::path::PathBuf;
use std::time::Duration;

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
/// A storage shared by many processes ([`RdbStorage`]) also numbers the
/// trials ([`Storage::claim`]), records running ones as they go
/// ([`Storage::record_running`]), hands over trials others finished
/// ([`Storage::refresh`]) and keeps heartbeats; the provided methods are
/// those of a storage owned by one study.
pub trait Storage: Send {
    /// Every finished trial recorded so far.
    fn load(&mut self) -> Result<Loaded>;

    /// Records a finished trial; when this returns `Ok`, the trial survives a
    /// crash of the process.
    fn append(&mut self, trial: &FrozenTrial) -> Result<()>;

    /// Starts a trial in the storage, which numbers it (and may hand back an
    /// enqueued trial with its parameters set); `None` lets the study number
    /// it (the default).
    fn claim(&mut self) -> Result<Option<FrozenTrial>> {
        Ok(None)
    }

    /// Records what a running trial (one [`Storage::claim`] gave) has drawn
    /// and reported so far; the default keeps nothing until it finishes.
    fn record_running(&mut self, trial: &FrozenTrial) -> Result<()> {
        let _ = trial;
        Ok(())
    }

    /// Trials finished by other workers since the last load or refresh (none by default).
    fn refresh(&mut self) -> Result<Vec<FrozenTrial>> {
        Ok(Vec::new())
    }

    /// Records that the running trials `numbers` are alive.
    fn heartbeat(&mut self, numbers: &[u64]) -> Result<()> {
        let _ = numbers;
        Ok(())
    }

    /// How often [`Storage::heartbeat`] is wanted (never, by default).
    fn heartbeat_interval(&self) -> Option<Duration> {
        None
    }

    /// Copies a finished trial from another storage (the default appends it
    /// as it is; a database numbers it anew).
    fn import(&mut self, trial: &FrozenTrial) -> Result<()> {
        self.append(trial)
    }
}

/// Copies every finished trial of `from` into `to`, which must hold none yet;
/// the number copied.
///
/// # Examples
///
/// ```
/// use descent_hpo::{FrozenTrial, MemoryStorage, Storage, TrialState, copy_study};
///
/// let mut from = MemoryStorage::new();
/// let mut t = FrozenTrial::running(0);
/// t.state = TrialState::Complete;
/// t.value = Some(1.0);
/// from.append(&t)?;
/// let mut to = MemoryStorage::new();
/// assert_eq!(copy_study(&mut from, &mut to)?, 1);
/// assert_eq!(to.load()?.trials, [t]);
/// # Ok::<(), descent_hpo::Error>(())
/// ```
pub fn copy_study(from: &mut dyn Storage, to: &mut dyn Storage) -> Result<usize> {
    let existing = to.load()?.trials.len();
    if existing > 0 {
        return Err(crate::Error::config(
            "destination",
            format!("{existing} trials"),
            "must hold no trial yet",
        ));
    }
    let mut trials = from.load()?.trials;
    trials.sort_by_key(|t| t.number);
    for t in &trials {
        to.import(t)?;
    }
    Ok(trials.len())
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
