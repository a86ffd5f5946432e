//! Optuna's RDB schema, table for table, as SQLAlchemy creates it from
//! Optuna 5.0.0's `storages/_rdb/models.py` (alembic revision `v3.2.0.a`,
//! `version_info.schema_version` 12), for SQLite and for PostgreSQL.

/// The alembic revision of the schema matched (Optuna's head since 3.2).
pub(crate) const ALEMBIC_REVISION: &str = "v3.2.0.a";
/// `version_info.schema_version` of that revision.
pub(crate) const SCHEMA_VERSION: i64 = 12;
/// `version_info.library_version` written when descent creates the schema:
/// the Optuna release whose schema this is (Optuna only displays it).
pub(crate) const LIBRARY_VERSION: &str = "5.0.0";

/// The tables in creation order (the SQLite text of `sqlite_master`, as
/// SQLAlchemy emits it for Optuna); PostgreSQL gets the same with its types.
const TABLES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS studies (
	study_id INTEGER NOT NULL,
	study_name VARCHAR(512) NOT NULL,
	PRIMARY KEY (study_id)
)",
    "CREATE UNIQUE INDEX IF NOT EXISTS ix_studies_study_name ON studies (study_name)",
    "CREATE TABLE IF NOT EXISTS version_info (
	version_info_id INTEGER NOT NULL,
	schema_version INTEGER,
	library_version VARCHAR(256),
	PRIMARY KEY (version_info_id),
	CHECK (version_info_id=1)
)",
    "CREATE TABLE IF NOT EXISTS study_directions (
	study_direction_id INTEGER NOT NULL,
	direction {studydirection} NOT NULL,
	study_id INTEGER NOT NULL,
	objective INTEGER NOT NULL,
	PRIMARY KEY (study_direction_id),
	UNIQUE (study_id, objective),
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
)",
    "CREATE TABLE IF NOT EXISTS study_user_attributes (
	study_user_attribute_id INTEGER NOT NULL,
	study_id INTEGER,
	\"key\" VARCHAR(512),
	value_json TEXT,
	PRIMARY KEY (study_user_attribute_id),
	UNIQUE (study_id, \"key\"),
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
)",
    "CREATE TABLE IF NOT EXISTS study_system_attributes (
	study_system_attribute_id INTEGER NOT NULL,
	study_id INTEGER,
	\"key\" VARCHAR(512),
	value_json TEXT,
	PRIMARY KEY (study_system_attribute_id),
	UNIQUE (study_id, \"key\"),
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
)",
    "CREATE TABLE IF NOT EXISTS trials (
	trial_id INTEGER NOT NULL,
	number INTEGER,
	study_id INTEGER,
	state {trialstate} NOT NULL,
	datetime_start {datetime},
	datetime_complete {datetime},
	PRIMARY KEY (trial_id),
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
)",
    "CREATE INDEX IF NOT EXISTS ix_trials_study_id ON trials (study_id)",
    "CREATE TABLE IF NOT EXISTS trial_user_attributes (
	trial_user_attribute_id INTEGER NOT NULL,
	trial_id INTEGER,
	\"key\" VARCHAR(512),
	value_json TEXT,
	PRIMARY KEY (trial_user_attribute_id),
	UNIQUE (trial_id, \"key\"),
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
)",
    "CREATE TABLE IF NOT EXISTS trial_system_attributes (
	trial_system_attribute_id INTEGER NOT NULL,
	trial_id INTEGER,
	\"key\" VARCHAR(512),
	value_json TEXT,
	PRIMARY KEY (trial_system_attribute_id),
	UNIQUE (trial_id, \"key\"),
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
)",
    "CREATE TABLE IF NOT EXISTS trial_params (
	param_id INTEGER NOT NULL,
	trial_id INTEGER,
	param_name VARCHAR(512),
	param_value FLOAT,
	distribution_json TEXT,
	PRIMARY KEY (param_id),
	UNIQUE (trial_id, param_name),
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
)",
    "CREATE TABLE IF NOT EXISTS trial_values (
	trial_value_id INTEGER NOT NULL,
	trial_id INTEGER NOT NULL,
	objective INTEGER NOT NULL,
	value FLOAT,
	value_type {trialvaluetype} NOT NULL,
	PRIMARY KEY (trial_value_id),
	UNIQUE (trial_id, objective),
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
)",
    "CREATE TABLE IF NOT EXISTS trial_intermediate_values (
	trial_intermediate_value_id INTEGER NOT NULL,
	trial_id INTEGER NOT NULL,
	step INTEGER NOT NULL,
	intermediate_value FLOAT,
	intermediate_value_type {trialintermediatevaluetype} NOT NULL,
	PRIMARY KEY (trial_intermediate_value_id),
	UNIQUE (trial_id, step),
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
)",
    "CREATE TABLE IF NOT EXISTS trial_heartbeats (
	trial_heartbeat_id INTEGER NOT NULL,
	trial_id INTEGER NOT NULL,
	heartbeat {datetime} NOT NULL,
	PRIMARY KEY (trial_heartbeat_id),
	UNIQUE (trial_id),
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
)",
    "CREATE TABLE IF NOT EXISTS alembic_version (
	version_num VARCHAR(32) NOT NULL,
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
)",
];

/// PostgreSQL's native enum types, as SQLAlchemy names them after Optuna's Python enums.
const PG_ENUMS: &[(&str, &str)] = &[
    ("studydirection", "'NOT_SET', 'MINIMIZE', 'MAXIMIZE'"),
    (
        "trialintermediatevaluetype",
        "'FINITE', 'INF_POS', 'INF_NEG', 'NAN'",
    ),
    (
        "trialstate",
        "'RUNNING', 'COMPLETE', 'PRUNED', 'FAIL', 'WAITING'",
    ),
    ("trialvaluetype", "'FINITE', 'INF_POS', 'INF_NEG'"),
];

/// The statements creating the schema in `dialect`, each idempotent.
pub(crate) fn statements(postgres: bool) -> Vec<String> {
    let mut out = Vec::new();
    if postgres {
        for (name, labels) in PG_ENUMS {
            out.push(format!(
                "DO $$ BEGIN CREATE TYPE {name} AS ENUM ({labels}); \
                 EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            ));
        }
    }
    for table in TABLES {
        let mut sql = table.to_string();
        for (name, _) in PG_ENUMS {
            let pattern = format!("{{{name}}}");
            let width = match *name {
                "trialstate" | "studydirection" => "VARCHAR(8)",
                _ => "VARCHAR(7)",
            };
            sql = sql.replace(&pattern, if postgres { name } else { width });
        }
        sql = sql.replace(
            "{datetime}",
            if postgres {
                "TIMESTAMP WITHOUT TIME ZONE"
            } else {
                "DATETIME"
            },
        );
        if postgres {
            // SQLAlchemy's integer primary keys are SERIAL columns on PostgreSQL.
            if let Some(pk) = primary_key(&sql)
                && pk != "version_num"
                && pk != "version_info_id"
            {
                sql = sql.replacen(
                    &format!("{pk} INTEGER NOT NULL"),
                    &format!("{pk} SERIAL NOT NULL"),
                    1,
                );
            }
            sql = sql.replace(" FLOAT,", " FLOAT(53),");
        }
        out.push(sql);
    }
    out
}

fn primary_key(sql: &str) -> Option<&str> {
    let start = sql.find("PRIMARY KEY (")? + "PRIMARY KEY (".len();
    let end = start + sql[start..].find(')')?;
    Some(&sql[start..end])
}
