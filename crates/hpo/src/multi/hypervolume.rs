//! The exact hypervolume of a point set (Optuna's `optuna/_hypervolume/wfg.py`):
//! sorting in 2-D, a cumulative-maximum grid in 3-D, the WFG algorithm
//! (While, Bradstreet and Barone, "A Fast Way of Calculating Exact
//! Hypervolumes", 2012) above.

use super::is_pareto_front;
use crate::{Error, Result};

/// The hypervolume of `losses` with respect to `reference`: the measure of
/// the region dominated by at least one point and bounded by the reference
/// point, every objective minimized (negate maximized ones first, e.g. with
/// [`to_losses`](crate::to_losses)). Optuna's `compute_hypervolume`.
///
/// Every point must be ≤ `reference` in every coordinate
/// ([`Error::Arg`] otherwise, as Optuna raises `ValueError`); a
/// reference point with an infinite coordinate gives `+inf`; no points give 0.
///
/// # Examples
///
/// ```
/// use descent_hpo::hypervolume;
///
/// let front = [vec![1.0, 3.0], vec![2.0, 2.0], vec![3.0, 1.0]];
/// assert_eq!(hypervolume(&front, &[4.0, 4.0])?, 6.0);
/// # Ok::<(), descent_hpo::Error>(())
/// ```
pub fn hypervolume(losses: &[Vec<f64>], reference: &[f64]) -> Result<f64> {
    for p in losses {
        if p.len() != reference.len() {
            return Err(Error::ObjectiveCount {
                what: "a point of the hypervolume",
                expected: reference.len(),
                got: p.len(),
            });
        }
        if p.iter().zip(reference).any(|(x, r)| x.is_nan() || x > r) {
            return Err(Error::config(
                "reference point",
                format!("{reference:?} (point {p:?})"),
                "every point must be <= the reference point in every coordinate",
            ));
        }
    }
    if reference.iter().any(|r| r.is_nan()) {
        return Err(Error::config(
            "reference point",
            format!("{reference:?}"),
            "must not be NaN",
        ));
    }
    if reference.iter().any(|r| !r.is_finite()) {
        return Ok(f64::INFINITY);
    }
    if losses.is_empty() {
        return Ok(0.0);
    }
    let mut pts: Vec<Vec<f64>> = losses.to_vec();
    pts.sort_by(|a, b| lex_cmp(a, b));
    pts.dedup();
    let on_front = is_pareto_front(&pts);
    let front: Vec<Vec<f64>> = pts
        .into_iter()
        .zip(on_front)
        .filter_map(|(p, on)| on.then_some(p))
        .collect();
    let hv = match reference.len() {
        1 => reference[0] - front[0][0],
        2 => hv_2d(&front, reference),
        3 => hv_3d(&front, reference),
        _ => hv_wfg(&front, reference),
    };
    Ok(if hv.is_finite() { hv } else { f64::INFINITY })
}

fn lex_cmp(a: &[f64], b: &[f64]) -> std::cmp::Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.total_cmp(y))
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

/// 2-D: a staircase of rectangles over the front sorted by the first objective.
fn hv_2d(sorted: &[Vec<f64>], r: &[f64]) -> f64 {
    let mut prev_y = r[1];
    let mut hv = 0.0;
    for p in sorted {
        hv += (r[0] - p[0]) * (prev_y - p[1]);
        prev_y = p[1];
    }
    hv
}

/// 3-D in O(n²): on the grid of the points' x and y coordinates, each cell's
/// height is the largest `r_z - z` of the points below-left of it
/// (Optuna's `_compute_3d`).
fn hv_3d(sorted: &[Vec<f64>], r: &[f64]) -> f64 {
    let n = sorted.len();
    let mut y_order: Vec<usize> = (0..n).collect();
    y_order.sort_by(|&a, &b| sorted[a][1].total_cmp(&sorted[b][1]));
    // z_delta[i][j]: point i (x-rank) at y-rank j.
    let mut z = vec![vec![0.0f64; n]; n];
    for (j, &i) in y_order.iter().enumerate() {
        z[i][j] = r[2] - sorted[i][2];
    }
    for i in 0..n {
        for j in 0..n {
            let up = if i > 0 { z[i - 1][j] } else { 0.0 };
            let left = if j > 0 { z[i][j - 1] } else { 0.0 };
            z[i][j] = z[i][j].max(up).max(left);
        }
    }
    let dx = |i: usize| {
        let next = if i + 1 < n { sorted[i + 1][0] } else { r[0] };
        next - sorted[i][0]
    };
    let dy = |j: usize| {
        let next = if j + 1 < n {
            sorted[y_order[j + 1]][1]
        } else {
            r[1]
        };
        next - sorted[y_order[j]][1]
    };
    (0..n)
        .map(|i| dx(i) * (0..n).map(|j| z[i][j] * dy(j)).sum::<f64>())
        .sum()
}

/// The WFG recursion over points sorted by the first objective (Optuna's `_compute_hv`).
fn hv_wfg(sorted: &[Vec<f64>], r: &[f64]) -> f64 {
    let box_of = |p: &[f64]| p.iter().zip(r).map(|(x, r)| r - x).product::<f64>();
    match sorted {
        [a] => box_of(a),
        [a, b] => {
            let meet: Vec<f64> = a.iter().zip(b).map(|(x, y)| x.max(*y)).collect();
            box_of(a) + box_of(b) - box_of(&meet)
        }
        _ => {
            let n = sorted.len();
            let mut hv = box_of(&sorted[n - 1]);
            for i in 0..n - 1 {
                let limited: Vec<Vec<f64>> = sorted[i + 1..]
                    .iter()
                    .map(|q| q.iter().zip(&sorted[i]).map(|(x, y)| x.max(*y)).collect())
                    .collect();
                hv += exclusive(&limited, box_of(&sorted[i]), r);
            }
            hv
        }
    }
}

/// The part of a point's box (volume `inclusive`) that the points
/// `limited` (already clipped to that box) do not cover.
fn exclusive(limited: &[Vec<f64>], inclusive: f64, r: &[f64]) -> f64 {
    if limited.len() <= 3 {
        return inclusive - hv_wfg(limited, r);
    }
    // Drop the clipped points others dominate (and repeats): the volume is the same.
    let mut pts = limited.to_vec();
    pts.sort_by(|a, b| lex_cmp(a, b));
    pts.dedup();
    let on_front = is_pareto_front(&pts);
    let front: Vec<Vec<f64>> = pts
        .into_iter()
        .zip(on_front)
        .filter_map(|(p, on)| on.then_some(p))
        .collect();
    inclusive - hv_wfg(&front, r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The hypervolume of integer points by counting the unit cells of the
    /// grid that some point dominates.
    fn grid_count(pts: &[Vec<f64>], r: &[f64]) -> f64 {
        let d = r.len();
        let sizes: Vec<usize> = r.iter().map(|&x| x as usize).collect();
        let total: usize = sizes.iter().product();
        let mut count = 0;
        for mut cell in 0..total {
            let mut c = vec![0.0; d];
            for k in 0..d {
                c[k] = (cell % sizes[k]) as f64;
                cell /= sizes[k];
            }
            if pts.iter().any(|p| p.iter().zip(&c).all(|(x, y)| x <= y)) {
                count += 1;
            }
        }
        count as f64
    }

    fn points(d: usize, max_n: usize) -> impl Strategy<Value = Vec<Vec<f64>>> {
        prop::collection::vec(
            prop::collection::vec((0u8..6).prop_map(f64::from), d),
            1..max_n,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn two_d_matches_a_grid_count(pts in points(2, 12)) {
            prop_assert_eq!(hypervolume(&pts, &[6.0, 6.0]).unwrap(), grid_count(&pts, &[6.0, 6.0]));
        }

        #[test]
        fn three_d_matches_a_grid_count(pts in points(3, 12)) {
            let r = [6.0; 3];
            prop_assert_eq!(hypervolume(&pts, &r).unwrap(), grid_count(&pts, &r));
            prop_assert_eq!(hv_wfg(&front_of(&pts), &r), grid_count(&pts, &r));
        }

        #[test]
        fn four_and_five_d_match_a_grid_count(pts in points(4, 10), more in points(5, 8)) {
            prop_assert_eq!(hypervolume(&pts, &[6.0; 4]).unwrap(), grid_count(&pts, &[6.0; 4]));
            prop_assert_eq!(hypervolume(&more, &[6.0; 5]).unwrap(), grid_count(&more, &[6.0; 5]));
        }
    }

    fn front_of(pts: &[Vec<f64>]) -> Vec<Vec<f64>> {
        let mut p = pts.to_vec();
        p.sort_by(|a, b| lex_cmp(a, b));
        p.dedup();
        let on = is_pareto_front(&p);
        p.into_iter()
            .zip(on)
            .filter_map(|(p, on)| on.then_some(p))
            .collect()
    }

    #[test]
    fn a_point_beyond_the_reference_is_a_typed_error() {
        assert!(matches!(
            hypervolume(&[vec![1.0, 5.0]], &[4.0, 4.0]),
            Err(Error::Arg(descent_core::ArgError { .. }))
        ));
        assert!(matches!(
            hypervolume(&[vec![1.0]], &[4.0, 4.0]),
            Err(Error::ObjectiveCount { .. })
        ));
        assert_eq!(hypervolume(&[], &[1.0, 1.0]).unwrap(), 0.0);
        assert_eq!(
            hypervolume(&[vec![0.0, 0.0]], &[1.0, f64::INFINITY]).unwrap(),
            f64::INFINITY
        );
    }
}
