//! The typed errors of `descent-hpo`.

use std::path::PathBuf;

/// Errors raised by search spaces, samplers, studies and storages.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A bad argument of a sampler, pruner, study or PBT run: core's range
    /// checks and this crate's own (the workspace's one shape of a bad
    /// argument: name, rejected value, requirement).
    #[error(transparent)]
    Arg(#[from] descent_core::ArgError),
    /// A numeric range whose `low` is above its `high` (or not finite).
    #[error("parameter `{name}`: empty range: low {low} must be finite and <= high {high}")]
    EmptyRange {
        /// The parameter.
        name: String,
        /// The lower bound given.
        low: f64,
        /// The upper bound given.
        high: f64,
    },
    /// A log-scaled range whose `low` is not positive.
    #[error("parameter `{name}`: log scale needs low > 0, got {low}")]
    NonPositiveLog {
        /// The parameter.
        name: String,
        /// The lower bound given.
        low: f64,
    },
    /// A step that is not positive and finite, or is combined with log scale.
    #[error("parameter `{name}`: invalid step {step}: {reason}")]
    InvalidStep {
        /// The parameter.
        name: String,
        /// The step given.
        step: f64,
        /// What is required of it.
        reason: &'static str,
    },
    /// A categorical parameter without choices.
    #[error("parameter `{name}`: categorical with no choices")]
    EmptyCategorical {
        /// The parameter.
        name: String,
    },
    /// The same parameter was suggested twice in one trial with different distributions.
    #[error("parameter `{name}`: suggested again with a different distribution")]
    DistributionChanged {
        /// The parameter.
        name: String,
    },
    /// A parameter was read that the configuration does not hold.
    #[error("parameter `{name}` is not in the configuration")]
    MissingParam {
        /// The parameter.
        name: String,
    },
    /// A parameter was read as the wrong type.
    #[error("parameter `{name}` is {found}, not {wanted}")]
    WrongType {
        /// The parameter.
        name: String,
        /// The type asked for.
        wanted: &'static str,
        /// The type held.
        found: &'static str,
    },
    /// A grid misses a parameter the objective suggests.
    #[error("parameter `{name}` is not in the grid")]
    NotInGrid {
        /// The parameter.
        name: String,
    },
    /// Every point of the grid has been (or is being) evaluated.
    #[error("the grid of {size} points is exhausted")]
    GridExhausted {
        /// The number of grid points.
        size: usize,
    },
    /// No longer returned: a bad argument is [`Error::Arg`] (same fields,
    /// same message).
    #[deprecated(
        since = "0.1.0",
        note = "no longer returned; match `Error::Arg(ArgError { .. })`"
    )]
    #[error("invalid `{name}` = {value}: {reason}")]
    InvalidConfig {
        /// The argument.
        name: &'static str,
        /// The rejected value, formatted.
        value: String,
        /// What is required of it.
        reason: &'static str,
    },
    /// A trial was told twice, or told to a study that did not ask it.
    #[error("trial {number} is not running in this study")]
    NotRunning {
        /// The trial's number.
        number: u64,
    },
    /// Every trial number has been handed out (a storage holds the largest one).
    #[error("no trial number is left after {last}")]
    TrialNumbersExhausted {
        /// The largest number recorded.
        last: u64,
    },
    /// The study has no completed trial.
    #[error("the study has no completed trial")]
    NoCompletedTrial,
    /// The storage could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The storage file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The database failed or could not be reached (it went away, a lock
    /// timed out); nothing the failed call would have committed is half-written.
    #[error("database: {op}: {message}")]
    Database {
        /// What was being done.
        op: &'static str,
        /// The driver's message.
        message: String,
    },
    /// A storage URL that names no supported database.
    #[error("storage url `{url}`: {reason}")]
    StorageUrl {
        /// The URL given.
        url: String,
        /// What was expected.
        reason: &'static str,
    },
    /// The database holds another revision of Optuna's schema.
    #[error("the database has Optuna schema revision {found}, descent reads {expected}")]
    SchemaVersion {
        /// The alembic revision found.
        found: String,
        /// The revision descent reads and writes.
        expected: &'static str,
    },
    /// An existing study whose directions differ from the ones asked for.
    #[error("study `{study}` has directions [{stored}], not [{wanted}]")]
    StudyMismatch {
        /// The study's name.
        study: String,
        /// Its stored directions.
        stored: String,
        /// The directions asked for.
        wanted: String,
    },
    /// A stored field that does not decode (a distribution, an attribute).
    #[error("cannot decode {what}: {reason}")]
    Decode {
        /// The field.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A trial could not be encoded for the storage.
    #[error("trial {number}: cannot encode: {source}")]
    Encode {
        /// The trial's number.
        number: u64,
        /// The underlying error.
        source: serde_json::Error,
    },
    /// Parameter importances cannot be assessed from these trials.
    #[error("cannot assess parameter importances: {reason}")]
    Importance {
        /// Why.
        reason: String,
    },
    /// A member of a population-based training run failed (its `train`,
    /// `save`, `load` or `set_hyperparams` erred or panicked).
    #[error("population member {member} at step {step}: {op}: {message}")]
    Member {
        /// The member's index in the population.
        member: usize,
        /// The member's step count when it failed.
        step: u64,
        /// What was being done.
        op: &'static str,
        /// The member's error.
        message: String,
    },
    /// A trial was paused without a checkpoint to resume from.
    #[error(
        "trial {number} has recorded no checkpoint: call Trial::set_checkpoint before pausing it"
    )]
    NoCheckpoint {
        /// The trial's number.
        number: u64,
    },
    /// A trial asked to resume is not paused, or was resumed already.
    #[error("trial {number} is not a paused trial waiting to be resumed")]
    NotPaused {
        /// The trial's number.
        number: u64,
    },
    /// An operation of single-objective studies (`best_value`, `best_trial`,
    /// `report`, `should_prune`, a single-objective sampler) on a study with
    /// several objectives (Optuna raises `RuntimeError` / `NotImplementedError`).
    #[error("`{op}` needs a single-objective study; this one has {n_objectives} objectives")]
    SingleObjectiveOnly {
        /// What was asked.
        op: &'static str,
        /// The study's number of objectives.
        n_objectives: usize,
    },
    /// Points or values whose number of objectives is not the one expected.
    #[error("{what}: expected {expected} objectives, got {got}")]
    ObjectiveCount {
        /// What was given.
        what: &'static str,
        /// The number of objectives expected.
        expected: usize,
        /// The number given.
        got: usize,
    },
}

impl Error {
    /// An [`Error::Arg`]: a bad argument of a sampler, pruner, study or PBT
    /// run (`value` is formatted with `Display`).
    pub(crate) fn config(
        name: &'static str,
        value: impl std::fmt::Display,
        reason: &'static str,
    ) -> Self {
        Error::Arg(descent_core::ArgError::new(name, value, reason))
    }
}

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_check_becomes_an_arg_error_naming_all_three() {
        let err: Error = descent_core::range::positive("sigma0", -1.0)
            .unwrap_err()
            .into();
        assert!(matches!(
            &err,
            Error::Arg(descent_core::ArgError { name: "sigma0", value, .. }) if value == "-1"
        ));
        assert!(
            err.to_string().starts_with("invalid `sigma0` = -1: "),
            "{err}"
        );
    }
}
