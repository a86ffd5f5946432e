//! One connection to SQLite or PostgreSQL, with the few operations the RDB
//! storage needs: SQL written once with `?` placeholders, values bound by the
//! column types the server expects, transactions that take the write lock first.

use crate::{Error, Result};
use postgres::types::{FromSql, Kind, ToSql, Type};
use std::time::{Duration, Instant};

/// How long an SQLite connection waits for another writer's lock before
/// giving up (the busy timeout, and the retry of switching a new file to WAL).
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(120);

/// A value bound to or read from a statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
}

impl Val {
    pub(crate) fn int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            Val::Float(f) if f.fract() == 0.0 => Some(*f as i64),
            _ => None,
        }
    }

    pub(crate) fn float(&self) -> Option<f64> {
        match self {
            Val::Float(f) => Some(*f),
            Val::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            Val::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl From<i64> for Val {
    fn from(i: i64) -> Self {
        Val::Int(i)
    }
}
impl From<f64> for Val {
    fn from(f: f64) -> Self {
        Val::Float(f)
    }
}
impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Val::Text(s.to_owned())
    }
}
impl From<String> for Val {
    fn from(s: String) -> Self {
        Val::Text(s)
    }
}
impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Self {
        v.map_or(Val::Null, Into::into)
    }
}

/// Which server a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A connection; a PostgreSQL one reconnects when the server went away.
pub(crate) enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres {
        url: String,
        /// Boxed: a client is large, and the enum is kept per storage.
        client: Option<Box<postgres::Client>>,
    },
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Conn::Sqlite(_) => f.write_str("Conn::Sqlite"),
            Conn::Postgres { url, .. } => write!(f, "Conn::Postgres({url})"),
        }
    }
}

pub(crate) fn db_error(op: &'static str, e: impl std::fmt::Display) -> Error {
    Error::Database {
        op,
        message: e.to_string(),
    }
}

impl Conn {
    /// Opens `url`: `sqlite:///relative/path`, `sqlite:////absolute/path` (as
    /// SQLAlchemy), or `postgresql://…` / `postgres://…` (libpq syntax).
    pub(crate) fn open(url: &str) -> Result<Conn> {
        if let Some(path) = url.strip_prefix("sqlite:///") {
            if path.is_empty() {
                return Err(Error::StorageUrl {
                    url: url.to_owned(),
                    reason: "no database file after sqlite:///",
                });
            }
            let conn = rusqlite::Connection::open(path).map_err(|e| db_error("open", e))?;
            conn.busy_timeout(SQLITE_BUSY_TIMEOUT)
                .map_err(|e| db_error("open", e))?;
            // Write-ahead logging: readers never block the writer, and a commit
            // is one fsync of the log (synchronous stays FULL: a commit survives
            // a power cut). The mode is the file's, and Optuna's SQLite reads it.
            //
            // Turning a new file to WAL takes an exclusive lock without the
            // busy handler (SQLite refuses rather than risk a deadlock), so
            // workers opening one new file at once retry it until the timeout.
            let deadline = Instant::now() + SQLITE_BUSY_TIMEOUT;
            loop {
                match conn.execute_batch(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON",
                ) {
                    Ok(()) => break,
                    Err(rusqlite::Error::SqliteFailure(e, _))
                        if matches!(
                            e.code,
                            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                        ) && Instant::now() < deadline =>
                    {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(e) => return Err(db_error("open", e)),
                }
            }
            return Ok(Conn::Sqlite(conn));
        }
        let pg = url
            .strip_prefix("postgresql+psycopg2://")
            .or_else(|| url.strip_prefix("postgresql+psycopg://"))
            .map(|rest| format!("postgresql://{rest}"))
            .or_else(|| {
                (url.starts_with("postgresql://") || url.starts_with("postgres://"))
                    .then(|| url.to_owned())
            });
        match pg {
            Some(url) => {
                let mut conn = Conn::Postgres { url, client: None };
                conn.client()?;
                Ok(conn)
            }
            None => Err(Error::StorageUrl {
                url: url.to_owned(),
                reason: "expected sqlite:///PATH or postgresql://USER@HOST/DB",
            }),
        }
    }

    fn client(&mut self) -> Result<&mut postgres::Client> {
        let Conn::Postgres { url, client } = self else {
            unreachable!("client() on SQLite")
        };
        let live = match client.take() {
            Some(c) if !c.is_closed() => c,
            _ => {
                let mut config: postgres::Config =
                    url.parse().map_err(|e| db_error("connect", e))?;
                config.connect_timeout(Duration::from_secs(10));
                Box::new(
                    config
                        .connect(postgres::NoTls)
                        .map_err(|e| db_error("connect", e))?,
                )
            }
        };
        Ok(client.insert(live))
    }

    /// Runs `f` in one transaction, which (if `write`) holds the write lock
    /// from its start (`BEGIN IMMEDIATE` on SQLite; on PostgreSQL `f` takes row locks itself),
    /// committed when `f` returns `Ok`, rolled back otherwise; a transaction
    /// that lost a deadlock or serialization race is retried, as Optuna does.
    pub(crate) fn transaction<R>(
        &mut self,
        op: &'static str,
        write: bool,
        mut f: impl FnMut(&mut Tx<'_>) -> Result<R>,
    ) -> Result<R> {
        match self {
            Conn::Sqlite(conn) => {
                conn.execute_batch(if write { "BEGIN IMMEDIATE" } else { "BEGIN" })
                    .map_err(|e| db_error(op, e))?;
                let mut tx = Tx::Sqlite(conn);
                match f(&mut tx) {
                    Ok(r) => match conn.execute_batch("COMMIT") {
                        Ok(()) => Ok(r),
                        Err(e) => {
                            let _ = conn.execute_batch("ROLLBACK");
                            Err(db_error(op, e))
                        }
                    },
                    Err(e) => {
                        let _ = conn.execute_batch("ROLLBACK");
                        Err(e)
                    }
                }
            }
            Conn::Postgres { .. } => {
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    let client = self.client()?;
                    let result = (|| {
                        let t = client.transaction().map_err(|e| db_error(op, e))?;
                        let mut tx = Tx::Postgres(t);
                        let r = f(&mut tx)?;
                        let Tx::Postgres(t) = tx else { unreachable!() };
                        t.commit().map_err(|e| db_error(op, e))?;
                        Ok(r)
                    })();
                    match result {
                        Err(Error::Database { ref message, .. })
                            if attempt < 5
                                && (message.contains("deadlock")
                                    || message.contains("could not serialize")) =>
                        {
                            std::thread::sleep(Duration::from_millis(10 * attempt));
                        }
                        Err(e @ Error::Database { .. }) => {
                            // The connection may be dead (the server went away):
                            // the next call connects afresh.
                            if let Conn::Postgres { client, .. } = self {
                                *client = None;
                            }
                            return Err(e);
                        }
                        other => return other,
                    }
                }
            }
        }
    }
}

/// An open transaction.
pub(crate) enum Tx<'c> {
    Sqlite(&'c rusqlite::Connection),
    Postgres(postgres::Transaction<'c>),
}

/// `?` placeholders as PostgreSQL's `$1, $2, …`.
fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

impl Tx<'_> {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Tx::Sqlite(_) => Dialect::Sqlite,
            Tx::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs a statement; the number of rows it changed.
    pub(crate) fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64> {
        match self {
            Tx::Sqlite(conn) => {
                let mut stmt = conn
                    .prepare_cached(sql)
                    .map_err(|e| db_error("prepare", e))?;
                let n = stmt
                    .execute(rusqlite::params_from_iter(params.iter().map(sqlite_val)))
                    .map_err(|e| db_error("execute", e))?;
                Ok(n as u64)
            }
            Tx::Postgres(t) => {
                let stmt = t
                    .prepare(&numbered(sql))
                    .map_err(|e| db_error("prepare", e))?;
                let bound = pg_params(params, stmt.params())?;
                let refs: Vec<&(dyn ToSql + Sync)> = bound.iter().map(|b| b.as_ref()).collect();
                t.execute(&stmt, &refs).map_err(|e| db_error("execute", e))
            }
        }
    }

    /// Runs a query; its rows.
    pub(crate) fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>> {
        match self {
            Tx::Sqlite(conn) => {
                let mut stmt = conn
                    .prepare_cached(sql)
                    .map_err(|e| db_error("prepare", e))?;
                let n = stmt.column_count();
                let mut rows = stmt
                    .query(rusqlite::params_from_iter(params.iter().map(sqlite_val)))
                    .map_err(|e| db_error("query", e))?;
                let mut out = Vec::new();
                while let Some(row) = rows.next().map_err(|e| db_error("query", e))? {
                    let mut cells = Vec::with_capacity(n);
                    for i in 0..n {
                        use rusqlite::types::ValueRef;
                        cells.push(match row.get_ref(i).map_err(|e| db_error("query", e))? {
                            ValueRef::Null => Val::Null,
                            ValueRef::Integer(i) => Val::Int(i),
                            ValueRef::Real(f) => Val::Float(f),
                            ValueRef::Text(t) | ValueRef::Blob(t) => {
                                Val::Text(String::from_utf8_lossy(t).into_owned())
                            }
                        });
                    }
                    out.push(cells);
                }
                Ok(out)
            }
            Tx::Postgres(t) => {
                let stmt = t
                    .prepare(&numbered(sql))
                    .map_err(|e| db_error("prepare", e))?;
                let bound = pg_params(params, stmt.params())?;
                let refs: Vec<&(dyn ToSql + Sync)> = bound.iter().map(|b| b.as_ref()).collect();
                let rows = t.query(&stmt, &refs).map_err(|e| db_error("query", e))?;
                rows.iter()
                    .map(|row| (0..row.len()).map(|i| pg_cell(row, i)).collect())
                    .collect()
            }
        }
    }

    /// The id of the row just inserted by `sql` (an `INSERT … RETURNING id`).
    pub(crate) fn insert_id(&mut self, sql: &str, params: &[Val]) -> Result<i64> {
        let rows = self.query(sql, params)?;
        rows.first()
            .and_then(|r| r.first())
            .and_then(Val::int)
            .ok_or_else(|| db_error("insert", "no id returned"))
    }
}

fn sqlite_val(v: &Val) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match v {
        Val::Null => Value::Null,
        Val::Int(i) => Value::Integer(*i),
        Val::Float(f) => Value::Real(*f),
        Val::Text(s) => Value::Text(s.clone()),
    }
}

fn pg_params(params: &[Val], types: &[Type]) -> Result<Vec<Box<dyn ToSql + Sync>>> {
    params
        .iter()
        .zip(types)
        .map(|(v, ty)| -> Result<Box<dyn ToSql + Sync>> {
            Ok(match (v, ty) {
                (Val::Null, &Type::INT4) => Box::new(None::<i32>),
                (Val::Null, &Type::INT8) => Box::new(None::<i64>),
                (Val::Null, &Type::FLOAT8) => Box::new(None::<f64>),
                (Val::Null, &Type::TIMESTAMP) => Box::new(None::<chrono::NaiveDateTime>),
                (Val::Null, _) => Box::new(None::<String>),
                (Val::Int(i), &Type::INT2) => {
                    Box::new(i16::try_from(*i).map_err(|e| db_error("bind", format!("{i}: {e}")))?)
                }
                (Val::Int(i), &Type::INT4) => {
                    Box::new(i32::try_from(*i).map_err(|e| db_error("bind", format!("{i}: {e}")))?)
                }
                (Val::Int(i), &Type::FLOAT8) => Box::new(*i as f64),
                (Val::Int(i), _) => Box::new(*i),
                (Val::Float(f), &Type::FLOAT4) => Box::new(*f as f32),
                (Val::Float(f), _) => Box::new(*f),
                (Val::Text(s), &Type::TIMESTAMP) => Box::new(parse_timestamp(s)?),
                (Val::Text(s), _) => Box::new(s.clone()),
            })
        })
        .collect()
}

/// Any value as its text (PostgreSQL's native enums, say).
struct RawText(String);

impl<'a> FromSql<'a> for RawText {
    fn from_sql(
        _: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawText(std::str::from_utf8(raw)?.to_owned()))
    }

    fn accepts(ty: &Type) -> bool {
        matches!(ty.kind(), Kind::Enum(_)) || <String as FromSql>::accepts(ty)
    }
}

fn pg_cell(row: &postgres::Row, i: usize) -> Result<Val> {
    let ty = row.columns()[i].type_().clone();
    let e = |e| db_error("read", e);
    Ok(match ty {
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)
            .map_err(e)?
            .map(i64::from)
            .into(),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)
            .map_err(e)?
            .map(i64::from)
            .into(),
        Type::INT8 => row.try_get::<_, Option<i64>>(i).map_err(e)?.into(),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(i)
            .map_err(e)?
            .map(f64::from)
            .into(),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i).map_err(e)?.into(),
        Type::TIMESTAMP => row
            .try_get::<_, Option<chrono::NaiveDateTime>>(i)
            .map_err(e)?
            .map(format_timestamp)
            .into(),
        _ => row
            .try_get::<_, Option<RawText>>(i)
            .map_err(e)?
            .map(|t| t.0)
            .into(),
    })
}

/// SQLAlchemy's text form of a naive UTC datetime on SQLite.
pub(crate) fn format_timestamp(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

pub(crate) fn parse_timestamp(s: &str) -> Result<chrono::NaiveDateTime> {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f"))
        .map_err(|e| db_error("read", format!("timestamp {s:?}: {e}")))
}
