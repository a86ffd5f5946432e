//! `plot_optimization_history`: each completed trial's value and the best
//! value so far (`optuna/visualization/_optimization_history.py`).

use crate::canvas::{self, Area, Drawn, Figure, PLOTLY, de, linear, padded};
use crate::data::{completed, objective};
use crate::{Error, Result};
use descent_core::Direction;
use descent_hpo::FrozenTrial;
use plotters::prelude::*;
use std::path::Path;

/// The points of the optimization history.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct History {
    /// (trial number, value) of each completed trial with a finite value.
    pub values: Vec<(f64, f64)>,
    /// (trial number, best value among it and the earlier ones).
    pub best: Vec<(f64, f64)>,
}

impl History {
    pub(crate) fn new(trials: &[FrozenTrial], direction: Direction) -> Result<Self> {
        let done = completed(trials);
        if done.is_empty() {
            return Err(Error::nothing(
                Self::PLOT,
                "there are no complete trials with a finite value",
            ));
        }
        let mut sorted = done;
        sorted.sort_by_key(|t| t.number);
        let mut best: Option<f64> = None;
        let mut out = History {
            values: Vec::new(),
            best: Vec::new(),
        };
        for t in sorted {
            let Some(v) = objective(t) else { continue };
            if best.is_none_or(|b| direction.better(v, b)) {
                best = Some(v);
            }
            let x = t.number as f64;
            out.values.push((x, v));
            out.best.push((x, best.unwrap_or(v)));
        }
        Ok(out)
    }
}

impl Figure for History {
    const PLOT: &'static str = "plot_optimization_history";

    fn draw<DB: DrawingBackend>(&self, area: &Area<'_, DB>) -> Drawn {
        let body = canvas::titled(area, "Optimization History Plot")?;
        let x = linear("Trial", padded(self.values.iter().map(|p| p.0)));
        let y = linear("Objective Value", padded(self.values.iter().map(|p| p.1)));
        let mut chart = canvas::chart(&body, None, &x, &y)?;
        let (c0, c1) = (PLOTLY[0], PLOTLY[1]);
        chart
            .draw_series(self.values.iter().map(|&p| Circle::new(p, 4, c0.filled())))
            .map_err(de)?
            .label("Objective Value")
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, c0.filled()));
        // Best so far is a step function of the trial number.
        let mut steps = Vec::with_capacity(2 * self.best.len());
        for (i, &(xv, yv)) in self.best.iter().enumerate() {
            if i > 0 {
                steps.push((xv, self.best[i - 1].1));
            }
            steps.push((xv, yv));
        }
        chart
            .draw_series(LineSeries::new(steps, c1.stroke_width(2)))
            .map_err(de)?
            .label("Best Value")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c1.stroke_width(2)));
        canvas::legend(&mut chart)
    }
}

/// Plots each completed trial's objective value against its number, and the
/// best value so far (lowest when minimizing, highest when maximizing), as
/// Optuna's `plot_optimization_history`: title "Optimization History Plot",
/// axes "Trial" and "Objective Value", legend "Objective Value" and
/// "Best Value". Writes a PNG or an SVG by `path`'s extension, atomically,
/// [`WIDTH`](crate::WIDTH) × [`HEIGHT`](crate::HEIGHT).
///
/// Pruned, failed and running trials and non-finite values are left out;
/// with no completed trial left the result is [`Error::NothingToPlot`].
///
/// # Examples
///
/// ```
/// use descent_hpo::{Direction, Study, StudyConfig};
/// use descent_hpo_plot::plot_optimization_history;
///
/// let study = Study::new(StudyConfig::default());
/// study.optimize(|t| t.suggest_float("x", -1.0, 1.0).map(|x| x * x), 10, 1)?;
/// let path = std::env::temp_dir().join("descent-doc-history.svg");
/// plot_optimization_history(&study.trials(), Direction::Minimize, &path)?;
/// assert!(std::fs::read_to_string(&path)?.contains("Best Value"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn plot_optimization_history(
    trials: &[FrozenTrial],
    direction: Direction,
    path: impl AsRef<Path>,
) -> Result<()> {
    canvas::render(&History::new(trials, direction)?, path.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_hpo::TrialState;

    fn trial(n: u64, state: TrialState, value: Option<f64>) -> FrozenTrial {
        let mut t = FrozenTrial::running(n);
        t.state = state;
        t.value = value;
        t
    }

    #[test]
    fn the_best_line_follows_the_direction_and_skips_unfinished_and_nan() {
        let ts = vec![
            trial(0, TrialState::Complete, Some(3.0)),
            trial(1, TrialState::Pruned, Some(0.1)),
            trial(2, TrialState::Complete, Some(5.0)),
            trial(3, TrialState::Complete, Some(f64::NAN)),
            trial(4, TrialState::Complete, Some(1.0)),
        ];
        let min = History::new(&ts, Direction::Minimize).unwrap();
        assert_eq!(min.values, vec![(0.0, 3.0), (2.0, 5.0), (4.0, 1.0)]);
        assert_eq!(min.best, vec![(0.0, 3.0), (2.0, 3.0), (4.0, 1.0)]);
        let max = History::new(&ts, Direction::Maximize).unwrap();
        assert_eq!(max.best, vec![(0.0, 3.0), (2.0, 5.0), (4.0, 5.0)]);
    }

    #[test]
    fn no_completed_trial_is_nothing_to_plot() {
        let ts = vec![trial(0, TrialState::Pruned, Some(1.0))];
        assert!(matches!(
            History::new(&ts, Direction::Minimize),
            Err(Error::NothingToPlot {
                plot: "plot_optimization_history",
                ..
            })
        ));
    }
}
