//! The top Hessian eigenvalue by power iteration on Hessian-vector products.

use super::flat;
use crate::error::{check, positive};
use crate::{Error, Result};
use descent_core::{ParamStore, Scalar};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// The arguments of [`top_hessian_eigenvalue`].
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PowerIterationConfig {
    /// Most Hessian-vector products to take.
    pub max_iters: usize,
    /// Stop when the eigenvalue estimate changes by at most `tol·|λ|`.
    pub tol: f64,
    /// h in Hv ≈ (∇f(θ + h·v) − ∇f(θ − h·v)) / 2h, for a unit v.
    pub fd_step: f64,
}

impl Default for PowerIterationConfig {
    fn default() -> Self {
        PowerIterationConfig {
            max_iters: 100,
            tol: 1e-6,
            fd_step: 1e-3,
        }
    }
}

/// The result of [`top_hessian_eigenvalue`].
#[derive(Clone, Debug, PartialEq)]
pub struct TopEigen {
    /// The eigenvalue estimate (the Rayleigh quotient vᵀHv).
    pub value: f64,
    /// Its unit eigenvector, flattened over the parameters in registration order.
    pub vector: Vec<f64>,
    /// Hessian-vector products taken.
    pub iterations: usize,
    /// Whether `tol` was met within `max_iters`.
    pub converged: bool,
}

/// The eigenvalue of largest magnitude of the Hessian at the current values
/// (the top one at a minimum, where the Hessian is positive semi-definite),
/// by power iteration from a normal random start; each Hessian-vector product
/// is a central difference of two gradients, exact on quadratics.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_regularize::{PowerIterationConfig, top_hessian_eigenvalue};
/// use nalgebra::DMatrix;
/// use rand::SeedableRng;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_row_slice(1, 2, &[0.3, -1.0]))?;
/// // f(θ) = ½(4θ₀² + θ₁²): Hessian diag(4, 1).
/// let h = DMatrix::from_row_slice(1, 2, &[4.0, 1.0]);
/// let mut loss = |s: &mut ParamStore<f64>| {
///     let v = s.value(w).clone();
///     *s.grad_mut(w) = v.component_mul(&h);
///     0.5 * v.component_mul(&h).dot(&v)
/// };
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
/// let top = top_hessian_eigenvalue(&mut store, &mut loss, &PowerIterationConfig::default(), &mut rng)?;
/// assert!((top.value - 4.0).abs() < 1e-6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn top_hessian_eigenvalue<S, F, R>(
    store: &mut ParamStore<S>,
    loss_and_grad: &mut F,
    config: &PowerIterationConfig,
    rng: &mut R,
) -> Result<TopEigen>
where
    S: Scalar,
    F: FnMut(&mut ParamStore<S>) -> f64,
    R: Rng + ?Sized,
{
    positive("fd_step", config.fd_step)?;
    check("tol", config.tol, config.tol >= 0.0, "a value >= 0")?;
    let centre = flat::values(store);
    let result = power_iterate(store, loss_and_grad, config, rng, &centre);
    flat::set_values(store, &centre);
    result
}

fn power_iterate<S, F, R>(
    store: &mut ParamStore<S>,
    loss_and_grad: &mut F,
    config: &PowerIterationConfig,
    rng: &mut R,
    centre: &[S],
) -> Result<TopEigen>
where
    S: Scalar,
    F: FnMut(&mut ParamStore<S>) -> f64,
    R: Rng + ?Sized,
{
    let n = centre.len();
    let mut v: Vec<f64> = (0..n).map(|_| StandardNormal.sample(rng)).collect();
    normalize(&mut v);
    let (mut hv, mut g_plus, mut g_minus) = (vec![0.0; n], Vec::new(), Vec::new());
    let mut point = centre.to_vec();
    let h = config.fd_step;
    let mut gradient_at = |sign: f64, v: &[f64], out: &mut Vec<f64>| -> Result<()> {
        for ((p, c), vi) in point.iter_mut().zip(centre).zip(v) {
            *p = *c + S::cast(sign * h * vi);
        }
        flat::set_values(store, &point);
        let loss = loss_and_grad(store);
        if !loss.is_finite() {
            return Err(Error::NonFiniteLoss {
                loss,
                during: "in a Hessian-vector product",
            });
        }
        flat::grads_into(store, out);
        Ok(())
    };
    let mut value = f64::NAN;
    for iteration in 1..=config.max_iters {
        gradient_at(1.0, &v, &mut g_plus)?;
        gradient_at(-1.0, &v, &mut g_minus)?;
        for ((o, p), m) in hv.iter_mut().zip(&g_plus).zip(&g_minus) {
            *o = (p - m) / (2.0 * h);
        }
        let rayleigh: f64 = v.iter().zip(&hv).map(|(a, b)| a * b).sum();
        let previous = std::mem::replace(&mut value, rayleigh);
        let norm = normalize(&mut hv);
        if norm == 0.0 || (rayleigh - previous).abs() <= config.tol * rayleigh.abs() {
            return Ok(TopEigen {
                value,
                vector: v,
                iterations: iteration,
                converged: true,
            });
        }
        std::mem::swap(&mut v, &mut hv);
    }
    Ok(TopEigen {
        value,
        vector: v,
        iterations: config.max_iters,
        converged: false,
    })
}

/// Scales `v` to unit length; returns its former norm (leaves a zero vector alone).
fn normalize(v: &mut [f64]) -> f64 {
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    norm
}
