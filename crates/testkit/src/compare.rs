//! Comparing matrices with a tolerance.

use nalgebra::DMatrix;

/// Checks `|got - want| <= rtol * max(|want|, 1) + atol` element-wise and
/// reports the first violation with its position.
pub fn assert_close(
    what: &str,
    got: &DMatrix<f64>,
    want: &DMatrix<f64>,
    rtol: f64,
    atol: f64,
) -> Result<(), String> {
    if got.shape() != want.shape() {
        return Err(format!(
            "{what}: shape {:?}, expected {:?}",
            got.shape(),
            want.shape()
        ));
    }
    for r in 0..want.nrows() {
        for c in 0..want.ncols() {
            let (g, w) = (got[(r, c)], want[(r, c)]);
            let tol = rtol * w.abs().max(1.0) + atol;
            let diff = (g - w).abs();
            if diff.is_nan() || diff > tol {
                return Err(format!(
                    "{what}: element ({r}, {c}) is {g:e}, expected {w:e} (diff {:e} > tol {tol:e})",
                    (g - w).abs()
                ));
            }
        }
    }
    Ok(())
}
