//! Proptest strategies for matrices.

use nalgebra::DMatrix;
use proptest::prelude::*;

/// A `rows × cols` matrix (sizes drawn from the ranges) with values in `lo..hi`.
pub fn matrix(
    rows: std::ops::RangeInclusive<usize>,
    cols: std::ops::RangeInclusive<usize>,
    lo: f64,
    hi: f64,
) -> impl Strategy<Value = DMatrix<f64>> {
    (rows, cols).prop_flat_map(move |(r, c)| matrix_of(r, c, lo, hi))
}

/// A matrix of exactly `rows × cols` with values in `lo..hi`.
pub fn matrix_of(
    rows: usize,
    cols: usize,
    lo: f64,
    hi: f64,
) -> impl Strategy<Value = DMatrix<f64>> {
    proptest::collection::vec(lo..hi, rows * cols)
        .prop_map(move |v| DMatrix::from_vec(rows, cols, v))
}

/// Like [`matrix_of`] but every value is at least `margin` away from each of
/// `kinks`, so central differences with a step below `margin` never straddle
/// a point where the function is not differentiable.
pub fn matrix_avoiding(
    rows: usize,
    cols: usize,
    lo: f64,
    hi: f64,
    kinks: &'static [f64],
    margin: f64,
) -> impl Strategy<Value = DMatrix<f64>> {
    matrix_of(rows, cols, lo, hi).prop_map(move |mut m| {
        for x in m.iter_mut() {
            for &k in kinks {
                if (*x - k).abs() < margin {
                    *x = if *x >= k { k + margin } else { k - margin };
                }
            }
        }
        m
    })
}

/// A matrix whose entries are pairwise at least `gap` apart (a shuffled,
/// jittered grid), for ops like max where ties make the gradient ambiguous.
pub fn distinct_matrix(rows: usize, cols: usize, gap: f64) -> impl Strategy<Value = DMatrix<f64>> {
    let n = rows * cols;
    (
        Just((0..n).collect::<Vec<usize>>()).prop_shuffle(),
        proptest::collection::vec(0.0..gap * 0.4, n),
    )
        .prop_map(move |(perm, jitter)| {
            let v: Vec<f64> = perm
                .iter()
                .zip(&jitter)
                .map(|(&p, &j)| (p as f64 - n as f64 / 2.0) * gap + j)
                .collect();
            DMatrix::from_vec(rows, cols, v)
        })
}
