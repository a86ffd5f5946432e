//! `plot_parallel_coordinate`: one vertical axis for the objective and one
//! per parameter, a line per trial coloured by its objective
//! (`optuna/visualization/_parallel_coordinate.py`).

use crate::Result;
use crate::canvas::{self, Area, Axis, Drawn, Figure, Scale, blues, de, tick_label};
use crate::data::{completed_with_params, objective, param_axis};
use descent_core::Direction;
use descent_hpo::FrozenTrial;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// One vertical axis: its title, ticks (position in [0, 1], text) and each
/// trial's position on it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Dimension {
    pub label: String,
    pub ticks: Vec<(f64, String)>,
    pub values: Vec<Option<f64>>,
}

/// The axes and the colour of each trial's line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Parallel {
    pub dims: Vec<Dimension>,
    /// Per trial: 0 (worst) to 1 (best), the line's shade.
    pub shade: Vec<f64>,
    pub range: (f64, f64),
    pub direction: Direction,
}

/// Positions in [0, 1] of plot-unit values, and five ticks.
fn normalize(axis: &Axis, values: &[Option<f64>]) -> (Vec<Option<f64>>, Vec<(f64, String)>) {
    let (lo, hi) = match &axis.scale {
        Scale::Categorical(labels) => (0.0, labels.len().saturating_sub(1) as f64),
        _ => values
            .iter()
            .flatten()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            }),
    };
    let at = |v: f64| if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
    let ticks = match &axis.scale {
        Scale::Categorical(labels) => labels
            .iter()
            .enumerate()
            .map(|(i, l)| (at(i as f64), l.clone()))
            .collect(),
        _ if !lo.is_finite() => Vec::new(),
        _ if hi <= lo => vec![(0.5, axis.tick(lo))],
        // A log axis over two decades or more: its powers of ten.
        Scale::Log if hi - lo >= 2.0 => (lo.ceil() as i32..=hi.floor() as i32)
            .map(|e| (at(e as f64), tick_label(10f64.powi(e))))
            .collect(),
        _ => (0..5)
            .map(|k| {
                let v = lo + (hi - lo) * k as f64 / 4.0;
                (at(v), axis.tick(v))
            })
            .collect(),
    };
    (values.iter().map(|v| v.map(at)).collect(), ticks)
}

impl Parallel {
    pub(crate) fn new(
        trials: &[FrozenTrial],
        direction: Direction,
        params: Option<&[&str]>,
    ) -> Result<Self> {
        let (done, names) = completed_with_params(trials, params, Self::PLOT)?;
        let values: Vec<f64> = done.iter().filter_map(|t| objective(t)).collect();
        let obj = Axis {
            label: "Objective Value".into(),
            scale: Scale::Linear,
            range: (0.0, 1.0),
        };
        let (obj_pos, obj_ticks) =
            normalize(&obj, &values.iter().map(|&v| Some(v)).collect::<Vec<_>>());
        let mut dims = vec![Dimension {
            label: obj.label.clone(),
            ticks: obj_ticks,
            values: obj_pos.clone(),
        }];
        for p in &names {
            let a = param_axis(&done, p);
            let (pos, ticks) = normalize(&a.axis, &a.values);
            dims.push(Dimension {
                label: a.axis.title(),
                ticks,
                values: pos,
            });
        }
        let shade = obj_pos
            .iter()
            .map(|p| {
                let p = p.unwrap_or(0.5);
                match direction {
                    Direction::Minimize => 1.0 - p,
                    Direction::Maximize => p,
                }
            })
            .collect();
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Ok(Parallel {
            dims,
            shade,
            range: (lo, hi),
            direction,
        })
    }
}

impl Figure for Parallel {
    const PLOT: &'static str = "plot_parallel_coordinate";

    fn draw<DB: DrawingBackend>(&self, area: &Area<'_, DB>) -> Drawn {
        let body = canvas::titled(area, "Parallel Coordinate Plot")?;
        let (plot, bar) = body.split_horizontally(body.dim_in_pixel().0 - 110);
        let n = self.dims.len() as f64;
        let mut chart = ChartBuilder::on(&plot)
            .margin_left(50)
            .margin_right(60)
            .margin_top(10)
            .margin_bottom(10)
            .build_cartesian_2d(-0.05..(n - 0.95), -0.05..1.1)
            .map_err(de)?;
        // Worst first, so the best lines lie on top.
        let mut order: Vec<usize> = (0..self.shade.len()).collect();
        order.sort_by(|&a, &b| self.shade[a].total_cmp(&self.shade[b]));
        for &t in &order {
            let col = blues(0.2 + 0.8 * self.shade[t]);
            for k in 1..self.dims.len() {
                if let (Some(a), Some(b)) = (self.dims[k - 1].values[t], self.dims[k].values[t]) {
                    chart
                        .draw_series(LineSeries::new(
                            [((k - 1) as f64, a), (k as f64, b)],
                            col.stroke_width(2),
                        ))
                        .map_err(de)?;
                }
            }
        }
        let tick_font = (canvas::FAMILY, 11)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        let title_font = (canvas::FAMILY, 13)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        for (k, d) in self.dims.iter().enumerate() {
            let x = k as f64;
            chart
                .draw_series(LineSeries::new([(x, 0.0), (x, 1.0)], BLACK.stroke_width(1)))
                .map_err(de)?;
            chart
                .draw_series(d.ticks.iter().map(|(y, text)| {
                    // A white box under the text keeps it readable over the lines.
                    let w = 7 * text.chars().count() as i32;
                    EmptyElement::at((x, *y))
                        + Rectangle::new([(-7 - w, -7), (-5, 7)], WHITE.mix(0.8).filled())
                        + PathElement::new(vec![(-4, 0), (0, 0)], BLACK)
                        + Text::new(text.clone(), (-6, 0), tick_font.clone())
                }))
                .map_err(de)?;
            chart
                .draw_series([EmptyElement::at((x, 1.0))
                    + Text::new(d.label.clone(), (0, -10), title_font.clone())])
                .map_err(de)?;
        }
        let dir = self.direction;
        canvas::colour_bar(&bar, "Objective Value", self.range, move |t| {
            blues(
                0.2 + 0.8
                    * match dir {
                        Direction::Minimize => 1.0 - t,
                        Direction::Maximize => t,
                    },
            )
        })
    }
}

/// Plots every completed trial as a line across parallel vertical axes —
/// "Objective Value" first, then each parameter (all of them, sorted by name,
/// or those in `params`) — coloured by the objective, darker for better
/// (lower when minimizing), as Optuna's `plot_parallel_coordinate`: title
/// "Parallel Coordinate Plot", categorical axes labelled with their
/// categories, log parameters on a log scale (axis titled "name (log)"),
/// colour bar "Objective Value". A trial that lacks a parameter (a
/// conditional one) has no segment to or from that axis. Writes a PNG or an
/// SVG by `path`'s extension, atomically.
///
/// Errors: [`Error::NothingToPlot`](crate::Error::NothingToPlot) without a completed trial;
/// [`Error::UnknownParam`](crate::Error::UnknownParam) for a name in `params` no completed trial holds.
pub fn plot_parallel_coordinate(
    trials: &[FrozenTrial],
    direction: Direction,
    params: Option<&[&str]>,
    path: impl AsRef<Path>,
) -> Result<()> {
    canvas::render(&Parallel::new(trials, direction, params)?, path.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_hpo::{Distribution, TrialState};

    #[test]
    fn the_best_trial_is_darkest_and_categories_are_ticks() {
        let d = Distribution::Categorical {
            choices: vec!["a".into(), "b".into()],
        };
        let ts: Vec<FrozenTrial> = [(1.0, "a"), (3.0, "b"), (2.0, "a")]
            .iter()
            .enumerate()
            .map(|(i, &(v, c))| {
                let mut t = FrozenTrial::running(i as u64);
                t.state = TrialState::Complete;
                t.value = Some(v);
                t.params.insert("c", c);
                t.distributions.insert("c".into(), d.clone());
                t
            })
            .collect();
        let p = Parallel::new(&ts, Direction::Minimize, None).unwrap();
        assert_eq!(p.shade, vec![1.0, 0.0, 0.5]);
        assert_eq!(
            p.dims[1].ticks,
            vec![(0.0, "a".to_owned()), (1.0, "b".to_owned())]
        );
        assert_eq!(p.dims[1].values, vec![Some(0.0), Some(1.0), Some(0.0)]);
        let q = Parallel::new(&ts, Direction::Maximize, None).unwrap();
        assert_eq!(q.shade, vec![0.0, 1.0, 0.5]);
    }
}
