//! `plot_pareto_front`: two objectives of every trial, the Pareto-optimal
//! ones highlighted (`optuna/visualization/_pareto_front.py`), from plain
//! objective vectors and the indices of the front.

use crate::canvas::{self, Area, Drawn, Figure, blues, de, linear, padded, reds};
use crate::{Error, Result};
use plotters::prelude::*;
use std::path::Path;

/// The points, split into the front and the rest.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pareto {
    /// (index, x, y) of the dominated trials.
    pub rest: Vec<(usize, f64, f64)>,
    /// (index, x, y) of the trials on the front.
    pub front: Vec<(usize, f64, f64)>,
    pub names: [String; 2],
    pub n: usize,
}

impl Pareto {
    pub(crate) fn new(
        points: &[Vec<f64>],
        front: &[usize],
        names: Option<[&str; 2]>,
    ) -> Result<Self> {
        if let Some((i, p)) = points.iter().enumerate().find(|(_, p)| p.len() != 2) {
            return Err(Error::invalid(
                Self::PLOT,
                format!("point {i} has {} objectives; this plot draws 2", p.len()),
            ));
        }
        if let Some(&i) = front.iter().find(|&&i| i >= points.len()) {
            return Err(Error::invalid(
                Self::PLOT,
                format!(
                    "front index {i} is out of range for {} points",
                    points.len()
                ),
            ));
        }
        let finite = |i: usize| points[i].iter().all(|v| v.is_finite());
        let on_front = |i: usize| front.contains(&i);
        let pick = |keep: bool| {
            (0..points.len())
                .filter(|&i| finite(i) && on_front(i) == keep)
                .map(|i| (i, points[i][0], points[i][1]))
                .collect::<Vec<_>>()
        };
        let (rest, front) = (pick(false), pick(true));
        if rest.is_empty() && front.is_empty() {
            return Err(Error::nothing(
                Self::PLOT,
                "there are no points with finite objectives",
            ));
        }
        let names = names.map_or_else(
            || ["Objective 0".to_owned(), "Objective 1".to_owned()],
            |[a, b]| [a.to_owned(), b.to_owned()],
        );
        Ok(Pareto {
            rest,
            front,
            names,
            n: points.len(),
        })
    }
}

impl Figure for Pareto {
    const PLOT: &'static str = "plot_pareto_front";

    fn draw<DB: DrawingBackend>(&self, area: &Area<'_, DB>) -> Drawn {
        let body = canvas::titled(area, "Pareto-front Plot")?;
        let all = || self.rest.iter().chain(&self.front);
        let x = linear(&self.names[0], padded(all().map(|p| p.1)));
        let y = linear(&self.names[1], padded(all().map(|p| p.2)));
        let mut chart = canvas::chart(&body, None, &x, &y)?;
        let shade = |i: usize| 0.3 + 0.7 * i as f64 / (self.n.max(2) - 1) as f64;
        let edge = RGBColor(80, 80, 80);
        for (pts, colour, name) in [
            (&self.rest, blues as fn(f64) -> RGBColor, "Trial"),
            (&self.front, reds as fn(f64) -> RGBColor, "Best Trial"),
        ] {
            if pts.is_empty() {
                continue;
            }
            chart
                .draw_series(pts.iter().map(|&(i, a, b)| {
                    EmptyElement::at((a, b))
                        + Circle::new((0, 0), 5, colour(shade(i)).filled())
                        + Circle::new((0, 0), 5, edge.stroke_width(1))
                }))
                .map_err(de)?
                .label(name)
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, colour(0.8).filled()));
        }
        canvas::legend(&mut chart)
    }
}

/// Plots two objectives of every trial, the trials on the Pareto front in
/// reds and the others in blues (darker for later trials), as Optuna's
/// `plot_pareto_front` with `include_dominated_trials=True`: title
/// "Pareto-front Plot", axes `names` (default "Objective 0", "Objective 1"),
/// legend "Trial" and "Best Trial".
///
/// `points[i]` is trial `i`'s objective vector (two values); `front` holds
/// the indices of the Pareto-optimal ones, as a multi-objective study's
/// best trials give them. Points with a non-finite objective are left out.
/// Writes a PNG or an SVG by `path`'s extension, atomically.
///
/// Errors: [`Error::InvalidInput`] for a point without exactly two
/// objectives or an index past the points; [`Error::NothingToPlot`] when no
/// point is finite.
///
/// # Examples
///
/// ```
/// use descent_hpo_plot::plot_pareto_front;
///
/// let points = vec![vec![1.0, 3.0], vec![2.0, 2.0], vec![3.0, 3.0], vec![3.0, 1.0]];
/// let path = std::env::temp_dir().join("descent-doc-pareto.svg");
/// plot_pareto_front(&points, &[0, 1, 3], None, &path)?;
/// # Ok::<(), descent_hpo_plot::Error>(())
/// ```
pub fn plot_pareto_front(
    points: &[Vec<f64>],
    front: &[usize],
    names: Option<[&str; 2]>,
    path: impl AsRef<Path>,
) -> Result<()> {
    canvas::render(&Pareto::new(points, front, names)?, path.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_split_into_front_and_rest_and_bad_input_is_typed() {
        let pts = vec![vec![1.0, 2.0], vec![2.0, 3.0], vec![f64::NAN, 0.0]];
        let p = Pareto::new(&pts, &[0, 2], None).unwrap();
        assert_eq!(p.front, vec![(0, 1.0, 2.0)]);
        assert_eq!(p.rest, vec![(1, 2.0, 3.0)]);
        assert!(matches!(
            Pareto::new(&pts, &[3], None),
            Err(Error::InvalidInput { .. })
        ));
        assert!(matches!(
            Pareto::new(&[vec![1.0, 2.0, 3.0]], &[], None),
            Err(Error::InvalidInput { .. })
        ));
        assert!(matches!(
            Pareto::new(&[vec![f64::NAN, 1.0]], &[], None),
            Err(Error::NothingToPlot { .. })
        ));
    }
}
