//! Comparing matrices with a tolerance.

use nalgebra::DMatrix;

/// Checks `|got - want| <= rtol · |want| + atol` element-wise (the rule of
/// `torch.testing.assert_close`) and reports the first violation with its
/// position. A NaN anywhere fails.
///
/// `rtol` is relative to each expected element; `atol` is the absolute
/// floor for elements near zero, where a relative bound means nothing (a
/// sum that cancels, a gradient that is mathematically zero but recorded as
/// round-off). Pass `atol = 0` for a purely relative check.
///
/// # Examples
///
/// ```
/// use descent_testkit::assert_close;
/// use nalgebra::DMatrix;
///
/// let want = DMatrix::from_row_slice(1, 2, &[1000.0, 1e-12]);
/// let got = DMatrix::from_row_slice(1, 2, &[1000.0 + 1e-7, 2e-12]);
/// // 1e-7 on 1000 is 1e-10 relative, but 2e-12 is twice 1e-12.
/// assert!(assert_close("x", &got, &want, 1e-9, 0.0).is_err());
/// assert!(assert_close("x", &got, &want, 1e-9, 1e-11).is_ok());
/// ```
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
            // An infinite expected value is matched exactly (`g == w`, whose
            // difference would be NaN), not within an infinite tolerance.
            let tol = if w.is_finite() {
                rtol * w.abs() + atol
            } else {
                0.0
            };
            let diff = (g - w).abs();
            if g != w && (diff.is_nan() || diff > tol) {
                return Err(format!(
                    "{what}: element ({r}, {c}) is {g:e}, expected {w:e} \
                     (diff {diff:e} > {rtol:e}·|want| + {atol:e} = {tol:e})"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::assert_close;
    use nalgebra::DMatrix;

    fn one(x: f64) -> DMatrix<f64> {
        DMatrix::from_element(1, 1, x)
    }

    #[test]
    fn small_values_are_compared_relatively() {
        // Twice the expected value: the old rule, rtol·max(|want|, 1), took
        // this for equal because it was an absolute 1e-9 below 1.
        assert!(assert_close("x", &one(2e-12), &one(1e-12), 1e-9, 0.0).is_err());
        assert!(assert_close("x", &one(0.5 + 1e-9), &one(0.5), 1e-9, 0.0).is_err());
        assert!(assert_close("x", &one(0.5 + 1e-10), &one(0.5), 1e-9, 0.0).is_ok());
        assert!(assert_close("x", &one(-3e5 * (1.0 + 5e-10)), &one(-3e5), 1e-9, 0.0).is_ok());
    }

    #[test]
    fn the_absolute_floor_covers_values_near_zero_only() {
        assert!(assert_close("x", &one(1e-17), &one(0.0), 1e-9, 0.0).is_err());
        assert!(assert_close("x", &one(1e-17), &one(0.0), 1e-9, 1e-15).is_ok());
        assert!(assert_close("x", &one(1.0 + 1e-8), &one(1.0), 1e-9, 1e-15).is_err());
    }

    #[test]
    fn nan_fails_and_equal_infinities_pass() {
        assert!(assert_close("x", &one(f64::NAN), &one(1.0), 1e-9, 1.0).is_err());
        assert!(assert_close("x", &one(f64::NAN), &one(f64::NAN), 1e-9, 1.0).is_err());
        assert!(assert_close("x", &one(f64::INFINITY), &one(f64::INFINITY), 0.0, 0.0).is_ok());
        assert!(assert_close("x", &one(f64::INFINITY), &one(-f64::INFINITY), 1.0, 1.0).is_err());
        assert!(assert_close("x", &one(1.0), &one(2.0), 0.1, 0.0).is_err());
    }

    #[test]
    fn shapes_must_agree() {
        let e = assert_close("x", &DMatrix::zeros(1, 2), &DMatrix::zeros(2, 1), 1.0, 1.0);
        assert!(e.unwrap_err().contains("shape"));
    }
}
