//! `plot_intermediate_values`: the learning curves of pruned, completed and
//! running trials (`optuna/visualization/_intermediate_values.py`).

use crate::canvas::{self, Area, Drawn, Figure, PLOTLY, de, linear, padded};
use crate::{Error, Result};
use descent_hpo::{FrozenTrial, TrialState};
use plotters::prelude::*;
use std::path::Path;

/// Up to this many trials, each has its own colour and legend entry
/// "Trial{n}" as in Optuna; beyond it, trials are coloured by state.
const PER_TRIAL_LEGEND: usize = 10;

/// One trial's curve.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Curve {
    pub number: u64,
    pub state: TrialState,
    /// (step, value), by step; non-finite values kept (they break the line).
    pub points: Vec<(f64, f64)>,
}

/// The curves to draw.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Intermediate {
    pub curves: Vec<Curve>,
}

impl Intermediate {
    pub(crate) fn new(trials: &[FrozenTrial]) -> Result<Self> {
        let curves: Vec<Curve> = trials
            .iter()
            .filter(|t| t.state != TrialState::Fail && !t.intermediate.is_empty())
            .map(|t| Curve {
                number: t.number,
                state: t.state,
                points: t
                    .intermediate
                    .iter()
                    .map(|(&s, &v)| (s as f64, v))
                    .collect(),
            })
            .collect();
        if !curves
            .iter()
            .any(|c| c.points.iter().any(|p| p.1.is_finite()))
        {
            return Err(Error::nothing(
                Self::PLOT,
                "no trial reported a finite intermediate value (report them with `Trial::report`)",
            ));
        }
        Ok(Intermediate { curves })
    }

    fn style(&self, k: usize, c: &Curve) -> (RGBColor, String) {
        if self.curves.len() <= PER_TRIAL_LEGEND {
            return (PLOTLY[k % PLOTLY.len()], format!("Trial{}", c.number));
        }
        match c.state {
            TrialState::Complete => (PLOTLY[0], "Complete".into()),
            TrialState::Pruned => (PLOTLY[1], "Pruned".into()),
            _ => (RGBColor(150, 150, 150), "Running".into()),
        }
    }
}

impl Figure for Intermediate {
    const PLOT: &'static str = "plot_intermediate_values";

    fn draw<DB: DrawingBackend>(&self, area: &Area<'_, DB>) -> Drawn {
        let body = canvas::titled(area, "Intermediate Values Plot")?;
        let finite = || {
            self.curves
                .iter()
                .flat_map(|c| c.points.iter().copied())
                .filter(|p| p.1.is_finite())
        };
        let x = linear("Step", padded(finite().map(|p| p.0)));
        let y = linear("Intermediate Value", padded(finite().map(|p| p.1)));
        let mut chart = canvas::chart(&body, None, &x, &y)?;
        let mut labelled: Vec<String> = Vec::new();
        for (k, c) in self.curves.iter().enumerate() {
            let (col, name) = self.style(k, c);
            let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
            for &p in &c.points {
                if !p.1.is_finite() {
                    runs.push(Vec::new());
                } else if let Some(r) = runs.last_mut() {
                    r.push(p);
                }
            }
            for run in runs.into_iter().filter(|r| !r.is_empty()) {
                chart
                    .draw_series(run.iter().map(|&p| Circle::new(p, 2, col.filled())))
                    .map_err(de)?;
                let anno = chart
                    .draw_series(LineSeries::new(run, col.stroke_width(1)))
                    .map_err(de)?;
                if !labelled.contains(&name) {
                    labelled.push(name.clone());
                    anno.label(name.clone()).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2))
                    });
                }
            }
        }
        canvas::legend(&mut chart)
    }
}

/// Plots the intermediate values each trial reported against their step,
/// for pruned, completed and running trials, as Optuna's
/// `plot_intermediate_values`: title "Intermediate Values Plot", axes
/// "Step" and "Intermediate Value". With up to 10 trials each has a legend
/// entry "Trial{n}" as in Optuna; with more, the curves are coloured by state
/// (legend "Complete", "Pruned", "Running") so the legend stays readable.
/// A non-finite value breaks its trial's line. Writes a PNG or an SVG by
/// `path`'s extension, atomically.
///
/// With no finite intermediate value the result is [`Error::NothingToPlot`].
pub fn plot_intermediate_values(trials: &[FrozenTrial], path: impl AsRef<Path>) -> Result<()> {
    canvas::render(&Intermediate::new(trials)?, path.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_trials_and_trials_without_reports_are_left_out() {
        let mut a = FrozenTrial::running(0);
        a.state = TrialState::Pruned;
        a.intermediate.insert(0, 1.0);
        a.intermediate.insert(1, f64::NAN);
        let mut b = FrozenTrial::running(1);
        b.state = TrialState::Fail;
        b.intermediate.insert(0, 2.0);
        let c = FrozenTrial::running(2);
        let i = Intermediate::new(&[a, b, c]).unwrap();
        assert_eq!(i.curves.len(), 1);
        assert_eq!(i.curves[0].number, 0);
        assert_eq!(i.style(0, &i.curves[0]).1, "Trial0");
    }

    #[test]
    fn only_nan_reports_are_nothing_to_plot() {
        let mut a = FrozenTrial::running(0);
        a.intermediate.insert(0, f64::NAN);
        assert!(matches!(
            Intermediate::new(&[a]),
            Err(Error::NothingToPlot { .. })
        ));
    }
}
