//! Dev-only helpers shared by descent's tests.
//!
//! - [`golden`]: loads the PyTorch reference files of `$DESCENT_GOLDEN_DIR`
//!   (default `../shared/golden` beside the workspace) described in their `FORMAT.md`.
//! - [`strategies`]: proptest strategies for matrices, including values kept
//!   away from kinks so finite differences are meaningful.
//! - [`assert_close`]: element-wise comparison with a relative tolerance that
//!   names the first offending element.

pub mod golden;
pub mod strategies;

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
            let within = (g - w).abs() <= tol; // false for NaN
            if !within {
                return Err(format!(
                    "{what}: element ({r}, {c}) is {g:e}, expected {w:e} (diff {:e} > tol {tol:e})",
                    (g - w).abs()
                ));
            }
        }
    }
    Ok(())
}
