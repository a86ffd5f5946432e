//! `scale_by_asgd`: PyTorch's averaged SGD, with its running average `ax`.

use crate::buf::Bufs;
use crate::transform::{BlockTransform, Mask, Tensors, gradient_transform_via_blocks};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// Averaged SGD (Polyak & Juditsky 1992), as PyTorch's `ASGD`.
///
/// A step is `p ← p·(1 − λη) − η·g` with the decaying rate
/// `η_k = lr / (1 + λ·lr·(k−1))^α`, and the average `ax` follows the
/// iterates with weight `μ_k = 1 / max(1, k − 1 − t₀)` (a copy while μ is 1,
/// so averaging starts after `t₀` steps). Both η and μ are computed at the
/// end of the previous step from the learning rate then in force (η₁ is the
/// first step's rate), exactly as PyTorch keeps them in its state, so the
/// stage outputs the whole update and takes no `scale_by_learning_rate`.
///
/// The average is the point to evaluate the model at:
/// [`Optimizer::eval_params`](crate::Optimizer::eval_params) returns it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByAsgd {
    /// λ, the decay term.
    pub lambd: f64,
    /// α, the power of the rate's decay.
    pub alpha: f64,
    /// t₀, the step after which averaging starts.
    pub t0: f64,
}

/// ASGD with decay term `lambd`, power `alpha` and averaging start `t0`.
///
/// # Examples
///
/// ```
/// use descent_optim::transform::scale_by_asgd;
///
/// let asgd = scale_by_asgd(1e-4, 0.75, 1e6);
/// assert_eq!(asgd.t0, 1e6);
/// ```
pub fn scale_by_asgd(lambd: f64, alpha: f64, t0: f64) -> ScaleByAsgd {
    ScaleByAsgd { lambd, alpha, t0 }
}

/// State of [`ScaleByAsgd`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ScaleByAsgdState<S: Scalar> {
    /// Steps taken.
    pub count: u64,
    /// η, the rate of the next step (PyTorch's `state["eta"]`).
    #[serde(with = "crate::float")]
    pub eta: f64,
    /// μ, the averaging weight of the next step (PyTorch's `state["mu"]`).
    #[serde(with = "crate::float")]
    pub mu: f64,
    /// The averaged iterates (PyTorch's `state["ax"]`).
    pub ax: Bufs<S>,
}

/// Per-step scalars of [`ScaleByAsgd`].
#[derive(Clone, Copy, Debug)]
pub struct AsgdCoefs<S> {
    eta: S,
    decay: S,
    mu: S,
    copy: bool,
}

impl<S: Scalar> AsgdCoefs<S> {
    /// One element of ASGD: returns the update of `p` given the gradient
    /// `g` and moves the average `ax` towards the new parameter.
    #[inline(always)]
    fn asgd(&self, g: S, p: S, ax: &mut S) -> S {
        let new = p * self.decay - g * self.eta;
        let u = new - p;
        // The value the walk will store: p + u.
        let stored = p + u;
        *ax = if self.copy {
            stored
        } else {
            *ax + (stored - *ax) * self.mu
        };
        u
    }
}

impl<S: Scalar> BlockTransform<S> for ScaleByAsgd {
    type State = ScaleByAsgdState<S>;
    type Coefs = AsgdCoefs<S>;
    type View<'a> = &'a mut [S];

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        ScaleByAsgdState {
            count: 0,
            eta: 0.0,
            mu: 1.0,
            ax: Bufs::zeros(params, mask),
        }
    }

    fn prepare(
        &self,
        state: &mut Self::State,
        _: Tensors<'_, S>,
        _: &Params<S>,
        _: Mask<'_>,
        ctx: &StepCtx,
    ) -> AsgdCoefs<S> {
        if state.count == 0 {
            state.eta = ctx.lr;
        }
        let coefs = AsgdCoefs {
            eta: S::cast(state.eta),
            decay: S::cast(1.0 - self.lambd * state.eta),
            mu: S::cast(state.mu),
            copy: state.mu == 1.0,
        };
        state.count += 1;
        let k = state.count as f64;
        state.eta = ctx.lr / (1.0 + self.lambd * ctx.lr * k).powf(self.alpha);
        state.mu = 1.0 / (k - self.t0).max(1.0);
        coefs
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        state.ax.slices_mut()
    }

    #[inline(always)]
    fn apply_block(&self, c: &AsgdCoefs<S>, ax: &mut Self::View<'_>, u: &mut [S], p: &[S]) {
        for ((g, &p), ax) in u.iter_mut().zip(p).zip(ax.iter_mut()) {
            *g = c.asgd(*g, p, ax);
        }
    }

    /// The average `ax` (the iterate itself before the first step, as
    /// PyTorch's `ax` is only meaningful once averaging has run).
    fn eval_params(&self, state: &Self::State, params: &mut Params<S>, mask: Mask<'_>) {
        if state.count == 0 {
            return;
        }
        for ((id, v), ax) in params.values_mut().zip(state.ax.as_slices()) {
            if mask.contains(id) && ax.len() == v.len() {
                v.as_mut_slice().copy_from_slice(ax);
            }
        }
    }
}
gradient_transform_via_blocks!(ScaleByAsgd);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_average_copies_while_mu_is_one_then_averages() {
        let copy = AsgdCoefs::<f64> {
            eta: 0.1,
            decay: 1.0,
            mu: 1.0,
            copy: true,
        };
        let mut ax: f64 = 0.0;
        let u = copy.asgd(1.0, 2.0, &mut ax);
        assert!((u + 0.1).abs() < 1e-15);
        assert_eq!(ax, 2.0 + u, "a copy of the stored parameter");
        let half = AsgdCoefs {
            mu: 0.5,
            copy: false,
            ..copy
        };
        let u = half.asgd(1.0, 1.9, &mut ax);
        assert!((u + 0.1).abs() < 1e-15);
        assert!((ax - (1.9 + 1.8) / 2.0).abs() < 1e-15);
    }
}
