//! Tests on real data sets that may be absent from a machine.
//!
//! Such a test calls [`absent`] when its data set is missing: by default it
//! says so on stderr, past the test harness's output capture, and returns,
//! so `cargo test` on a bare clone still passes and shows what it did not
//! check; with `DESCENT_REQUIRE_DATA=1` (set by `.ci/run`) it fails, so CI
//! never passes a real-data test vacuously.

use std::fmt::Display;
use std::io::Write;

/// The environment variable that makes an absent data set a failure.
pub const REQUIRE_ENV: &str = "DESCENT_REQUIRE_DATA";

/// Whether an absent data set fails its test: `DESCENT_REQUIRE_DATA` is
/// `1`. Unset, empty or `0` means no.
///
/// # Panics
///
/// On any other value, so a misspelt setting does not pass silently.
pub fn required() -> bool {
    parse(std::env::var(REQUIRE_ENV).ok().as_deref()).unwrap_or_else(|e| panic!("{e}"))
}

fn parse(value: Option<&str>) -> Result<bool, String> {
    match value {
        None | Some("" | "0") => Ok(false),
        Some("1") => Ok(true),
        Some(other) => Err(format!("{REQUIRE_ENV} must be 0 or 1, found {other:?}")),
    }
}

/// Reports that `test` cannot run because its data set is absent; `why`
/// names the set and where it was looked for.
///
/// # Panics
///
/// When [`required`]: the test fails, naming `why`.
///
/// # Examples
///
/// ```
/// // Without DESCENT_REQUIRE_DATA=1 this prints `SKIPPED ...` and returns.
/// if !descent_testkit::data::required() {
///     descent_testkit::data::absent("my_test", &"dataset `mnist` not found");
/// }
/// ```
pub fn absent(test: &str, why: &dyn Display) {
    // Straight to stderr: `eprintln!` output is captured for passing tests.
    report(required(), test, why, &mut std::io::stderr());
}

fn report(required: bool, test: &str, why: &dyn Display, out: &mut dyn Write) {
    if required {
        panic!("{test}: {why} ({REQUIRE_ENV}=1: an absent data set is a failure)");
    }
    let _ = writeln!(
        out,
        "SKIPPED {test}: {why} (set {REQUIRE_ENV}=1 to make this a failure)"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_1_requires_data_and_a_misspelt_value_is_an_error() {
        assert_eq!(parse(None), Ok(false));
        assert_eq!(parse(Some("")), Ok(false));
        assert_eq!(parse(Some("0")), Ok(false));
        assert_eq!(parse(Some("1")), Ok(true));
        assert!(parse(Some("yes")).unwrap_err().contains(REQUIRE_ENV));
    }

    #[test]
    fn absent_data_fails_only_when_required() {
        let why = "dataset `x` not found";
        let msg = crate::panic_message(|| report(true, "t", &why, &mut Vec::new()));
        assert!(msg.contains(why), "{msg}");
        let mut out = Vec::new();
        report(false, "t", &why, &mut out);
        let line = String::from_utf8(out).unwrap();
        assert!(
            line.starts_with("SKIPPED t: dataset `x` not found"),
            "{line}"
        );
    }
}
