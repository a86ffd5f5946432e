//! `plot_slice`: the objective against each parameter
//! (`optuna/visualization/_slice.py`).

use crate::canvas::{self, Area, Axis, Drawn, Figure, blues, de, linear, padded};
use crate::data::{ParamAxis, completed_with_params, objective, param_axis};
use crate::{Error, Result};
use descent_hpo::FrozenTrial;
use plotters::prelude::*;
use std::path::Path;

/// Panels per row.
const COLS: usize = 3;

/// One panel per parameter.
#[derive(Debug, Clone)]
pub(crate) struct Slice {
    /// Each completed trial's objective value, in trial order.
    pub values: Vec<f64>,
    /// Each trial's number scaled to 0 (the first) to 1 (the last): its colour.
    pub shade: Vec<f64>,
    /// The first and last trial numbers (the colour bar's range).
    pub numbers: (f64, f64),
    pub params: Vec<ParamAxis>,
    pub y: Axis,
}

impl Slice {
    pub(crate) fn new(trials: &[FrozenTrial], params: Option<&[&str]>) -> Result<Self> {
        let (done, names) = completed_with_params(trials, params, Self::PLOT)?;
        if names.is_empty() {
            return Err(Error::nothing(Self::PLOT, "the trials have no parameters"));
        }
        let values: Vec<f64> = done.iter().filter_map(|t| objective(t)).collect();
        let first = done.first().map_or(0.0, |t| t.number as f64);
        let last = done.last().map_or(0.0, |t| t.number as f64);
        let shade = done
            .iter()
            .map(|t| {
                if last > first {
                    (t.number as f64 - first) / (last - first)
                } else {
                    1.0
                }
            })
            .collect();
        let params = names.iter().map(|p| param_axis(&done, p)).collect();
        let y = linear("Objective Value", padded(values.iter().copied()));
        Ok(Slice {
            values,
            shade,
            numbers: (first, last),
            params,
            y,
        })
    }
}

impl Figure for Slice {
    const PLOT: &'static str = "plot_slice";

    fn draw<DB: DrawingBackend>(&self, area: &Area<'_, DB>) -> Drawn {
        let body = canvas::titled(area, "Slice Plot")?;
        let (plots, bar) = body.split_horizontally(body.dim_in_pixel().0 - 80);
        let n = self.params.len();
        let cols = n.min(COLS);
        let rows = n.div_ceil(COLS);
        let panels = plots.split_evenly((rows, cols));
        for (panel, p) in panels.iter().zip(&self.params) {
            let mut chart = canvas::chart(panel, None, &p.axis, &self.y)?;
            let pts = p
                .values
                .iter()
                .zip(&self.values)
                .zip(&self.shade)
                .filter_map(|((x, &y), &s)| x.map(|x| (x, y, s)));
            chart
                .draw_series(pts.map(|(x, y, s)| {
                    EmptyElement::at((x, y))
                        + Circle::new((0, 0), 4, blues(0.25 + 0.75 * s).filled())
                        + Circle::new((0, 0), 4, RGBColor(120, 120, 120).stroke_width(1))
                }))
                .map_err(de)?;
        }
        canvas::colour_bar(&bar, "Trial", self.numbers, |t| blues(0.25 + 0.75 * t))
    }
}

/// Plots the objective value of each completed trial against each
/// parameter (all of them, sorted by name, or those in `params`), one panel
/// per parameter, as Optuna's `plot_slice`: title "Slice Plot", each panel's
/// x axis the parameter's name (log scale for a log parameter, the
/// categories as labels), y axis "Objective Value", points coloured from
/// light to dark by trial number with a colour bar "Trial". Writes a PNG or an
/// SVG by `path`'s extension, atomically.
///
/// Errors: [`Error::NothingToPlot`] without a completed trial or without
/// parameters; [`Error::UnknownParam`] for a name in `params` that no
/// completed trial holds.
pub fn plot_slice(
    trials: &[FrozenTrial],
    params: Option<&[&str]>,
    path: impl AsRef<Path>,
) -> Result<()> {
    canvas::render(&Slice::new(trials, params)?, path.as_ref())
}
