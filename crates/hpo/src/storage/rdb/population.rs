//! The statements of a population-based training run whose population lives
//! in the study (`crate::pbt::shared`): members as trials, their state as
//! trial system attributes, scores as intermediate values, all in Optuna's
//! schema. Every write transaction takes the study's write lock first
//! (`BEGIN IMMEDIATE` on SQLite, the study row `FOR UPDATE` on PostgreSQL),
//! so the transactions of all workers on one study are serialized.

use super::codec::{self, distribution_json, to_internal};
use super::conn::{Conn, Tx, Val, db_error, parse_timestamp};
use super::ops::{db_now, ensure_schema, find_or_create_study, insert_trial, lock_study, now_utc};
use crate::{Direction, Distribution, Error, ParamValues, Result};
use serde_json::Value;
use std::collections::BTreeMap;

/// The prefix of every attribute the shared population writes.
pub(crate) const PREFIX: &str = "pbt:";

/// One member trial as stored: its row and its `pbt:` system attributes
/// (keys without the prefix).
#[derive(Debug, Clone)]
pub(crate) struct MemberRow {
    pub(crate) trial_id: i64,
    pub(crate) number: u64,
    /// Optuna's state name (`RUNNING` while the member trains, `COMPLETE` at its budget).
    pub(crate) state: String,
    pub(crate) attrs: BTreeMap<String, Value>,
}

/// A connection to one study, for the shared population.
#[derive(Debug)]
pub(crate) struct PopDb {
    conn: Conn,
    study_id: i64,
}

/// An open transaction on the study (holding its write lock if opened to write).
pub(crate) struct PopTx<'a, 'c> {
    tx: &'a mut Tx<'c>,
    study_id: i64,
}

impl PopDb {
    /// Opens (creating schema and study as needed) study `name` at `url`.
    pub(crate) fn open(url: &str, name: &str, direction: Direction) -> Result<PopDb> {
        let mut conn = Conn::open(url)?;
        let study_id = conn.transaction("create study", true, |tx| {
            ensure_schema(tx)?;
            find_or_create_study(tx, name, &[direction])
        })?;
        Ok(PopDb { conn, study_id })
    }

    /// Runs `f` in one transaction; a write transaction holds the study's
    /// write lock from its start.
    pub(crate) fn transaction<R>(
        &mut self,
        op: &'static str,
        write: bool,
        mut f: impl FnMut(&mut PopTx<'_, '_>) -> Result<R>,
    ) -> Result<R> {
        let study_id = self.study_id;
        self.conn.transaction(op, write, |tx| {
            if write {
                lock_study(tx, study_id)?;
            }
            f(&mut PopTx { tx, study_id })
        })
    }
}

impl PopTx<'_, '_> {
    /// The database's clock (the one heartbeats are written and aged by).
    pub(crate) fn now(&mut self) -> Result<chrono::NaiveDateTime> {
        let sql = format!("SELECT {}", db_now(self.tx.dialect()));
        let rows = self.tx.query(&sql, &[])?;
        parse_timestamp(
            rows.first()
                .and_then(|r| r[0].text())
                .ok_or_else(|| db_error("read clock", "no time"))?,
        )
    }

    /// A study system attribute.
    pub(crate) fn study_attr(&mut self, key: &str) -> Result<Option<Value>> {
        let rows = self.tx.query(
            "SELECT value_json FROM study_system_attributes WHERE study_id = ? AND \"key\" = ?",
            &[self.study_id.into(), key.into()],
        )?;
        rows.first()
            .and_then(|r| r[0].text())
            .map(decode)
            .transpose()
    }

    /// Sets a study system attribute.
    pub(crate) fn set_study_attr(&mut self, key: &str, value: &Value) -> Result<()> {
        self.tx.exec(
            "INSERT INTO study_system_attributes (study_id, \"key\", value_json) VALUES (?, ?, ?) \
             ON CONFLICT (study_id, \"key\") DO UPDATE SET value_json = excluded.value_json",
            &[self.study_id.into(), key.into(), value.to_string().into()],
        )?;
        Ok(())
    }

    /// Every member trial of the study (a trial with a `pbt:member`
    /// attribute), by member index.
    pub(crate) fn members(&mut self) -> Result<Vec<MemberRow>> {
        let rows = self.tx.query(
            "SELECT t.trial_id, t.number, t.state, a.\"key\", a.value_json FROM trials t \
             JOIN trial_system_attributes a ON a.trial_id = t.trial_id \
             WHERE t.study_id = ? AND a.\"key\" LIKE 'pbt:%' ORDER BY t.trial_id",
            &[self.study_id.into()],
        )?;
        let mut by_id: BTreeMap<i64, MemberRow> = BTreeMap::new();
        for r in rows {
            let (Some(trial_id), Some(number), Some(state), Some(key), Some(json)) = (
                r[0].int(),
                r[1].int(),
                r[2].text(),
                r[3].text(),
                r[4].text(),
            ) else {
                continue;
            };
            let row = by_id.entry(trial_id).or_insert_with(|| MemberRow {
                trial_id,
                number: number.max(0) as u64,
                state: state.to_owned(),
                attrs: BTreeMap::new(),
            });
            if let Some(key) = key.strip_prefix(PREFIX) {
                row.attrs.insert(key.to_owned(), decode(json)?);
            }
        }
        let mut members: Vec<MemberRow> = by_id
            .into_values()
            .filter(|m| m.attrs.get("member").and_then(Value::as_u64).is_some())
            .collect();
        members.sort_by_key(|m| m.attrs.get("member").and_then(Value::as_u64));
        Ok(members)
    }

    /// Inserts a member trial (state `RUNNING`, Optuna's number the next
    /// free one) with `params` drawn from `distributions` as its trial
    /// parameters and `attrs` (keys without the prefix) as system attributes.
    pub(crate) fn create_member(
        &mut self,
        params: &ParamValues,
        distributions: &BTreeMap<String, Distribution>,
        attrs: &BTreeMap<String, Value>,
    ) -> Result<i64> {
        let (trial_id, _) = insert_trial(self.tx, self.study_id, "RUNNING", Some(&now_utc()))?;
        for (name, value) in params.iter() {
            let Some(d) = distributions.get(name) else {
                continue;
            };
            self.tx.exec(
                "INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) \
                 VALUES (?, ?, ?, ?)",
                &[
                    trial_id.into(),
                    name.into(),
                    to_internal(d, value).into(),
                    distribution_json(d).into(),
                ],
            )?;
        }
        for (key, value) in attrs {
            self.set_attr(trial_id, key, value)?;
        }
        Ok(trial_id)
    }

    /// Sets the member attribute `pbt:{key}` of trial `trial_id`.
    pub(crate) fn set_attr(&mut self, trial_id: i64, key: &str, value: &Value) -> Result<()> {
        super::ops::set_system_attr(
            self.tx,
            trial_id,
            &format!("{PREFIX}{key}"),
            &value.to_string(),
        )
    }

    /// Records `score` as the trial's intermediate value at `step` (the
    /// latest score at that step, replacing one recorded before a copy).
    pub(crate) fn set_intermediate(&mut self, trial_id: i64, step: u64, score: f64) -> Result<()> {
        let (v, ty) = codec::value_type(score);
        let step = i64::try_from(step).map_err(|e| db_error("write step", e))?;
        self.tx.exec(
            &format!(
                "INSERT INTO trial_intermediate_values \
                 (trial_id, step, intermediate_value, intermediate_value_type) \
                 VALUES (?, ?, ?, '{ty}') ON CONFLICT (trial_id, step) DO UPDATE SET \
                 intermediate_value = excluded.intermediate_value, \
                 intermediate_value_type = excluded.intermediate_value_type"
            ),
            &[trial_id.into(), step.into(), v.into()],
        )?;
        Ok(())
    }

    /// Marks a running member trial `COMPLETE` with `value`.
    pub(crate) fn complete(&mut self, trial_id: i64, value: f64) -> Result<()> {
        let changed = self.tx.exec(
            "UPDATE trials SET state = 'COMPLETE', datetime_complete = ? \
             WHERE trial_id = ? AND state = 'RUNNING'",
            &[now_utc().into(), trial_id.into()],
        )?;
        if changed == 0 {
            return Err(db_error(
                "complete member",
                "the member trial is not running",
            ));
        }
        let (v, ty) = codec::value_type(value);
        let ty = if ty == "NAN" { "FINITE" } else { ty };
        self.tx.exec(
            &format!(
                "INSERT INTO trial_values (trial_id, objective, value, value_type) \
                 VALUES (?, 0, ?, '{ty}')"
            ),
            &[trial_id.into(), Val::from(v)],
        )?;
        Ok(())
    }
}

fn decode(json: &str) -> Result<Value> {
    serde_json::from_str(json).map_err(|e| Error::Decode {
        what: "value_json",
        reason: e.to_string(),
    })
}

/// A timestamp as the database's clock writes it.
pub(crate) fn parse_db_time(s: &str) -> Result<chrono::NaiveDateTime> {
    parse_timestamp(s)
}
