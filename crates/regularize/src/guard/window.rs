//! The running window of recent losses a spike is measured against.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// How the window's centre and spread are measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowStatistic {
    /// Median and 1.4826·MAD (the MAD scaled to equal σ for normal data):
    /// robust, so one earlier spike does not hide the next.
    #[default]
    MedianMad,
    /// Mean and standard deviation.
    MeanStd,
}

/// Consistency constant making the MAD of normal data equal its σ.
const MAD_TO_SIGMA: f64 = 1.482_602_218_505_602;

/// The last `capacity` good losses, with a reusable scratch buffer for medians.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LossWindow {
    losses: VecDeque<f64>,
    capacity: usize,
    scratch: Vec<f64>,
}

impl LossWindow {
    pub(crate) fn new(capacity: usize) -> Self {
        LossWindow {
            losses: VecDeque::with_capacity(capacity),
            capacity,
            scratch: Vec::with_capacity(capacity),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.losses.len()
    }

    /// The losses held, oldest first.
    pub(crate) fn losses(&self) -> Vec<f64> {
        self.losses.iter().copied().collect()
    }

    /// A window of `capacity` holding `losses` (the newest `capacity` of them).
    pub(crate) fn from_losses(capacity: usize, losses: &[f64]) -> Self {
        let mut w = LossWindow::new(capacity);
        for &l in losses {
            w.push(l);
        }
        w
    }

    pub(crate) fn push(&mut self, loss: f64) {
        if self.losses.len() == self.capacity {
            self.losses.pop_front();
        }
        self.losses.push_back(loss);
    }

    /// `(centre, spread)` of the window; `None` when it is empty.
    pub(crate) fn stats(&mut self, statistic: WindowStatistic) -> Option<(f64, f64)> {
        if self.losses.is_empty() {
            return None;
        }
        let n = self.losses.len() as f64;
        Some(match statistic {
            WindowStatistic::MeanStd => {
                let mean = self.losses.iter().sum::<f64>() / n;
                let var = self.losses.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
                (mean, var.sqrt())
            }
            WindowStatistic::MedianMad => {
                self.scratch.clear();
                self.scratch.extend(self.losses.iter().copied());
                let centre = median(&mut self.scratch);
                for x in &mut self.scratch {
                    *x = (*x - centre).abs();
                }
                (centre, MAD_TO_SIGMA * median(&mut self.scratch))
            }
        })
    }
}

/// The median of `xs` (mean of the two middle values for an even count); reorders `xs`.
fn median(xs: &mut [f64]) -> f64 {
    let (n, mid) = (xs.len(), xs.len() / 2);
    let (lower, m, _) = xs.select_nth_unstable_by(mid, f64::total_cmp);
    let m = *m;
    if n % 2 == 1 {
        m
    } else {
        let below = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        0.5 * (below + m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn median_and_mad_of_a_small_window() {
        let mut w = LossWindow::new(4);
        for x in [9.0, 1.0, 2.0, 3.0, 10.0] {
            w.push(x);
        }
        // window is [1, 2, 3, 10]: median 2.5, deviations [1.5, .5, .5, 7.5] -> MAD 1.0
        let (c, s) = w.stats(WindowStatistic::MedianMad).unwrap();
        assert_eq!((c, s), (2.5, MAD_TO_SIGMA));
        let (mean, std) = w.stats(WindowStatistic::MeanStd).unwrap();
        assert_eq!(mean, 4.0);
        assert!(
            (std - 12.5f64.sqrt()).abs() < 1e-12,
            "squared deviations 9, 4, 1, 36"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn median_matches_sorting(xs in proptest::collection::vec(-1e3..1e3f64, 1..30)) {
            let mut sorted = xs.clone();
            sorted.sort_by(f64::total_cmp);
            let n = sorted.len();
            let expected = if n % 2 == 1 { sorted[n / 2] } else { 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]) };
            let mut scratch = xs.clone();
            prop_assert_eq!(median(&mut scratch), expected);
        }
    }
}
