//! Finite-difference gradient checking, for the ops here and for anyone
//! writing a function on the tape.

use crate::{Tape, Var};
use descent_core::ParamStore;
use nalgebra::DMatrix;

/// Step of the central differences.
const H: f64 = 1e-6;
/// Allowed error: `|analytic - numeric| <= TOL · (1 + |numeric|)`.
const TOL: f64 = 1e-5;

/// Checks the gradients of `f` with respect to each of `inputs` against
/// central finite differences, in f64.
///
/// `f` gets a fresh tape and one leaf per input. A non-scalar output is
/// reduced to `Σ out ⊙ W` with fixed, varied weights `W`, so every output
/// element's gradient is exercised. Returns a message naming the input, the
/// element and both values at the first mismatch.
///
/// # Examples
///
/// ```
/// use descent_autodiff::gradcheck::check_gradients;
/// use nalgebra::DMatrix;
///
/// let x = DMatrix::from_row_slice(2, 2, &[0.5, -1.0, 2.0, 0.1]);
/// check_gradients(&[x], |_tape, v| (v[0] * v[0] / (v[0] + 3.0)).sum()).unwrap();
/// ```
pub fn check_gradients<F>(inputs: &[DMatrix<f64>], f: F) -> Result<(), String>
where
    F: for<'t> Fn(&'t Tape<f64>, &[Var<'t, f64>]) -> Var<'t, f64>,
{
    let mut tape = Tape::<f64>::new();
    let mut store = ParamStore::new();
    let (analytic, weights) = {
        let leaves: Vec<Var<'_, f64>> = inputs.iter().map(|m| tape.leaf_var(m)).collect();
        let out = f(&tape, &leaves);
        let (r, c) = out.shape();
        let w = weights(r, c);
        tape.backward_with(out, &w, &mut store);
        let g: Vec<DMatrix<f64>> = leaves
            .iter()
            .zip(inputs)
            .map(|(&l, m)| {
                tape.grad(l)
                    .unwrap_or_else(|| DMatrix::zeros(m.nrows(), m.ncols()))
            })
            .collect();
        (g, w)
    };
    let mut eval = |xs: &[DMatrix<f64>]| -> f64 {
        tape.reset();
        let leaves: Vec<Var<'_, f64>> = xs.iter().map(|m| tape.constant(m)).collect();
        let out = f(&tape, &leaves);
        out.with_value(|v| v.component_mul(&weights).sum())
    };
    let mut xs: Vec<DMatrix<f64>> = inputs.to_vec();
    for (k, input) in inputs.iter().enumerate() {
        for e in 0..input.len() {
            let x0 = input[e];
            xs[k][e] = x0 + H;
            let up = eval(&xs);
            xs[k][e] = x0 - H;
            let down = eval(&xs);
            xs[k][e] = x0;
            let numeric = (up - down) / (2.0 * H);
            let got = analytic[k][e];
            let tol = TOL * (1.0 + numeric.abs());
            // NaN anywhere fails the comparison
            if (got - numeric).abs().is_nan() || (got - numeric).abs() > tol {
                let (r, c) = (e % input.nrows(), e / input.nrows());
                return Err(format!(
                    "input {k} element ({r}, {c}) of {}x{}: analytic {got:e}, numeric {numeric:e}",
                    input.nrows(),
                    input.ncols()
                ));
            }
        }
    }
    Ok(())
}

/// Fixed, varied, non-zero weights for reducing an output to a scalar.
fn weights(r: usize, c: usize) -> DMatrix<f64> {
    if (r, c) == (1, 1) {
        return DMatrix::from_element(1, 1, 1.0);
    }
    DMatrix::from_fn(r, c, |i, j| 0.3 + ((i * 7 + j * 13) % 11) as f64 / 7.0)
}
