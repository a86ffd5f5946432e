//! The statements of the RDB storage, each run inside a transaction the caller holds.

use super::codec::{self, distribution_from_json, distribution_json, from_internal, to_internal};
use super::conn::{Dialect, Tx, Val, db_error, format_timestamp, parse_timestamp};
use super::{RetryConfig, schema};
use crate::{Direction, Error, FrozenTrial, Result, TrialState};
use std::collections::BTreeMap;
use std::time::Duration;

pub(super) const FINISHED: &str = "('COMPLETE', 'PRUNED', 'FAIL')";

pub(super) fn state_name(state: TrialState) -> &'static str {
    match state {
        TrialState::Running => "RUNNING",
        TrialState::Complete => "COMPLETE",
        TrialState::Pruned => "PRUNED",
        TrialState::Fail => "FAIL",
    }
}

pub(super) fn state_from(name: &str) -> Option<TrialState> {
    Some(match name {
        "RUNNING" => TrialState::Running,
        "COMPLETE" => TrialState::Complete,
        "PRUNED" => TrialState::Pruned,
        "FAIL" => TrialState::Fail,
        _ => return None,
    })
}

pub(super) fn now_utc() -> String {
    format_timestamp(chrono::Utc::now().naive_utc())
}

/// The database's clock, as Optuna reads it for heartbeats (on SQLite to the
/// millisecond: `CURRENT_TIMESTAMP`'s whole seconds would age a fresh beat by up to 1 s).
pub(super) fn db_now(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "strftime('%Y-%m-%d %H:%M:%f', 'now')",
        Dialect::Postgres => "LOCALTIMESTAMP",
    }
}

pub(super) fn number_of(v: &Val) -> Result<u64> {
    v.int()
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| db_error("read", format!("trial number {v:?}")))
}

pub(super) fn ensure_schema(tx: &mut Tx<'_>) -> Result<()> {
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

pub(super) fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Minimize => "MINIMIZE",
        Direction::Maximize => "MAXIMIZE",
    }
}

pub(super) fn find_or_create_study(
    tx: &mut Tx<'_>,
    name: &str,
    directions: &[Direction],
) -> Result<i64> {
    let wanted: Vec<&str> = directions.iter().map(|&d| direction_name(d)).collect();
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
        if stored != wanted {
            return Err(Error::StudyMismatch {
                study: name.to_owned(),
                stored: stored.join(","),
                wanted: wanted.join(","),
            });
        }
        return Ok(id);
    }
    let id = tx.insert_id(
        "INSERT INTO studies (study_name) VALUES (?) RETURNING study_id",
        &[name.into()],
    )?;
    for (objective, d) in wanted.iter().enumerate() {
        tx.exec(
            &format!(
                "INSERT INTO study_directions (direction, study_id, objective) VALUES ('{d}', ?, ?)"
            ),
            &[id.into(), (objective as i64).into()],
        )?;
    }
    Ok(id)
}

/// Takes the study's write lock (SQLite's `BEGIN IMMEDIATE` already holds the database's).
pub(super) fn lock_study(tx: &mut Tx<'_>, study_id: i64) -> Result<()> {
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
pub(super) fn insert_trial(
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
pub(super) fn write_running(tx: &mut Tx<'_>, trial_id: i64, trial: &FrozenTrial) -> Result<()> {
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

pub(super) fn set_system_attr(tx: &mut Tx<'_>, trial_id: i64, key: &str, json: &str) -> Result<()> {
    tx.exec(
        "INSERT INTO trial_system_attributes (trial_id, \"key\", value_json) VALUES (?, ?, ?) \
         ON CONFLICT (trial_id, \"key\") DO UPDATE SET value_json = excluded.value_json",
        &[trial_id.into(), key.into(), json.into()],
    )?;
    Ok(())
}

/// Marks a running trial finished with its value; `Err(NotRunning)` if
/// another worker failed it first (a stale heartbeat).
pub(super) fn finish(tx: &mut Tx<'_>, trial_id: i64, trial: &FrozenTrial) -> Result<()> {
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
    for (objective, &value) in trial.objective_values().iter().enumerate() {
        let (v, ty) = codec::value_type(value);
        let ty = if ty == "NAN" { "FINITE" } else { ty };
        tx.exec(
            &format!(
                "INSERT INTO trial_values (trial_id, objective, value, value_type) \
                 VALUES (?, ?, ?, '{ty}')"
            ),
            &[trial_id.into(), (objective as i64).into(), v.into()],
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
pub(super) fn read_trials(tx: &mut Tx<'_>, heads: Vec<Vec<Val>>) -> Result<Vec<FrozenTrial>> {
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
                 WHERE trial_id IN ({marks}) ORDER BY trial_id, objective"
            ),
            &params,
        )?;
        let mut values: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
        for r in rows {
            if let (Some(id), Some(ty)) = (r[0].int(), r[2].text()) {
                values
                    .entry(id)
                    .or_default()
                    .push(codec::from_value_type(r[1].float(), ty));
            }
        }
        for (id, v) in values {
            if let Some(t) = out.get_mut(&id) {
                t.set_values(v);
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
pub(super) fn fail_stale(
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
pub(super) fn enqueue_retry(
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
