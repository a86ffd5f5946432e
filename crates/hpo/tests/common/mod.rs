//! What the multi-process and Optuna-interop tests share: the services
//! `.ci/hpo.sh` starts (found, or a visible skip), unique names, and the
//! test binary re-running itself as worker processes.
#![allow(dead_code)] // each test binary uses its own part

use std::process::{Command, Output, Stdio};

/// A visible skip: written to stderr directly, which the test harness does not capture.
macro_rules! skipped {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// The value of `var` that `.ci/hpo.sh` exports, or a visible skip naming
/// `what` is skipped (a failure when `DESCENT_REQUIRE_HPO_SERVICES=1`).
pub fn service(var: &str, what: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) => Some(value),
        Err(_) if std::env::var("DESCENT_REQUIRE_HPO_SERVICES").as_deref() == Ok("1") => {
            panic!("DESCENT_REQUIRE_HPO_SERVICES=1 but {var} is not set")
        }
        Err(_) => {
            skipped!("SKIPPED: {what} (set {var}; .ci/hpo.sh does)");
            None
        }
    }
}

/// The PostgreSQL server's URL, or a visible skip.
pub fn postgres_url() -> Option<String> {
    service("DESCENT_HPO_PG_URL", "no PostgreSQL server")
}

/// The Python with Optuna installed, or a visible skip of `what`.
pub fn python(what: &str) -> Option<String> {
    service("DESCENT_HPO_PYTHON", what)
}

/// `prefix`, this process's id and the time: a name no other run uses.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// Re-runs this test binary as one worker process per spec: test `test`
/// alone, with `env` set to the spec (the test body sees it and works
/// instead). Waits for all of them; their outputs, in order.
pub fn run_workers(test: &str, env: &str, specs: impl IntoIterator<Item = String>) -> Vec<Output> {
    let children: Vec<_> = specs
        .into_iter()
        .map(|spec| {
            Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "--test-threads", "1", "--nocapture", test])
                .env(env, spec)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect()
}

/// Worker `k`'s exit status and what it wrote (a panic is in the harness's
/// report), for a failure message.
pub fn worker_report(k: usize, out: &Output) -> String {
    format!(
        "worker {k} ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
