//! A study in a relational database, in Optuna's own RDB schema, shared by
//! any number of worker processes (descent's or Python Optuna's) on one
//! machine (SQLite) or many hosts (PostgreSQL).
//!
//! Optuna 5.0.0's schema (alembic revision `v3.2.0.a`,
//! `version_info.schema_version` 12), chosen by URL: `sqlite:///path`
//! (rusqlite, WAL, busy timeout) or `postgresql://user@host/db` (the postgres
//! crate, reconnecting after the server went away). A study scales to many
//! hosts by URL alone: every worker opens the same study with
//! `Study::load_or_create`, the database numbers trials and holds every
//! record, and Python Optuna workers, `optuna.load_study` and Optuna's
//! dashboard read and write the same tables.
//!
//! Invariant: a trial is numbered as Optuna does, the count of the study's
//! earlier trials, inside the transaction that inserts it under the study's
//! write lock (`BEGIN IMMEDIATE` on SQLite, `SELECT … FOR UPDATE` of the study
//! row on PostgreSQL), so no number is handed out twice across processes and
//! hosts.
//! Invariant: with heartbeats on, a RUNNING trial whose heartbeat (the
//! database's clock) is older than the grace period is failed by the next
//! worker that starts a trial, and with retry a WAITING copy with its params
//! and Optuna's `failed_trial`/`retry_history` system attributes is enqueued
//! in the same transaction; a worker never fails its own trials, and a late
//! `tell` of a failed trial is refused (`NotRunning`) while `optimize` goes on.
//! A database error is `Error::Database`, never a panic.

mod codec;
mod conn;
mod ops;
mod population;
mod schema;

use super::{Loaded, Storage};
use crate::{Direction, Error, FrozenTrial, Result, TrialState};
use conn::{Conn, db_error};
use ops::*;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

pub(crate) use population::{MemberRow, PopDb, PopTx, parse_db_time};
pub use schema_info::{OPTUNA_ALEMBIC_REVISION, OPTUNA_SCHEMA_VERSION};

mod schema_info {
    /// The alembic revision of Optuna's RDB schema that [`RdbStorage`](super::RdbStorage)
    /// reads and writes (the head of Optuna 3.2 through 5.0).
    pub const OPTUNA_ALEMBIC_REVISION: &str = super::schema::ALEMBIC_REVISION;
    /// The `version_info.schema_version` of that revision.
    pub const OPTUNA_SCHEMA_VERSION: i64 = super::schema::SCHEMA_VERSION;
}

/// Optuna's `RetryFailedTrialCallback`: a trial failed for a stale heartbeat
/// is enqueued again (state `WAITING`) with its parameters, its origin in the
/// system attributes `failed_trial` (the first failed number) and
/// `retry_history` (every failed number so far).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RetryConfig {
    /// Retries of one original trial at most (`None`: unlimited, Optuna's default).
    pub max_retry: Option<u32>,
    /// Copy the failed trial's intermediate values to the retry.
    pub inherit_intermediate_values: bool,
}

/// Arguments of [`RdbStorage::open`]; `Default` is Optuna's `RDBStorage`
/// defaults (no heartbeat, no retry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RdbConfig {
    /// Record a heartbeat for each running trial this often; a trial whose
    /// heartbeat is older than the grace period is failed by the next worker
    /// that starts a trial.
    pub heartbeat_interval: Option<Duration>,
    /// How old a heartbeat may get; `None` is twice the interval (Optuna's default).
    pub grace_period: Option<Duration>,
    /// Enqueue a copy of each trial failed for a stale heartbeat.
    pub retry: Option<RetryConfig>,
}

/// One study in a database with Optuna's RDB schema, chosen by URL:
/// `sqlite:///relative.db`, `sqlite:////absolute/path.db` or
/// `postgresql://user@host:port/db`.
///
/// Trial numbers are claimed by the database as Optuna claims them (insert
/// the trial, then number = the count of the study's earlier trials, in one
/// transaction under the study's write lock), so no number is handed out
/// twice, whichever process or host asks. Every finished trial is committed
/// before [`Storage::append`] returns; parameters and intermediate values are
/// written as they are drawn and reported, as Optuna does, so Optuna's tools
/// see running trials too. A database that goes away gives
/// [`Error::Database`]; PostgreSQL reconnects on the next call.
///
/// # Examples
///
/// ```
/// use descent_hpo::{Direction, RdbConfig, RdbStorage, Study, StudyConfig};
///
/// let path = std::env::temp_dir().join(format!("descent-hpo-rdb-doc-{}.db", std::process::id()));
/// # let _ = std::fs::remove_file(&path);
/// let url = format!("sqlite:///{}", path.display());
/// let storage = RdbStorage::open(&url, "doc", Direction::Minimize, RdbConfig::default())?;
/// let study = Study::new(StudyConfig::default()).with_storage(storage)?;
/// study.optimize(|t| t.suggest_float("x", -1.0, 1.0).map(|x| x * x), 4, 1)?;
/// // Any process may open the same study by URL and name.
/// let again = Study::load_or_create(&url, "doc", StudyConfig::default())?;
/// assert_eq!(again.trials().len(), 4);
/// # drop((study, again)); // the last connection closed, SQLite removes its -wal and -shm files
/// # std::fs::remove_file(&path).unwrap();
/// # Ok::<(), descent_hpo::Error>(())
/// ```
#[derive(Debug)]
pub struct RdbStorage {
    conn: Conn,
    study_id: i64,
    config: RdbConfig,
    /// Trials this storage runs: number → trial_id.
    running: BTreeMap<u64, i64>,
    /// Finished trial numbers already handed to the study.
    seen: BTreeSet<u64>,
}

impl RdbStorage {
    /// Opens the study `study_name` at `url`, creating the schema (Optuna's,
    /// alembic revision [`OPTUNA_ALEMBIC_REVISION`]) and the study as needed.
    /// An existing study must have the same `direction`; an existing schema
    /// must be that revision.
    pub fn open(
        url: &str,
        study_name: &str,
        direction: Direction,
        config: RdbConfig,
    ) -> Result<Self> {
        Self::open_with_directions(url, study_name, &[direction], config)
    }

    /// [`RdbStorage::open`] for a study with one direction per objective
    /// (one row each in Optuna's `study_directions`; the trials' values go
    /// to `trial_values`, one row per objective), which Optuna opens as a
    /// multi-objective study. An existing study must have the same directions.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_hpo::{Direction, RdbConfig, RdbStorage, Study, StudyConfig};
    ///
    /// let path = std::env::temp_dir().join(format!("descent-hpo-rdb-mo-{}.db", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let url = format!("sqlite:///{}", path.display());
    /// let directions = [Direction::Minimize, Direction::Maximize];
    /// let storage = RdbStorage::open_with_directions(&url, "mo", &directions, RdbConfig::default())?;
    /// let config = StudyConfig { directions: directions.to_vec(), ..Default::default() };
    /// let study = Study::new(config.clone()).with_storage(storage)?;
    /// study.optimize(|t| t.suggest_float("x", 0.0, 1.0).map(|x| [x, x * x]), 3, 1)?;
    /// let again = Study::load_or_create(&url, "mo", config)?;
    /// assert_eq!(again.trials()[2].values.len(), 2);
    /// # drop((study, again));
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), descent_hpo::Error>(())
    /// ```
    pub fn open_with_directions(
        url: &str,
        study_name: &str,
        directions: &[Direction],
        config: RdbConfig,
    ) -> Result<Self> {
        if directions.is_empty() {
            return Err(Error::config(
                "directions",
                "[]",
                "a study needs at least one direction",
            ));
        }
        if let Some(interval) = config.heartbeat_interval
            && interval.is_zero()
        {
            return Err(Error::config("heartbeat_interval", "0s", "must be > 0"));
        }
        let mut conn = Conn::open(url)?;
        let study_id = conn.transaction("create study", true, |tx| {
            ensure_schema(tx)?;
            find_or_create_study(tx, study_name, directions)
        })?;
        Ok(RdbStorage {
            conn,
            study_id,
            config,
            running: BTreeMap::new(),
            seen: BTreeSet::new(),
        })
    }

    fn grace(&self) -> Option<Duration> {
        let interval = self.config.heartbeat_interval?;
        Some(self.config.grace_period.unwrap_or(2 * interval))
    }

    /// Finished trials of the study not handed out yet.
    fn fetch_new_finished(&mut self) -> Result<Vec<FrozenTrial>> {
        let study_id = self.study_id;
        let seen = &self.seen;
        let trials = self.conn.transaction("read trials", false, |tx| {
            let rows = tx.query(
                &format!(
                    "SELECT trial_id, number, state, datetime_start, datetime_complete \
                     FROM trials WHERE study_id = ? AND state IN {FINISHED} ORDER BY number"
                ),
                &[study_id.into()],
            )?;
            let mut heads = Vec::new();
            for r in rows {
                let number = number_of(&r[1])?;
                if !seen.contains(&number) {
                    heads.push(r);
                }
            }
            read_trials(tx, heads)
        })?;
        self.seen.extend(trials.iter().map(|t| t.number));
        Ok(trials)
    }

    /// Every trial of the study, by number, with its state as Optuna names
    /// it (`RUNNING`, `WAITING`, `COMPLETE`, `PRUNED`, `FAIL`).
    pub fn trial_states(&mut self) -> Result<Vec<(u64, String)>> {
        let study_id = self.study_id;
        self.conn.transaction("read states", false, |tx| {
            let rows = tx.query(
                "SELECT number, state FROM trials WHERE study_id = ? ORDER BY number",
                &[study_id.into()],
            )?;
            rows.iter()
                .map(|r| Ok((number_of(&r[0])?, r[1].text().unwrap_or("").to_owned())))
                .collect()
        })
    }

    /// Copies a finished trial into this study with the next free number (its
    /// own number is not kept: the database numbers trials, as Optuna's `copy_study`).
    pub fn import(&mut self, trial: &FrozenTrial) -> Result<u64> {
        if !trial.state.is_finished() {
            return Err(Error::NotRunning {
                number: trial.number,
            });
        }
        let study_id = self.study_id;
        let number = self.conn.transaction("import trial", true, |tx| {
            lock_study(tx, study_id)?;
            let start = now_utc();
            let (trial_id, number) = insert_trial(tx, study_id, "RUNNING", Some(&start))?;
            write_running(tx, trial_id, trial)?;
            finish(tx, trial_id, trial)?;
            Ok(number)
        })?;
        self.seen.insert(number);
        Ok(number)
    }
}

impl Storage for RdbStorage {
    fn load(&mut self) -> Result<Loaded> {
        self.seen.clear();
        Ok(Loaded {
            trials: self.fetch_new_finished()?,
            warnings: Vec::new(),
        })
    }

    fn append(&mut self, trial: &FrozenTrial) -> Result<()> {
        let trial_id = *self.running.get(&trial.number).ok_or(Error::NotRunning {
            number: trial.number,
        })?;
        let result = self
            .conn
            .transaction("finish trial", true, |tx| finish(tx, trial_id, trial));
        if !matches!(result, Err(Error::Database { .. })) {
            // Finished, or failed by another worker: either way no longer ours.
            self.running.remove(&trial.number);
        }
        if result.is_ok() {
            self.seen.insert(trial.number);
        }
        result
    }

    fn claim(&mut self) -> Result<Option<FrozenTrial>> {
        let study_id = self.study_id;
        let grace = self.grace();
        let retry = self.config.retry;
        let heartbeat = self.config.heartbeat_interval.is_some();
        let own = &self.running;
        let (trial_id, trial) = self.conn.transaction("claim trial", true, |tx| {
            lock_study(tx, study_id)?;
            if let Some(grace) = grace {
                fail_stale(tx, study_id, grace, retry, own)?;
            }
            let start = now_utc();
            let waiting = tx.query(
                "SELECT trial_id FROM trials WHERE study_id = ? AND state = 'WAITING' \
                 ORDER BY trial_id LIMIT 1",
                &[study_id.into()],
            )?;
            let (trial_id, mut trial) = match waiting.first().and_then(|r| r[0].int()) {
                Some(trial_id) => {
                    tx.exec(
                        "UPDATE trials SET state = 'RUNNING', datetime_start = ? \
                         WHERE trial_id = ? AND state = 'WAITING'",
                        &[start.clone().into(), trial_id.into()],
                    )?;
                    let head = tx.query(
                        "SELECT trial_id, number, state, datetime_start, datetime_complete \
                         FROM trials WHERE trial_id = ?",
                        &[trial_id.into()],
                    )?;
                    let trial = read_trials(tx, head)?
                        .pop()
                        .ok_or_else(|| db_error("claim trial", "waiting trial vanished"))?;
                    (trial_id, trial)
                }
                None => {
                    let (trial_id, number) = insert_trial(tx, study_id, "RUNNING", Some(&start))?;
                    (trial_id, FrozenTrial::running(number))
                }
            };
            if heartbeat {
                tx.exec(
                    &format!(
                        "INSERT INTO trial_heartbeats (trial_id, heartbeat) VALUES (?, {})",
                        db_now(tx.dialect())
                    ),
                    &[trial_id.into()],
                )?;
            }
            trial.state = TrialState::Running;
            trial.set_values(Vec::new());
            Ok((trial_id, trial))
        })?;
        self.running.insert(trial.number, trial_id);
        Ok(Some(trial))
    }

    fn record_running(&mut self, trial: &FrozenTrial) -> Result<()> {
        let Some(&trial_id) = self.running.get(&trial.number) else {
            return Err(Error::NotRunning {
                number: trial.number,
            });
        };
        self.conn.transaction("record trial", true, |tx| {
            let state = tx.query(
                "SELECT state FROM trials WHERE trial_id = ?",
                &[trial_id.into()],
            )?;
            if state.first().and_then(|r| r[0].text()) != Some("RUNNING") {
                return Err(Error::NotRunning {
                    number: trial.number,
                });
            }
            write_running(tx, trial_id, trial)
        })
    }

    fn refresh(&mut self) -> Result<Vec<FrozenTrial>> {
        self.fetch_new_finished()
    }

    fn heartbeat(&mut self, numbers: &[u64]) -> Result<()> {
        let ids: Vec<i64> = numbers
            .iter()
            .filter_map(|n| self.running.get(n).copied())
            .collect();
        if ids.is_empty() || self.config.heartbeat_interval.is_none() {
            return Ok(());
        }
        self.conn.transaction("heartbeat", true, |tx| {
            let sql = format!(
                "UPDATE trial_heartbeats SET heartbeat = {} WHERE trial_id = ?",
                db_now(tx.dialect())
            );
            for &id in &ids {
                tx.exec(&sql, &[id.into()])?;
            }
            Ok(())
        })
    }

    fn heartbeat_interval(&self) -> Option<Duration> {
        self.config.heartbeat_interval
    }

    fn import(&mut self, trial: &FrozenTrial) -> Result<()> {
        RdbStorage::import(self, trial).map(|_| ())
    }
}
