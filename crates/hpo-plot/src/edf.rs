//! `plot_edf`: the empirical distribution of the objective values
//! (`optuna/visualization/_edf.py`).

use crate::canvas::{self, Area, Drawn, Figure, PLOTLY, de, linear, padded};
use crate::data::{completed, objective};
use crate::{Error, Result};
use descent_hpo::FrozenTrial;
use plotters::prelude::*;
use std::path::Path;

/// Optuna's `NUM_SAMPLES_X_AXIS`.
const N_SAMPLES: usize = 100;

/// The EDF sampled at evenly spaced values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Edf {
    /// (x, fraction of values ≤ x).
    pub points: Vec<(f64, f64)>,
}

impl Edf {
    pub(crate) fn new(trials: &[FrozenTrial]) -> Result<Self> {
        let values: Vec<f64> = completed(trials)
            .into_iter()
            .filter_map(objective)
            .collect();
        if values.is_empty() {
            return Err(Error::nothing(
                Self::PLOT,
                "there are no complete trials with a finite value",
            ));
        }
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let n = values.len() as f64;
        let points = (0..N_SAMPLES)
            .map(|k| {
                // numpy's linspace: the end point exact.
                let x = if k + 1 == N_SAMPLES {
                    hi
                } else {
                    lo + (hi - lo) * k as f64 / (N_SAMPLES - 1) as f64
                };
                (x, values.iter().filter(|&&v| v <= x).count() as f64 / n)
            })
            .collect();
        Ok(Edf { points })
    }
}

impl Figure for Edf {
    const PLOT: &'static str = "plot_edf";

    fn draw<DB: DrawingBackend>(&self, area: &Area<'_, DB>) -> Drawn {
        let body = canvas::titled(area, "Empirical Distribution Function Plot")?;
        let x = linear("Objective Value", padded(self.points.iter().map(|p| p.0)));
        let y = linear("Cumulative Probability", (-0.05, 1.05));
        let mut chart = canvas::chart(&body, None, &x, &y)?;
        chart
            .draw_series(LineSeries::new(
                self.points.clone(),
                PLOTLY[0].stroke_width(2),
            ))
            .map_err(de)?;
        Ok(())
    }
}

/// Plots the empirical cumulative distribution of the completed trials'
/// objective values, sampled at 100 evenly spaced values from the lowest to
/// the highest, as Optuna's `plot_edf`: title "Empirical Distribution
/// Function Plot", axes "Objective Value" and "Cumulative Probability".
/// Writes a PNG or an SVG by `path`'s extension, atomically.
///
/// With no completed trial with a finite value the result is
/// [`Error::NothingToPlot`].
pub fn plot_edf(trials: &[FrozenTrial], path: impl AsRef<Path>) -> Result<()> {
    canvas::render(&Edf::new(trials)?, path.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_hpo::TrialState;

    #[test]
    fn the_edf_rises_from_the_share_at_the_minimum_to_one() {
        let ts: Vec<FrozenTrial> = [1.0, 2.0, 2.0, 4.0]
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let mut t = FrozenTrial::running(i as u64);
                t.state = TrialState::Complete;
                t.value = Some(v);
                t
            })
            .collect();
        let e = Edf::new(&ts).unwrap();
        assert_eq!(e.points.len(), 100);
        assert_eq!(e.points[0], (1.0, 0.25));
        assert_eq!(e.points[99], (4.0, 1.0));
        assert!(e.points.windows(2).all(|w| w[0].1 <= w[1].1));
        let mid = e.points.iter().find(|p| p.0 >= 2.0).unwrap();
        assert_eq!(mid.1, 0.75);
    }
}
