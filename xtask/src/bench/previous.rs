//! The previous table: every row's median and quartiles (JSON, with the
//! machine and the date) kept in `benches/previous/BENCH.json`, and each
//! row of a new run compared with it.
//!
//! Noise is defined from the runs' own spread: a row changed beyond noise
//! when the interquartile ranges of its samples in the two runs do not
//! overlap (slower: this run's first quartile above the previous third
//! quartile; faster: this run's third quartile below the previous first).
//! Overlapping middle halves are within noise, whatever the medians say.
//! Against a baseline timed in the same run, a row this rule flags is
//! timed again before its verdict is given (`bench/confirm.rs`).

use super::confirm::{Confirmation, Outcome};
use super::protocol::Output;
use anyhow::{Context, Result};
use descent_bench::Timing;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

/// Where the previous table is kept, relative to the workspace root.
pub const PREVIOUS: &str = "benches/previous/BENCH.json";

/// One row's summary.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The median, ms.
    pub median_ms: f64,
    /// The first quartile, ms.
    pub q1_ms: f64,
    /// The third quartile, ms.
    pub q3_ms: f64,
    /// How many samples.
    pub samples: usize,
}

impl Row {
    /// The summary of `t`'s samples (quartiles by linear interpolation);
    /// `None` without samples.
    pub fn of(t: &Timing) -> Option<Row> {
        let mut s = t.samples_ms.clone();
        if s.is_empty() {
            return None;
        }
        s.sort_by(f64::total_cmp);
        let q = |p: f64| {
            let x = p * (s.len() - 1) as f64;
            let (lo, hi) = (x.floor() as usize, x.ceil() as usize);
            s[lo] + (s[hi] - s[lo]) * (x - lo as f64)
        };
        Some(Row {
            median_ms: t.median_ms(),
            q1_ms: q(0.25),
            q3_ms: q(0.75),
            samples: s.len(),
        })
    }
}

/// A whole table: rows by name (`descent 2t w1_sgd`, `pytorch 2t w1_sgd`,
/// `descent 2t w1_sgd (under load)`, ...), the machine, the date and the
/// commit measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// When the run ended (UTC, RFC 3339).
    pub date: String,
    /// The CPU model, logical CPUs and host name.
    pub machine: String,
    /// The commit whose build timed descent's rows (`None`: unknown, as in
    /// tables stored before this field, or outside a git checkout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Whether that checkout had uncommitted changes to tracked files (its
    /// rows then belong to no commit).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub modified: bool,
    /// The 1-minute load average before and after the run.
    pub load: [Option<f64>; 2],
    /// The rows.
    pub rows: BTreeMap<String, Row>,
}

impl Summary {
    /// A summary stamped with this machine and now, for the build of
    /// `commit` (`modified`: with uncommitted changes).
    pub fn new(load: [Option<f64>; 2], commit: Option<String>, modified: bool) -> Summary {
        Summary {
            date: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            machine: machine(),
            commit,
            modified,
            load,
            rows: BTreeMap::new(),
        }
    }

    /// The commit a `--baseline previous` run builds: the one this table
    /// was measured on; an error when it names none or was measured on a
    /// modified tree.
    pub fn baseline_commit(&self) -> Result<&str> {
        match (&self.commit, self.modified) {
            (Some(c), false) => Ok(c),
            (Some(c), true) => anyhow::bail!(
                "the previous table `{PREVIOUS}` was measured on {c} with uncommitted changes, \
                 which no commit holds: name a revision (--baseline REV)"
            ),
            (None, _) => anyhow::bail!(
                "the previous table `{PREVIOUS}` does not name the commit it measured \
                 (tables stored before 2026-12-01 do not): name a revision (--baseline REV)"
            ),
        }
    }

    /// Adds every timing of one side's output at `threads`, the row names
    /// carrying `suffix` (e.g. ` (under load)`).
    pub fn add(&mut self, side: &str, threads: usize, out: &Output, suffix: &str) {
        for (name, t) in &out.timings {
            if let Some(row) = Row::of(t) {
                self.rows
                    .insert(format!("{side} {threads}t {name}{suffix}"), row);
            }
        }
    }

    /// The row `name` of `side` at `threads` threads, if the table has one.
    pub fn row(&self, side: &str, threads: usize, name: &str) -> Option<&Row> {
        self.rows.get(&format!("{side} {threads}t {name}"))
    }

    /// Reads a summary written by [`Summary::write`].
    pub fn read(path: &Path) -> Result<Summary> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// Writes the summary as pretty JSON, atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).context("serializing the summary")?;
        super::write_atomically(path, &(text + "\n"))
    }
}

/// The CPU model, the logical CPU count and the host name.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "unknown host".into());
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cpu}, {cpus} logical CPUs, host {host}")
}

/// How a row moved against the previous table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The interquartile ranges overlap.
    WithinNoise,
    /// Slower beyond noise.
    Slower,
    /// Faster beyond noise.
    Faster,
}

impl Verdict {
    /// The report's words for this verdict.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::WithinNoise => "within noise",
            Verdict::Faster => "faster beyond noise",
            Verdict::Slower => "**slower beyond noise**",
        }
    }
}

/// Compares one row with its previous value (see the module docs).
pub fn verdict(previous: &Row, now: &Row) -> Verdict {
    if now.q1_ms > previous.q3_ms {
        Verdict::Slower
    } else if now.q3_ms < previous.q1_ms {
        Verdict::Faster
    } else {
        Verdict::WithinNoise
    }
}

/// The comparison section: every descent row present in both tables, its
/// change and verdict; the rows beyond noise counted at the top.
pub fn render(previous: &Summary, now: &Summary) -> String {
    let intro = format!(
        "\n## Against the previous table\n\n`{PREVIOUS}`: {} on {} (load {}), {}. \
         Beyond noise = the two runs' interquartile ranges do not overlap (module docs of `xtask/src/bench/previous.rs`). \
         Only descent's rows are judged; PyTorch's show how the machine moved.\n",
        previous.date,
        previous.machine,
        fmt_load(&previous.load),
        match (&previous.commit, previous.modified) {
            (Some(c), false) => format!(
                "commit `{c}` (on another day the machine differs too: `--baseline previous` times that commit in this run)"
            ),
            (Some(c), true) => format!("commit `{c}` with uncommitted changes"),
            (None, _) => "commit not recorded".to_owned(),
        },
    );
    intro + &compare(previous, now, "previous", &BTreeMap::new())
}

/// The comparison with a baseline timed in the same run (`--baseline`,
/// `bench/baseline.rs`): `base` holds the baseline's descent rows, named
/// as `now`'s; `confirmed` the confirmation rounds of the rows the
/// interquartile rule flagged (`bench/confirm.rs`), by summary row name.
pub fn render_baseline(
    rev: &str,
    commit: &str,
    base: &Summary,
    now: &Summary,
    confirmed: &BTreeMap<String, Confirmation>,
) -> String {
    let rounds = confirmed.values().map(Confirmation::rounds).max();
    let confirmation = match rounds {
        Some(n) => format!(
            " A flagged row was then timed again in {n} rounds, both builds each round, and stays beyond noise only if it was on the same side in every one (`xtask/src/bench/confirm.rs`)."
        ),
        None => String::new(),
    };
    let intro = format!(
        "\n## Against the baseline `{rev}` (same run)\n\n\
         `{commit}`, built from `git archive` and timed in this run, its child beside this build's in every round (the baseline first in odd rounds). \
         Beyond noise = the two builds' interquartile ranges do not overlap (module docs of `xtask/src/bench/previous.rs`).{confirmation}\n"
    );
    intro + &compare(base, now, "baseline", confirmed)
}

/// The rows of both tables: a line each with its change and, for
/// descent's, the verdict; the rows slower beyond noise listed first.
/// `label` names the older table in the header (`previous`, `baseline`);
/// a row in `confirmed` takes the verdict of its confirmation rounds.
fn compare(
    older: &Summary,
    now: &Summary,
    label: &str,
    confirmed: &BTreeMap<String, Confirmation>,
) -> String {
    let mut rows = String::new();
    let mut slower = Vec::new();
    for (name, now_row) in &now.rows {
        let Some(prev) = older.rows.get(name) else {
            continue;
        };
        let v = verdict(prev, now_row);
        let judged = name.starts_with("descent ");
        let confirmation = confirmed.get(name).filter(|c| c.flagged == v);
        if judged
            && v == Verdict::Slower
            && confirmation.is_none_or(|c| c.outcome() != Outcome::Withdrawn)
        {
            slower.push(name.clone());
        }
        let cell = match (judged, confirmation) {
            (false, _) => "(PyTorch)".to_owned(),
            (true, Some(c)) => c.cell(),
            (true, None) => v.label().to_owned(),
        };
        let _ = writeln!(
            rows,
            "| {name} | {:.3} | {:.3} | {:+.1}% | {cell} |",
            prev.median_ms,
            now_row.median_ms,
            100.0 * (now_row.median_ms / prev.median_ms - 1.0)
        );
    }
    format!(
        "\nRows slower beyond noise: {}.\n\n| row | {label} median ms | median ms | change | verdict |\n|---|--:|--:|--:|---|\n{rows}",
        if slower.is_empty() {
            "none".to_owned()
        } else {
            slower.join(", ")
        }
    )
}

fn fmt_load(load: &[Option<f64>; 2]) -> String {
    let f = |l: Option<f64>| l.map_or("unknown".into(), |l| format!("{l:.2}"));
    format!("{} → {}", f(load[0]), f(load[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(samples: &[f64]) -> Row {
        Row::of(&Timing {
            samples_ms: samples.to_vec(),
        })
        .unwrap()
    }

    #[test]
    fn quartiles_interpolate() {
        let r = row(&[4.0, 1.0, 3.0, 2.0, 5.0]);
        assert_eq!(
            (r.q1_ms, r.median_ms, r.q3_ms, r.samples),
            (2.0, 3.0, 4.0, 5)
        );
        assert_eq!(row(&[1.0, 2.0]).q1_ms, 1.25);
        assert!(Row::of(&Timing::default()).is_none());
    }

    #[test]
    fn only_disjoint_middle_halves_are_beyond_noise() {
        let base = row(&[9.0, 9.5, 10.0, 10.5, 11.0]);
        assert_eq!(
            verdict(&base, &row(&[10.0, 10.2, 10.4, 10.6, 12.0])),
            Verdict::WithinNoise
        );
        assert_eq!(
            verdict(&base, &row(&[10.5, 11.1, 11.5, 11.8, 12.0])),
            Verdict::Slower
        );
        assert_eq!(
            verdict(&base, &row(&[8.0, 8.5, 9.0, 9.2, 10.5])),
            Verdict::Faster
        );
    }

    #[test]
    fn a_table_names_the_commit_a_baseline_run_builds() {
        // Tables stored before the commit was recorded still read.
        let old: Summary = serde_json::from_str(
            r#"{"date": "d", "machine": "m", "load": [null, null], "rows": {}}"#,
        )
        .unwrap();
        assert_eq!((old.commit.as_deref(), old.modified), (None, false));
        let e = old.baseline_commit().unwrap_err().to_string();
        assert!(e.contains("does not name the commit"), "{e}");
        let mut s = Summary::new([None, None], Some("abc123".into()), false);
        assert_eq!(s.baseline_commit().unwrap(), "abc123");
        s.modified = true;
        let e = s.baseline_commit().unwrap_err().to_string();
        assert!(e.contains("uncommitted changes"), "{e}");
        let json = serde_json::to_string(&s).unwrap();
        assert!(
            json.contains(r#""commit":"abc123","modified":true"#),
            "{json}"
        );
    }

    #[test]
    fn the_comparison_lists_regressions_and_round_trips_through_json() {
        let mut prev = Summary::new([Some(1.0), None], Some("abc123".into()), false);
        let mut out = Output::default();
        out.timings.insert(
            "w1_sgd".into(),
            Timing {
                samples_ms: vec![4.0, 4.1, 4.2],
            },
        );
        prev.add("descent", 2, &out, "");
        let dir = std::env::temp_dir().join(format!("descent-previous-{}", std::process::id()));
        let path = dir.join("BENCH.json");
        prev.write(&path).unwrap();
        let back = Summary::read(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(back, prev);
        let mut now = Summary::new([None, None], None, true);
        out.timings.get_mut("w1_sgd").unwrap().samples_ms = vec![5.0, 5.1, 5.2];
        now.add("descent", 2, &out, "");
        let md = render(&back, &now);
        assert!(
            md.contains("Rows slower beyond noise: descent 2t w1_sgd."),
            "{md}"
        );
        assert!(
            md.contains("| descent 2t w1_sgd | 4.100 | 5.100 | +24.4% | **slower beyond noise** |"),
            "{md}"
        );
        // The same rows against a baseline of the same run.
        let md = render_baseline("HEAD~1", "abc123", &back, &now, &BTreeMap::new());
        assert!(
            md.contains("## Against the baseline `HEAD~1` (same run)"),
            "{md}"
        );
        assert!(md.contains("| row | baseline median ms |"), "{md}");
        assert!(
            md.contains("Rows slower beyond noise: descent 2t w1_sgd."),
            "{md}"
        );
        // Confirmation rounds that disagree withdraw the verdict; rounds
        // that agree keep it, and say so.
        let rounds = |this_ms: Vec<f64>| {
            let c = Confirmation {
                flagged: Verdict::Slower,
                this_ms,
                base_ms: vec![4.1, 4.1, 4.1],
            };
            BTreeMap::from([("descent 2t w1_sgd".to_owned(), c)])
        };
        let against = |this_ms| render_baseline("HEAD~1", "abc123", &back, &now, &rounds(this_ms));
        let md = against(vec![4.2, 4.0, 4.3]);
        assert!(md.contains("Rows slower beyond noise: none."), "{md}");
        assert!(md.contains("timed again in 3 rounds"), "{md}");
        assert!(
            md.contains(
                "| +24.4% | within noise: flagged slower, then slower in 2 of 3 rounds (+2.4%) |"
            ),
            "{md}"
        );
        let md = against(vec![4.2, 4.2, 4.3]);
        assert!(
            md.contains("Rows slower beyond noise: descent 2t w1_sgd."),
            "{md}"
        );
        assert!(
            md.contains("**slower beyond noise**, confirmed: slower in 3 of 3 rounds (+2.4%)"),
            "{md}"
        );
    }
}
