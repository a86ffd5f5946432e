//! `clip_grad_norm` and `clip_grad_value`: PyTorch's free clipping functions.
//!
//! Norms accumulate in `f64` whatever the gradients' type (per tensor, then
//! the norm of the per-tensor norms, as PyTorch stacks them).

use crate::error::{Error, Result, non_negative};
use crate::transform::clip_coef;
use crate::transform::{NormType, global_norm};
use descent_core::{Grads, Scalar};

/// Scales all gradients together so that their total `norm_type`-norm is at
/// most `max_norm`, and returns the total norm before clipping (PyTorch
/// `clip_grad_norm_`: factor `max_norm / (total + 1e-6)`, capped at 1).
///
/// With `error_if_nonfinite`, a NaN or infinite total norm is an error and
/// the gradients are left untouched.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{clip_grad_norm, transform::NormType};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::zeros(1, 2))?;
/// store.grad_mut(w).copy_from_slice(&[3.0, 4.0]);
/// let total = clip_grad_norm(store.grads_mut(), 1.0, NormType::L2, false)?;
/// assert_eq!(total, 5.0);
/// assert!((store.grad(w).norm() - 1.0).abs() < 1e-6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn clip_grad_norm<S: Scalar>(
    grads: &mut Grads<S>,
    max_norm: f64,
    norm_type: NormType,
    error_if_nonfinite: bool,
) -> Result<f64> {
    non_negative("max_norm", max_norm)?;
    let total = global_norm(grads.iter().map(|(_, g)| g.as_slice()), norm_type);
    if error_if_nonfinite && !total.is_finite() {
        return Err(Error::NonFiniteNorm {
            norm_type: norm_type.p(),
            total_norm: total,
        });
    }
    let k = S::cast(clip_coef(max_norm, total));
    if k != S::one() {
        for (_, g) in grads.iter_mut() {
            *g *= k;
        }
    }
    Ok(total)
}

/// Clamps every gradient element into `[-clip_value, clip_value]` (PyTorch `clip_grad_value_`).
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::clip_grad_value;
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f32>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::zeros(1, 3))?;
/// store.grad_mut(w).copy_from_slice(&[-2.0, 0.1, 7.0]);
/// clip_grad_value(store.grads_mut(), 0.5)?;
/// assert_eq!(store.grad(w).as_slice(), &[-0.5, 0.1, 0.5]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn clip_grad_value<S: Scalar>(grads: &mut Grads<S>, clip_value: f64) -> Result<()> {
    non_negative("clip_value", clip_value)?;
    let c = S::cast(clip_value);
    for (_, g) in grads.iter_mut() {
        for x in g.iter_mut() {
            *x = if *x > c {
                c
            } else if *x < -c {
                -c
            } else {
                *x
            };
        }
    }
    Ok(())
}
