//! `plot_contour`: the objective over two parameters, interpolated on a
//! 100 × 100 grid as Optuna does (`optuna/visualization/matplotlib/_contour.py`:
//! `_create_zmap`, `_interpolate_zmap`).

use crate::canvas::{self, Area, Axis, Drawn, Figure, Scale, blues, de};
use crate::data::{completed, objective, param_axis, param_names};
use crate::{Error, Result};
use descent_core::Direction;
use descent_hpo::FrozenTrial;
use plotters::prelude::*;
use std::collections::HashMap;
use std::path::Path;

mod interpolate;
pub(crate) use interpolate::interpolate;

/// Optuna's `CONTOUR_POINT_NUM`.
pub(crate) const N: usize = 100;
/// Colour levels of the filled contour (Optuna's 15).
const LEVELS: usize = 15;

/// The interpolated grid and the trials drawn over it.
#[derive(Debug, Clone)]
pub(crate) struct Contour {
    pub x: Axis,
    pub y: Axis,
    /// `z[j * N + i]` at grid x `i`, grid y `j` (plot units, evenly spaced over the ranges).
    pub z: Vec<f64>,
    /// The trials' (x, y) in plot units.
    pub points: Vec<(f64, f64)>,
    pub direction: Direction,
}

/// `N` evenly spaced coordinates over `range` (numpy's `linspace`).
fn linspace((lo, hi): (f64, f64)) -> Vec<f64> {
    (0..N)
        .map(|k| {
            if k + 1 == N {
                hi
            } else {
                lo + (hi - lo) * k as f64 / (N - 1) as f64
            }
        })
        .collect()
}

/// The grid index nearest to `v`, distances taken in the parameter's own
/// units (a log axis's grid is `logspace`), as Optuna's `argmin |xi − x|`.
fn nearest(grid: &[f64], v: f64, log: bool) -> usize {
    let raw = |u: f64| if log { 10f64.powf(u) } else { u };
    let target = raw(v);
    let mut best = (0, f64::INFINITY);
    for (k, &g) in grid.iter().enumerate() {
        let d = (raw(g) - target).abs();
        if d < best.1 {
            best = (k, d);
        }
    }
    best.0
}

impl Contour {
    pub(crate) fn new(
        trials: &[FrozenTrial],
        direction: Direction,
        (xp, yp): (&str, &str),
    ) -> Result<Self> {
        let mut done = completed(trials);
        if done.is_empty() {
            return Err(Error::nothing(
                Self::PLOT,
                "there are no complete trials with a finite value",
            ));
        }
        done.sort_by_key(|t| t.number);
        let names = param_names(&done);
        for p in [xp, yp] {
            if !names.iter().any(|n| n == p) {
                return Err(Error::UnknownParam {
                    plot: Self::PLOT,
                    name: p.to_owned(),
                });
            }
        }
        if xp == yp {
            return Err(Error::invalid(
                Self::PLOT,
                format!("the two parameters are both `{xp}`"),
            ));
        }
        let (xa, ya) = (param_axis(&done, xp), param_axis(&done, yp));
        for a in [&xa, &ya] {
            if a.n_distinct < 2 {
                return Err(Error::nothing(
                    Self::PLOT,
                    format!(
                        "parameter `{}` has fewer than two distinct values",
                        a.axis.label
                    ),
                ));
            }
        }
        // The best value at each distinct (x, y), then each trial in order
        // onto its nearest grid cell (a later trial overwrites an earlier one).
        let mut best: HashMap<(u64, u64), f64> = HashMap::new();
        let mut located = Vec::new();
        for (k, t) in done.iter().enumerate() {
            let (Some(xv), Some(yv), Some(v)) = (xa.values[k], ya.values[k], objective(t)) else {
                continue;
            };
            let e = best.entry((xv.to_bits(), yv.to_bits())).or_insert(v);
            if direction.better(v, *e) {
                *e = v;
            }
            located.push((xv, yv));
        }
        let (xi, yi) = (linspace(xa.axis.range), linspace(ya.axis.range));
        let (xlog, ylog) = (xa.axis.scale == Scale::Log, ya.axis.scale == Scale::Log);
        let mut known: HashMap<usize, f64> = HashMap::new();
        for &(xv, yv) in &located {
            let cell = nearest(&yi, yv, ylog) * N + nearest(&xi, xv, xlog);
            if let Some(&v) = best.get(&(xv.to_bits(), yv.to_bits())) {
                known.insert(cell, v);
            }
        }
        let z = interpolate(N, &known);
        Ok(Contour {
            x: xa.axis,
            y: ya.axis,
            z,
            points: located,
            direction,
        })
    }
}

impl Figure for Contour {
    const PLOT: &'static str = "plot_contour";

    fn draw<DB: DrawingBackend>(&self, area: &Area<'_, DB>) -> Drawn {
        let body = canvas::titled(area, "Contour Plot")?;
        let (plot, bar) = body.split_horizontally(body.dim_in_pixel().0 - 110);
        let mut chart = canvas::chart(&plot, None, &self.x, &self.y)?;
        let lo = self.z.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = self.z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        // Darker is better: low values when minimizing, high when maximizing.
        let shade = |v: f64| {
            let t = if hi > lo {
                ((v - lo) / (hi - lo) * LEVELS as f64)
                    .floor()
                    .min(LEVELS as f64 - 1.0)
                    / (LEVELS as f64 - 1.0)
            } else {
                0.5
            };
            match self.direction {
                Direction::Minimize => 1.0 - t,
                Direction::Maximize => t,
            }
        };
        let (xi, yi) = (linspace(self.x.range), linspace(self.y.range));
        let (dx, dy) = ((xi[1] - xi[0]) / 2.0, (yi[1] - yi[0]) / 2.0);
        // One rectangle per run of equal level along a row keeps the SVG small.
        let mut cells = Vec::new();
        for j in 0..N {
            let mut i = 0;
            while i < N {
                let s = shade(self.z[j * N + i]);
                let mut end = i + 1;
                while end < N && shade(self.z[j * N + end]) == s {
                    end += 1;
                }
                cells.push(Rectangle::new(
                    [(xi[i] - dx, yi[j] - dy), (xi[end - 1] + dx, yi[j] + dy)],
                    blues(s).filled(),
                ));
                i = end;
            }
        }
        chart.draw_series(cells).map_err(de)?;
        chart
            .draw_series(self.points.iter().map(|&p| {
                EmptyElement::at(p)
                    + Circle::new((0, 0), 4, BLACK.filled())
                    + Circle::new((0, 0), 5, RGBColor(128, 128, 128).stroke_width(2))
            }))
            .map_err(de)?;
        let dir = self.direction;
        canvas::colour_bar(&bar, "Objective Value", (lo, hi), move |t| {
            blues(match dir {
                Direction::Minimize => 1.0 - t,
                Direction::Maximize => t,
            })
        })
    }
}

/// Plots the objective over two parameters as Optuna's `plot_contour` with
/// `params=[x, y]`: completed trials are placed on a 100 × 100 grid over the
/// parameters' ranges (padded by 5%; log-spaced for a log parameter; the
/// sorted categories at 0, 1, … for a categorical one), each grid cell
/// holding the best value of the trials nearest to it, and the rest of the
/// grid filled by Plotly's interpolation (Laplace's equation: each empty
/// cell the mean of its neighbours, zero slope at the edges). Drawn as 15
/// filled levels, darker for better values, with the trials as black points:
/// title "Contour Plot", axes the parameter names, colour bar "Objective
/// Value". Writes a PNG or an SVG by `path`'s extension, atomically.
///
/// Errors: [`Error::UnknownParam`] for a parameter no completed trial
/// holds; [`Error::InvalidInput`] for `x == y`; [`Error::NothingToPlot`]
/// without a completed trial or when a parameter has fewer than two
/// distinct values (Optuna draws an empty figure then).
pub fn plot_contour(
    trials: &[FrozenTrial],
    direction: Direction,
    params: (&str, &str),
    path: impl AsRef<Path>,
) -> Result<()> {
    canvas::render(&Contour::new(trials, direction, params)?, path.as_ref())
}
