//! Confirmation rounds: the rows the interquartile rule flags against a
//! baseline of the same run (`--baseline`) are timed again before the
//! report calls them slower or faster.
//!
//! The rule of `bench/previous.rs` pools each build's samples over the
//! table's rounds, and a child times a row for a second or two. This VM's
//! phases last longer than that, so two children of the same code can
//! have disjoint middle halves: two full tables at `82542a6` flagged 3 and
//! 8 of 98 rows against `acb8661`, most of them rows whose code had not
//! changed, and only one of them in both runs. So each flagged row is timed
//! again in `--confirm N` more rounds (default [`DEFAULT_ROUNDS`]; 0 turns
//! them off), by children that time only the flagged rows: both builds in
//! every round, this build first in even rounds and the baseline first in
//! odd ones, so drift within a round falls on both alike. Each child gives
//! one median per row, and the pooled verdict stands only when this
//! build's median is on its side of the baseline's in every round. For two
//! builds that do not differ, each round is a coin toss, so a verdict
//! stands by chance with probability 2^-N (0.8% at N = 7).
//!
//! Rows no child can time alone (W8, the under-load rows, W9) keep the
//! pooled verdict; so does a row a confirmation child did not print (an
//! older baseline that does not select it by name), reported as not
//! re-timed.

use super::previous::{Row, Verdict, verdict};
use super::protocol::Output;
use anyhow::Result;
use descent_bench::Timing;
use std::collections::BTreeMap;

/// Confirmation rounds when `--confirm` is not given.
pub const DEFAULT_ROUNDS: usize = 7;

/// Which build a confirmation child runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Build {
    /// The build running the bench.
    This,
    /// The baseline.
    Baseline,
}

/// One flagged row's confirmation rounds.
#[derive(Clone, Debug, PartialEq)]
pub struct Confirmation {
    /// What the pooled interquartile rule said (never within noise).
    pub flagged: Verdict,
    /// This build's median per round, ms (NaN: the child did not print
    /// the row).
    pub this_ms: Vec<f64>,
    /// The baseline's median per round, ms (NaN likewise).
    pub base_ms: Vec<f64>,
}

/// What the rounds made of a flagged verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// This build was on the flagged side in every round.
    Holds,
    /// At least one round disagreed: within noise after all.
    Withdrawn,
    /// Some round has no median for one of the builds: the pooled verdict
    /// stands unconfirmed.
    NotRetimed,
}

impl Confirmation {
    /// The rounds in which this build was on the flagged side of the
    /// baseline (rounds without both medians do not count).
    pub fn agreeing(&self) -> usize {
        self.pairs()
            .filter(|&(t, b)| match self.flagged {
                Verdict::Slower => t > b,
                Verdict::Faster => t < b,
                Verdict::WithinNoise => false,
            })
            .count()
    }

    /// The rounds run.
    pub fn rounds(&self) -> usize {
        self.this_ms.len()
    }

    /// The verdict after the rounds (see the module docs).
    pub fn outcome(&self) -> Outcome {
        let complete = self.rounds() > 0
            && self.base_ms.len() == self.rounds()
            && self.pairs().all(|(t, b)| t.is_finite() && b.is_finite());
        if !complete {
            Outcome::NotRetimed
        } else if self.agreeing() == self.rounds() {
            Outcome::Holds
        } else {
            Outcome::Withdrawn
        }
    }

    /// The median over rounds of this build's time over the baseline's,
    /// minus one (NaN without a complete round).
    pub fn median_change(&self) -> f64 {
        let samples_ms = self
            .pairs()
            .filter(|(t, b)| t.is_finite() && b.is_finite())
            .map(|(t, b)| t / b - 1.0)
            .collect();
        Timing { samples_ms }.median_ms()
    }

    /// The report's verdict cell for this row.
    pub fn cell(&self) -> String {
        let side = match self.flagged {
            Verdict::Slower => "slower",
            _ => "faster",
        };
        let (agree, n) = (self.agreeing(), self.rounds());
        let change = 100.0 * self.median_change();
        let label = self.flagged.label();
        match self.outcome() {
            Outcome::Holds => {
                format!("{label}, confirmed: {side} in {agree} of {n} rounds ({change:+.1}%)")
            }
            Outcome::Withdrawn => format!(
                "{}: flagged {side}, then {side} in {agree} of {n} rounds ({change:+.1}%)",
                Verdict::WithinNoise.label()
            ),
            Outcome::NotRetimed => format!("{label} (not re-timed)"),
        }
    }

    fn pairs(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.this_ms
            .iter()
            .copied()
            .zip(self.base_ms.iter().copied())
    }
}

/// The rows both builds timed whose pooled verdict is not within noise,
/// by row name, with that verdict.
pub fn flagged(this: &Output, base: &Output) -> BTreeMap<String, Verdict> {
    this.timings
        .iter()
        .filter_map(|(name, t)| {
            let now = Row::of(t)?;
            let old = Row::of(base.timings.get(name)?)?;
            let v = verdict(&old, &now);
            (v != Verdict::WithinNoise).then(|| (name.clone(), v))
        })
        .collect()
}

/// Runs `rounds` confirmation rounds of the `flagged` rows: `run(build,
/// names)` runs one child of `build` timing the rows `names` and returns
/// its output. Rows are keyed by name, as in [`flagged`].
pub fn confirm(
    flagged: &BTreeMap<String, Verdict>,
    rounds: usize,
    mut run: impl FnMut(Build, &[String]) -> Result<Output>,
) -> Result<BTreeMap<String, Confirmation>> {
    let names: Vec<String> = flagged.keys().cloned().collect();
    let mut out: BTreeMap<String, Confirmation> = flagged
        .iter()
        .map(|(name, &v)| {
            let c = Confirmation {
                flagged: v,
                this_ms: Vec::with_capacity(rounds),
                base_ms: Vec::with_capacity(rounds),
            };
            (name.clone(), c)
        })
        .collect();
    if names.is_empty() {
        return Ok(out);
    }
    for round in 0..rounds {
        for build in super::first_in_round(round) {
            let child = run(build, &names)?;
            for (name, c) in &mut out {
                let median = child.timings.get(name).map_or(f64::NAN, |t| t.median_ms());
                match build {
                    Build::This => c.this_ms.push(median),
                    Build::Baseline => c.base_ms.push(median),
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(rows: &[(&str, &[f64])]) -> Output {
        let mut o = Output::default();
        for (name, samples) in rows {
            o.timings.insert(
                (*name).to_owned(),
                Timing {
                    samples_ms: samples.to_vec(),
                },
            );
        }
        o
    }

    fn slower(this_ms: &[f64], base_ms: &[f64]) -> Confirmation {
        Confirmation {
            flagged: Verdict::Slower,
            this_ms: this_ms.to_vec(),
            base_ms: base_ms.to_vec(),
        }
    }

    #[test]
    fn only_rows_both_builds_timed_beyond_noise_are_flagged() {
        let this = output(&[
            ("a", &[11.0, 11.5, 12.0, 12.5]),
            ("b", &[9.0, 9.5, 10.0, 10.5]),
            ("c", &[5.0, 5.1, 5.2, 5.3]),
            ("new", &[1.0]),
        ]);
        let base = output(&[
            ("a", &[9.0, 9.5, 10.0, 10.5]),
            ("b", &[9.2, 9.6, 10.1, 10.4]),
            ("c", &[6.0, 6.1, 6.2, 6.3]),
        ]);
        let f = flagged(&this, &base);
        assert_eq!(
            f.into_iter().collect::<Vec<_>>(),
            vec![
                ("a".to_owned(), Verdict::Slower),
                ("c".to_owned(), Verdict::Faster)
            ]
        );
    }

    #[test]
    fn a_verdict_stands_only_when_every_round_agrees() {
        let all = slower(&[10.2, 10.3, 10.5], &[10.0, 10.0, 10.0]);
        assert_eq!((all.agreeing(), all.outcome()), (3, Outcome::Holds));
        assert!((all.median_change() - 0.03).abs() < 1e-12);
        assert!(
            all.cell()
                .starts_with("**slower beyond noise**, confirmed: slower in 3 of 3 rounds (+3.0%)"),
            "{}",
            all.cell()
        );
        let one_off = slower(&[10.4, 10.0, 10.5], &[10.0, 10.1, 10.2]);
        assert_eq!(
            (one_off.agreeing(), one_off.outcome()),
            (2, Outcome::Withdrawn)
        );
        assert!(
            one_off
                .cell()
                .starts_with("within noise: flagged slower, then slower in 2 of 3")
        );
        // Equal medians do not agree with either side.
        let tie = slower(&[10.0], &[10.0]);
        assert_eq!(tie.outcome(), Outcome::Withdrawn);
        let faster = Confirmation {
            flagged: Verdict::Faster,
            ..slower(&[9.0, 9.1], &[10.0, 10.0])
        };
        assert_eq!(faster.outcome(), Outcome::Holds);
        assert!(
            faster
                .cell()
                .starts_with("faster beyond noise, confirmed: faster in 2 of 2")
        );
    }

    #[test]
    fn a_round_missing_a_median_leaves_the_pooled_verdict_unconfirmed() {
        let missing = slower(&[10.4, 10.3], &[10.0, f64::NAN]);
        assert_eq!(missing.outcome(), Outcome::NotRetimed);
        assert_eq!(missing.cell(), "**slower beyond noise** (not re-timed)");
        assert!((missing.median_change() - 0.04).abs() < 1e-12);
        assert_eq!(slower(&[], &[]).outcome(), Outcome::NotRetimed);
    }

    #[test]
    fn rounds_alternate_which_build_goes_first_and_time_only_the_flagged_rows() {
        let flagged: BTreeMap<String, Verdict> = [
            ("w1_sgd".to_owned(), Verdict::Slower),
            ("w6op_blur".to_owned(), Verdict::Faster),
        ]
        .into();
        let mut calls = Vec::new();
        let c = confirm(&flagged, 3, |build, names| {
            calls.push((build, names.to_vec()));
            let t = if build == Build::This { 11.0 } else { 10.0 };
            // The baseline does not print the second row.
            Ok(match build {
                Build::This => output(&[("w1_sgd", &[t, t + 2.0]), ("w6op_blur", &[t])]),
                Build::Baseline => output(&[("w1_sgd", &[t])]),
            })
        })
        .unwrap();
        let order: Vec<Build> = calls.iter().map(|c| c.0).collect();
        use Build::{Baseline as B, This as T};
        assert_eq!(order, vec![T, B, B, T, T, B]);
        assert!(
            calls
                .iter()
                .all(|c| c.1 == vec!["w1_sgd".to_owned(), "w6op_blur".to_owned()])
        );
        assert_eq!(c["w1_sgd"].this_ms, vec![12.0; 3]);
        assert_eq!(c["w1_sgd"].base_ms, vec![10.0; 3]);
        assert_eq!(c["w1_sgd"].outcome(), Outcome::Holds);
        assert_eq!(c["w6op_blur"].outcome(), Outcome::NotRetimed);
        // Nothing flagged: no child runs.
        let none = confirm(&BTreeMap::new(), 7, |_, _| unreachable!()).unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn a_failed_child_is_an_error() {
        let flagged: BTreeMap<String, Verdict> = [("w1_sgd".to_owned(), Verdict::Slower)].into();
        let e = confirm(&flagged, 2, |_, _| anyhow::bail!("child died")).unwrap_err();
        assert!(e.to_string().contains("child died"), "{e:#}");
    }
}
