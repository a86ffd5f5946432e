//! Sharpness of a minimum (Keskar et al., 2017): ε-sharpness and the top
//! Hessian eigenvalue, from a loss-and-gradient closure over the store.
//!
//! The closure `loss_and_grad(&mut store) -> f64` returns the loss at the
//! store's current values and leaves its gradient in the store's gradients
//! (overwriting them: zero them first, then run the backward pass). Both
//! measures perturb the values, call the closure, and put the original values
//! back bit for bit, also on error; the gradients are left as the closure last
//! wrote them.

mod hessian;

pub use hessian::{PowerIterationConfig, TopEigen, top_hessian_eigenvalue};

use crate::error::{check, positive};
use crate::{Error, Result};
use descent_core::{ParamStore, Scalar};
use rand::{Rng, RngExt};

/// The arguments of [`epsilon_sharpness`]; `Default` is Keskar et al.'s
/// ε = 1e-3 with 20 projected sign-ascent steps of a fifth of the box each.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SharpnessConfig {
    /// ε: the box is |δᵢ| ≤ ε·(|θᵢ| + 1).
    pub epsilon: f64,
    /// Ascent steps (the loss is evaluated `n_steps + 1` times after the centre).
    pub n_steps: usize,
    /// Each step moves every coordinate by this fraction of its box half-width.
    pub step_fraction: f64,
}

impl Default for SharpnessConfig {
    fn default() -> Self {
        SharpnessConfig {
            epsilon: 1e-3,
            n_steps: 20,
            step_fraction: 0.2,
        }
    }
}

/// The result of [`epsilon_sharpness`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sharpness {
    /// Keskar et al.'s measure: 100·(max_loss − loss)/(1 + loss).
    pub value: f64,
    /// The loss at the centre.
    pub loss: f64,
    /// The largest loss found in the box.
    pub max_loss: f64,
}

/// Keskar et al.'s ε-sharpness: the largest relative loss increase within
/// the box |δᵢ| ≤ ε(|θᵢ| + 1) around the current values, as a percentage,
/// found by projected gradient ascent (sign steps, the steepest ascent for a
/// box, from a uniform random start so a zero gradient at a minimum does not
/// stall it). Keskar et al. used L-BFGS-B; a few steps of ascent give a lower
/// bound of the same maximum, exact on convex quadratics.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_regularize::{SharpnessConfig, epsilon_sharpness};
/// use nalgebra::DMatrix;
/// use rand::SeedableRng;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::zeros(1, 2))?;
/// // f(θ) = 50·‖θ‖², at its minimum θ = 0.
/// let mut loss = |s: &mut ParamStore<f64>| {
///     let v = s.value(w).clone();
///     *s.grad_mut(w) = &v * 100.0;
///     50.0 * v.norm_squared()
/// };
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
/// let sharp = epsilon_sharpness(&mut store, &mut loss, &SharpnessConfig::default(), &mut rng)?;
/// assert!((sharp.max_loss - 50.0 * 2.0 * 1e-6).abs() < 1e-15); // a corner of the box
/// assert!((sharp.value - 100.0 * sharp.max_loss).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn epsilon_sharpness<S, F, R>(
    store: &mut ParamStore<S>,
    loss_and_grad: &mut F,
    config: &SharpnessConfig,
    rng: &mut R,
) -> Result<Sharpness>
where
    S: Scalar,
    F: FnMut(&mut ParamStore<S>) -> f64,
    R: Rng + ?Sized,
{
    positive("epsilon", config.epsilon)?;
    let f = config.step_fraction;
    check(
        "step_fraction",
        f,
        f > 0.0 && f.is_finite(),
        "a finite value > 0",
    )?;
    let centre = flat::values(store);
    let result = ascend(store, loss_and_grad, config, rng, &centre);
    flat::set_values(store, &centre);
    result
}

fn ascend<S, F, R>(
    store: &mut ParamStore<S>,
    loss_and_grad: &mut F,
    config: &SharpnessConfig,
    rng: &mut R,
    centre: &[S],
) -> Result<Sharpness>
where
    S: Scalar,
    F: FnMut(&mut ParamStore<S>) -> f64,
    R: Rng + ?Sized,
{
    let finite = |loss: f64, during| match loss.is_finite() {
        true => Ok(loss),
        false => Err(Error::NonFiniteLoss { loss, during }),
    };
    let loss = finite(loss_and_grad(store), "at the centre")?;
    let radius: Vec<f64> = centre
        .iter()
        .map(|x| config.epsilon * (x.as_f64().abs() + 1.0))
        .collect();
    let mut delta: Vec<f64> = radius
        .iter()
        .map(|&r| r * rng.random_range(-1.0..=1.0))
        .collect();
    let mut max_loss = loss;
    let mut point: Vec<S> = centre.to_vec();
    let mut grad = Vec::with_capacity(centre.len());
    for step in 0..=config.n_steps {
        for ((p, c), d) in point.iter_mut().zip(centre).zip(&delta) {
            *p = *c + S::cast(*d);
        }
        flat::set_values(store, &point);
        let value = finite(loss_and_grad(store), "in the ε-box")?;
        max_loss = max_loss.max(value);
        if step == config.n_steps {
            break;
        }
        flat::grads_into(store, &mut grad);
        for ((d, g), r) in delta.iter_mut().zip(&grad).zip(&radius) {
            let sign = if *g > 0.0 {
                1.0
            } else if *g < 0.0 {
                -1.0
            } else {
                0.0
            };
            *d = (*d + config.step_fraction * r * sign).clamp(-r, *r);
        }
    }
    Ok(Sharpness {
        value: 100.0 * (max_loss - loss) / (1.0 + loss),
        loss,
        max_loss,
    })
}

/// The store's values and gradients as one flat vector, in registration order.
mod flat {
    use descent_core::{ParamStore, Scalar};

    pub(super) fn values<S: Scalar>(store: &ParamStore<S>) -> Vec<S> {
        store
            .iter()
            .flat_map(|(_, _, v)| v.iter().copied())
            .collect()
    }

    pub(super) fn set_values<S: Scalar>(store: &mut ParamStore<S>, flat: &[S]) {
        let mut at = 0;
        for (_, v) in store.params_mut().values_mut() {
            let len = v.len();
            v.as_mut_slice().copy_from_slice(&flat[at..at + len]);
            at += len;
        }
    }

    pub(super) fn grads_into<S: Scalar>(store: &ParamStore<S>, out: &mut Vec<f64>) {
        out.clear();
        out.extend(
            store
                .grads()
                .iter()
                .flat_map(|(_, g)| g.iter().map(|x| x.as_f64())),
        );
    }
}

#[cfg(test)]
mod tests;
