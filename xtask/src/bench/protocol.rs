//! The line protocol shared by descent's `bench --child` processes and
//! `benches/torch_workloads.py`, one record per line:
//!
//! - `threads N`: the thread count the process actually used;
//! - `limit NAME VALUE`: a machine limit (`sgemm_gflops`, `triad_gbs`);
//! - `workload NAME MS MS ...`: one time per timed iteration, in ms;
//! - `note KEY VALUE...`: a fact the table reports (e.g. which
//!   implementation PyTorch's default optimizer ran);
//! - `peak KIB`: the process's peak resident set (`VmHWM` of
//!   `/proc/self/status`, KiB), read at its end.
//!
//! Other lines are ignored; a known record that does not parse is an error
//! naming its line.

use anyhow::{Context, Result, bail};
use descent_bench::Timing;
use std::collections::BTreeMap;

/// This machine's limits as measured in the run (best over rounds).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    /// sgemm GFLOP/s of a 1024³ product (`descent_bench::sgemm_gflops`).
    pub sgemm_gflops: f64,
    /// STREAM-triad GB/s.
    pub triad_gbs: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            sgemm_gflops: f64::NAN,
            triad_gbs: f64::NAN,
        }
    }
}

/// Everything one tool printed, pooled over rounds.
#[derive(Debug, Default)]
pub struct Output {
    /// Samples per workload name.
    pub timings: BTreeMap<String, Timing>,
    /// The limits (NaN until measured).
    pub limits: Limits,
    /// `note` lines by key.
    pub notes: BTreeMap<String, String>,
    /// The last `threads` line.
    pub threads: Option<usize>,
    /// The largest `peak` line (KiB), if any.
    pub peak_kib: Option<u64>,
}

impl Output {
    /// Parses one process's standard output.
    pub fn parse(text: &str) -> Result<Output> {
        let mut out = Output::default();
        for (i, line) in text.lines().enumerate() {
            out.read_line(line)
                .with_context(|| format!("line {}: {line:?}", i + 1))?;
        }
        Ok(out)
    }

    fn read_line(&mut self, line: &str) -> Result<()> {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("threads") => {
                let n = words.next().context("`threads` needs a count")?;
                self.threads = Some(n.parse().with_context(|| format!("thread count {n:?}"))?);
            }
            Some("limit") => {
                let name = words.next().context("`limit` needs a name")?;
                let value = words.next().context("`limit` needs a value")?;
                let value: f64 = value.parse().with_context(|| format!("limit {value:?}"))?;
                match name {
                    "sgemm_gflops" => self.limits.sgemm_gflops = value,
                    "triad_gbs" => self.limits.triad_gbs = value,
                    _ => bail!("unknown limit `{name}`"),
                }
            }
            Some("workload") => {
                let name = words.next().context("`workload` needs a name")?;
                let samples_ms = words
                    .map(|v| v.parse().with_context(|| format!("time {v:?}")))
                    .collect::<Result<Vec<f64>>>()?;
                if samples_ms.is_empty() {
                    bail!("workload `{name}` has no times");
                }
                self.timings
                    .entry(name.to_owned())
                    .or_default()
                    .extend(&Timing { samples_ms });
            }
            Some("peak") => {
                let kib = words.next().context("`peak` needs a size in KiB")?;
                let kib: u64 = kib.parse().with_context(|| format!("peak {kib:?}"))?;
                self.peak_kib = self.peak_kib.max(Some(kib));
            }
            Some("note") => {
                let key = words.next().context("`note` needs a key")?;
                let value: Vec<&str> = words.collect();
                self.notes.insert(key.to_owned(), value.join(" "));
            }
            _ => {}
        }
        Ok(())
    }

    /// Adds another round: samples are pooled, limits keep their best
    /// value, notes and the thread count take the newer one.
    pub fn absorb(&mut self, other: Output) {
        for (name, t) in other.timings {
            self.timings.entry(name).or_default().extend(&t);
        }
        let best = |a: f64, b: f64| if a.is_nan() { b } else { a.max(b) };
        self.limits.sgemm_gflops = best(self.limits.sgemm_gflops, other.limits.sgemm_gflops);
        self.limits.triad_gbs = best(self.limits.triad_gbs, other.limits.triad_gbs);
        self.notes.extend(other.notes);
        self.threads = other.threads.or(self.threads);
        self.peak_kib = self.peak_kib.max(other.peak_kib);
    }
}

/// The `workload` line of `t`.
pub fn workload_line(name: &str, t: &Timing) -> String {
    let ms: Vec<String> = t.samples_ms.iter().map(|v| format!("{v:.5}")).collect();
    format!("workload {name} {}", ms.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_pool_samples_and_keep_the_best_limit() {
        let mut all = Output::default();
        all.absorb(
            Output::parse("threads 2\nlimit sgemm_gflops 50\nworkload w1_sgd 2.0 4.0\n").unwrap(),
        );
        all.absorb(
            Output::parse(
                "limit sgemm_gflops 40\nlimit triad_gbs 20\nnoise\nworkload w1_sgd 3.0\n",
            )
            .unwrap(),
        );
        assert_eq!(all.limits.sgemm_gflops, 50.0);
        assert_eq!(all.limits.triad_gbs, 20.0);
        assert_eq!(all.threads, Some(2));
        assert_eq!(all.timings["w1_sgd"].samples_ms, vec![2.0, 4.0, 3.0]);
        assert_eq!(all.timings["w1_sgd"].median_ms(), 3.0);
    }

    #[test]
    fn workload_lines_round_trip() {
        let t = Timing {
            samples_ms: vec![1.5, 2.25],
        };
        let out = Output::parse(&workload_line("w5_adam_1x10m:default", &t)).unwrap();
        assert_eq!(out.timings["w5_adam_1x10m:default"], t);
    }

    #[test]
    fn the_peak_is_the_largest_seen() {
        let mut all = Output::parse("threads 1\npeak 2048\n").unwrap();
        all.absorb(Output::parse("peak 1024\n").unwrap());
        assert_eq!(all.peak_kib, Some(2048));
        assert_eq!(Output::parse("threads 1\n").unwrap().peak_kib, None);
    }

    #[test]
    fn notes_keep_their_whole_value() {
        let out = Output::parse("note w5_default_impl for-loop (foreach=False)").unwrap();
        assert_eq!(out.notes["w5_default_impl"], "for-loop (foreach=False)");
    }

    #[test]
    fn malformed_records_are_errors_naming_the_line() {
        for bad in [
            "workload w1_sgd 1.0 oops",
            "workload w1_sgd",
            "limit triad_gbs",
            "limit flops 3",
            "threads two",
            "peak",
            "peak 1.5",
        ] {
            let err = Output::parse(&format!("threads 1\n{bad}\n")).unwrap_err();
            assert!(format!("{err:#}").contains("line 2"), "{bad}: {err:#}");
        }
    }
}
