//! A study in a relational database, in Optuna's own RDB schema, shared by
//! any number of worker processes (descent's or Python Optuna's) on one
//! machine (SQLite) or many hosts (PostgreSQL).

mod codec;
mod conn;
mod schema;

use super::{Loaded, Storage};
use crate::{Direction, Error, FrozenTrial, Result, TrialState};
use codec::{distribution_from_json, distribution_json, from_internal, to_internal};
use conn::{Conn, Dialect, Tx, Val, db_error, format_timestamp, parse_timestamp};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

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

const FINISHED: &str = "('COMPLETE', 'PRUNED', 'FAIL')";

fn state_name(state: TrialState) -> &'static str {
    match state {
        TrialState::Running => "RUNNING",
        TrialState::Complete => "COMPLETE",
        TrialState::Pruned => "PRUNED",
        TrialState::Fail => "FAIL",
    }
}

fn state_from(name: &str) -> Option<TrialState> {
    Some(match name {
        "RUNNING" => TrialState::Running,
        "COMPLETE" => TrialState::Complete,
        "PRUNED" => TrialState::Pruned,
        "FAIL" => TrialState::Fail,
        _ => return None,
    })
}

fn now_utc() -> String {
    format_timestamp(chrono::Utc::now().naive_utc())
}

/// The database's clock, as Optuna reads it for heartbeats (on SQLite to the
/// millisecond: `CURRENT_TIMESTAMP`'s whole seconds would age a fresh beat by up to 1 s).
fn db_now(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "strftime('%Y-%m-%d %H:%M:%f', 'now')",
        Dialect::Postgres => "LOCALTIMESTAMP",
    }
}

fn number_of(v: &Val) -> Result<u64> {
    v.int()
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| db_error("read", format!("trial number {v:?}")))
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
        if let Some(interval) = config.heartbeat_interval
            && interval.is_zero()
        {
            return Err(Error::config("heartbeat_interval", "0s", "must be > 0"));
        }
        let mut conn = Conn::open(url)?;
        let study_id = conn.transaction("create study", true, |tx| {
            ensure_schema(tx)?;
            find_or_create_study(tx, study_name, direction)
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

fn ensure_schema(tx: &mut Tx<'_>) -> Result<()> {
    let postgres = tx.dialect() == Dialect::Postgres;
    if postgres {
        // One creator at a time; the others find the tables made.
        tx.exec("SELECT pg_advisory_xact_lock(7281092)", &[])?;
    }
    for sql in schema::statements(postgres) {
        tx.exec(&sql, &[])?;
    }
    let version = tx.query("SELECT schema_version FROM version_info", &[])?;
    if version.is_empty() {
        tx.exec(
            "INSERT INTO version_info (version_info_id, schema_version, library_version) \
             VALUES (1, ?, ?)",
            &[
                schema::SCHEMA_VERSION.into(),
                schema::LIBRARY_VERSION.into(),
            ],
        )?;
    }
    let revision = tx.query("SELECT version_num FROM alembic_version", &[])?;
    match revision.first().and_then(|r| r[0].text()) {
        None => {
            tx.exec(
                "INSERT INTO alembic_version (version_num) VALUES (?)",
                &[schema::ALEMBIC_REVISION.into()],
            )?;
        }
        Some(found) if found != schema::ALEMBIC_REVISION => {
            return Err(Error::SchemaVersion {
                found: found.to_owned(),
                expected: schema::ALEMBIC_REVISION,
            });
        }
        Some(_) => {}
    }
    Ok(())
}

fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Minimize => "MINIMIZE",
        Direction::Maximize => "MAXIMIZE",
    }
}

fn find_or_create_study(tx: &mut Tx<'_>, name: &str, direction: Direction) -> Result<i64> {
    let found = tx.query(
        "SELECT study_id FROM studies WHERE study_name = ?",
        &[name.into()],
    )?;
    if let Some(id) = found.first().and_then(|r| r[0].int()) {
        let dirs = tx.query(
            "SELECT direction FROM study_directions WHERE study_id = ? ORDER BY objective",
            &[id.into()],
        )?;
        let stored: Vec<&str> = dirs.iter().filter_map(|r| r[0].text()).collect();
        if stored != [direction_name(direction)] {
            return Err(Error::StudyMismatch {
                study: name.to_owned(),
                stored: stored.join(","),
                wanted: direction_name(direction),
            });
        }
        return Ok(id);
    }
    let id = tx.insert_id(
        "INSERT INTO studies (study_name) VALUES (?) RETURNING study_id",
        &[name.into()],
    )?;
    tx.exec(
        &format!(
            "INSERT INTO study_directions (direction, study_id, objective) VALUES ('{}', ?, 0)",
            direction_name(direction)
        ),
        &[id.into()],
    )?;
    Ok(id)
}

/// Takes the study's write lock (SQLite's `BEGIN IMMEDIATE` already holds the database's).
fn lock_study(tx: &mut Tx<'_>, study_id: i64) -> Result<()> {
    if tx.dialect() == Dialect::Postgres {
        tx.query(
            "SELECT study_id FROM studies WHERE study_id = ? FOR UPDATE",
            &[study_id.into()],
        )?;
    }
    Ok(())
}

/// Inserts a trial and numbers it as Optuna does: the count of the study's
/// earlier trials. The caller holds the study's write lock.
fn insert_trial(
    tx: &mut Tx<'_>,
    study_id: i64,
    state: &str,
    start: Option<&str>,
) -> Result<(i64, u64)> {
    let trial_id = tx.insert_id(
        &format!(
            "INSERT INTO trials (number, study_id, state, datetime_start) \
             VALUES (NULL, ?, '{state}', ?) RETURNING trial_id"
        ),
        &[study_id.into(), start.map(str::to_owned).into()],
    )?;
    let count = tx.query(
        "SELECT COUNT(trial_id) FROM trials WHERE study_id = ? AND trial_id < ?",
        &[study_id.into(), trial_id.into()],
    )?;
    let number = count
        .first()
        .and_then(|r| r[0].int())
        .ok_or_else(|| db_error("count trials", "no count"))?;
    tx.exec(
        "UPDATE trials SET number = ? WHERE trial_id = ?",
        &[number.into(), trial_id.into()],
    )?;
    Ok((trial_id, number as u64))
}

/// Writes what a running trial has drawn and reported (anything already
/// written is left as it is: a parameter is drawn once, a step reported once).
fn write_running(tx: &mut Tx<'_>, trial_id: i64, trial: &FrozenTrial) -> Result<()> {
    for (name, value) in trial.params.iter() {
        let Some(d) = trial.distributions.get(name) else {
            continue;
        };
        tx.exec(
            "INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) \
             VALUES (?, ?, ?, ?) ON CONFLICT (trial_id, param_name) DO NOTHING",
            &[
                trial_id.into(),
                name.into(),
                to_internal(d, value).into(),
                distribution_json(d).into(),
            ],
        )?;
    }
    for (step, value) in &trial.intermediate {
        let (v, ty) = codec::value_type(*value);
        let step = i64::try_from(*step).map_err(|e| db_error("write step", e))?;
        tx.exec(
            &format!(
                "INSERT INTO trial_intermediate_values \
                 (trial_id, step, intermediate_value, intermediate_value_type) \
                 VALUES (?, ?, ?, '{ty}') ON CONFLICT (trial_id, step) DO NOTHING"
            ),
            &[trial_id.into(), step.into(), v.into()],
        )?;
    }
    for (key, value) in &trial.attrs {
        set_system_attr(tx, trial_id, key, &value.to_string())?;
    }
    Ok(())
}

fn set_system_attr(tx: &mut Tx<'_>, trial_id: i64, key: &str, json: &str) -> Result<()> {
    tx.exec(
        "INSERT INTO trial_system_attributes (trial_id, \"key\", value_json) VALUES (?, ?, ?) \
         ON CONFLICT (trial_id, \"key\") DO UPDATE SET value_json = excluded.value_json",
        &[trial_id.into(), key.into(), json.into()],
    )?;
    Ok(())
}

/// Marks a running trial finished with its value; `Err(NotRunning)` if
/// another worker failed it first (a stale heartbeat).
fn finish(tx: &mut Tx<'_>, trial_id: i64, trial: &FrozenTrial) -> Result<()> {
    let changed = tx.exec(
        &format!(
            "UPDATE trials SET state = '{}', datetime_complete = ? \
             WHERE trial_id = ? AND state = 'RUNNING'",
            state_name(trial.state)
        ),
        &[now_utc().into(), trial_id.into()],
    )?;
    if changed == 0 {
        return Err(Error::NotRunning {
            number: trial.number,
        });
    }
    write_running(tx, trial_id, trial)?;
    if let Some(value) = trial.value {
        let (v, ty) = codec::value_type(value);
        let ty = if ty == "NAN" { "FINITE" } else { ty };
        tx.exec(
            &format!(
                "INSERT INTO trial_values (trial_id, objective, value, value_type) \
                 VALUES (?, 0, ?, '{ty}')"
            ),
            &[trial_id.into(), v.into()],
        )?;
    }
    if let Some(message) = &trial.message {
        set_system_attr(
            tx,
            trial_id,
            "fail_reason",
            &serde_json::json!(message).to_string(),
        )?;
    }
    Ok(())
}

/// The trials whose head rows (`trial_id, number, state, start, complete`)
/// are given, with their params, values, intermediate values and attributes.
fn read_trials(tx: &mut Tx<'_>, heads: Vec<Vec<Val>>) -> Result<Vec<FrozenTrial>> {
    let mut out: BTreeMap<i64, FrozenTrial> = BTreeMap::new();
    for r in &heads {
        let trial_id = r[0].int().ok_or_else(|| db_error("read", "trial_id"))?;
        let mut t = FrozenTrial::running(number_of(&r[1])?);
        t.state = r[2]
            .text()
            .and_then(state_from)
            .ok_or_else(|| db_error("read", format!("trial state {:?}", r[2])))?;
        if let (Some(a), Some(b)) = (r[3].text(), r[4].text()) {
            let (a, b) = (parse_timestamp(a)?, parse_timestamp(b)?);
            t.duration_secs = (b - a).as_seconds_f64().max(0.0);
        }
        out.insert(trial_id, t);
    }
    let ids: Vec<i64> = out.keys().copied().collect();
    for chunk in ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let params: Vec<Val> = chunk.iter().map(|&i| i.into()).collect();
        let rows = tx.query(
            &format!(
                "SELECT trial_id, param_name, param_value, distribution_json \
                 FROM trial_params WHERE trial_id IN ({marks})"
            ),
            &params,
        )?;
        for r in rows {
            let (Some(id), Some(name), Some(json)) = (r[0].int(), r[1].text(), r[3].text()) else {
                continue;
            };
            let d = distribution_from_json(json)?;
            let v = from_internal(&d, r[2].float().unwrap_or(f64::NAN))?;
            if let Some(t) = out.get_mut(&id) {
                t.params.insert(name, v);
                t.distributions.insert(name.to_owned(), d);
            }
        }
        let rows = tx.query(
            &format!(
                "SELECT trial_id, value, value_type FROM trial_values \
                 WHERE objective = 0 AND trial_id IN ({marks})"
            ),
            &params,
        )?;
        for r in rows {
            if let (Some(id), Some(ty)) = (r[0].int(), r[2].text())
                && let Some(t) = out.get_mut(&id)
            {
                t.value = Some(codec::from_value_type(r[1].float(), ty));
            }
        }
        let rows = tx.query(
            &format!(
                "SELECT trial_id, step, intermediate_value, intermediate_value_type \
                 FROM trial_intermediate_values WHERE trial_id IN ({marks})"
            ),
            &params,
        )?;
        for r in rows {
            if let (Some(id), Some(step), Some(ty)) = (r[0].int(), r[1].int(), r[3].text())
                && let (Some(t), Ok(step)) = (out.get_mut(&id), u64::try_from(step))
            {
                t.intermediate
                    .insert(step, codec::from_value_type(r[2].float(), ty));
            }
        }
        let rows = tx.query(
            &format!(
                "SELECT trial_id, \"key\", value_json FROM trial_system_attributes \
                 WHERE trial_id IN ({marks})"
            ),
            &params,
        )?;
        for r in rows {
            if let (Some(id), Some(key), Some(json)) = (r[0].int(), r[1].text(), r[2].text())
                && let Some(t) = out.get_mut(&id)
            {
                let value: serde_json::Value =
                    serde_json::from_str(json).map_err(|e| Error::Decode {
                        what: "value_json",
                        reason: e.to_string(),
                    })?;
                if key == "fail_reason" {
                    t.message = value.as_str().map(str::to_owned);
                } else {
                    t.attrs.insert(key.to_owned(), value);
                }
            }
        }
    }
    let mut trials: Vec<FrozenTrial> = out.into_values().collect();
    trials.sort_by_key(|t| t.number);
    Ok(trials)
}

/// Fails the study's running trials (not `own`) whose heartbeat is older
/// than `grace`, enqueueing retries; the numbers failed.
fn fail_stale(
    tx: &mut Tx<'_>,
    study_id: i64,
    grace: Duration,
    retry: Option<RetryConfig>,
    own: &BTreeMap<u64, i64>,
) -> Result<Vec<u64>> {
    let now_sql = format!("SELECT {}", db_now(tx.dialect()));
    let now = tx.query(&now_sql, &[])?;
    let now = parse_timestamp(
        now.first()
            .and_then(|r| r[0].text())
            .ok_or_else(|| db_error("read clock", "no time"))?,
    )?;
    let rows = tx.query(
        "SELECT t.trial_id, t.number, h.heartbeat FROM trials t \
         JOIN trial_heartbeats h ON h.trial_id = t.trial_id \
         WHERE t.study_id = ? AND t.state = 'RUNNING'",
        &[study_id.into()],
    )?;
    let mut failed = Vec::new();
    for r in rows {
        let (Some(trial_id), Some(beat)) = (r[0].int(), r[2].text()) else {
            continue;
        };
        let number = number_of(&r[1])?;
        let age = now - parse_timestamp(beat)?;
        if own.contains_key(&number) || age.as_seconds_f64() <= grace.as_secs_f64() {
            continue;
        }
        let changed = tx.exec(
            "UPDATE trials SET state = 'FAIL', datetime_complete = ? \
             WHERE trial_id = ? AND state = 'RUNNING'",
            &[now_utc().into(), trial_id.into()],
        )?;
        if changed == 1 {
            failed.push(number);
            if let Some(retry) = retry {
                enqueue_retry(tx, study_id, trial_id, number, retry)?;
            }
        }
    }
    Ok(failed)
}

/// `RetryFailedTrialCallback.__call__` on the failed trial `trial_id`.
fn enqueue_retry(
    tx: &mut Tx<'_>,
    study_id: i64,
    trial_id: i64,
    number: u64,
    retry: RetryConfig,
) -> Result<()> {
    let attrs = tx.query(
        "SELECT \"key\", value_json FROM trial_system_attributes WHERE trial_id = ?",
        &[trial_id.into()],
    )?;
    let mut system: BTreeMap<String, String> = attrs
        .iter()
        .filter_map(|r| Some((r[0].text()?.to_owned(), r[1].text()?.to_owned())))
        .collect();
    let mut history: Vec<u64> = system
        .get("retry_history")
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    history.push(number);
    if let Some(max) = retry.max_retry
        && (max as usize) < history.len()
    {
        return Ok(());
    }
    system
        .entry("failed_trial".into())
        .or_insert_with(|| number.to_string());
    system.insert(
        "retry_history".into(),
        serde_json::to_string(&history).expect("numbers encode"),
    );
    system.remove("fail_reason");
    let (new_id, _) = insert_trial(tx, study_id, "WAITING", None)?;
    tx.exec(
        "INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) \
         SELECT CAST(? AS INTEGER), param_name, param_value, distribution_json FROM trial_params WHERE trial_id = ?",
        &[new_id.into(), trial_id.into()],
    )?;
    tx.exec(
        "INSERT INTO trial_user_attributes (trial_id, \"key\", value_json) \
         SELECT CAST(? AS INTEGER), \"key\", value_json FROM trial_user_attributes WHERE trial_id = ?",
        &[new_id.into(), trial_id.into()],
    )?;
    if retry.inherit_intermediate_values {
        tx.exec(
            "INSERT INTO trial_intermediate_values \
             (trial_id, step, intermediate_value, intermediate_value_type) \
             SELECT CAST(? AS INTEGER), step, intermediate_value, intermediate_value_type \
             FROM trial_intermediate_values WHERE trial_id = ?",
            &[new_id.into(), trial_id.into()],
        )?;
    }
    for (key, json) in &system {
        set_system_attr(tx, new_id, key, json)?;
    }
    Ok(())
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
            trial.value = None;
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
