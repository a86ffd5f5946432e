//! `scale_by_adamax`: Adam with the infinity norm in place of the second moment.

use crate::buf::Bufs;
use crate::transform::{ElementStage, Hyper, Mask, MomentumKind, gradient_transform_via_blocks};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// Adamax's scaling (PyTorch `Adamax` without lr and weight decay).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByAdamax {
    /// β₁.
    pub b1: f64,
    /// β₂, the decay of the infinity norm.
    pub b2: f64,
    /// ε, added to |g| inside the maximum (PyTorch's placement).
    pub eps: f64,
}

/// `m ← β₁m + (1−β₁)g`, `n ← max(β₂n, |g| + ε)`, `u ← m / n / (1−β₁ᵗ)`.
///
/// # Examples
///
/// ```
/// use descent_optim::transform::scale_by_adamax;
///
/// assert_eq!(scale_by_adamax(0.9, 0.999, 1e-8).eps, 1e-8);
/// ```
pub fn scale_by_adamax(b1: f64, b2: f64, eps: f64) -> ScaleByAdamax {
    ScaleByAdamax { b1, b2, eps }
}

/// State of [`ScaleByAdamax`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ScaleByAdamaxState<S: Scalar> {
    /// Steps taken.
    pub count: u64,
    /// First moments.
    pub mu: Bufs<S>,
    /// Exponentially weighted infinity norms.
    pub inf_norm: Bufs<S>,
}

/// Per-step scalars of Adamax.
#[derive(Clone, Copy, Debug)]
pub struct AdamaxCoefs<S> {
    w1: S,
    b2: S,
    inv_bc1: S,
    eps: S,
}

impl ElementStage for ScaleByAdamax {
    type State<S: Scalar> = ScaleByAdamaxState<S>;
    type Coefs<S: Scalar> = AdamaxCoefs<S>;
    type Lane<S: Scalar> = (S, S);
    type View<'a, S: Scalar> = (&'a mut [S], &'a mut [S]);

    fn init_masked<S: Scalar>(&self, params: &Params<S>, mask: Mask<'_>) -> ScaleByAdamaxState<S> {
        ScaleByAdamaxState {
            count: 0,
            mu: Bufs::zeros(params, mask),
            inf_norm: Bufs::zeros(params, mask),
        }
    }

    fn prepare<S: Scalar>(
        &self,
        state: &mut ScaleByAdamaxState<S>,
        ctx: &StepCtx,
    ) -> AdamaxCoefs<S> {
        let b1 = ctx.momentum.unwrap_or(self.b1);
        state.count += 1;
        AdamaxCoefs {
            w1: S::cast(1.0 - b1),
            b2: S::cast(ctx.beta2.unwrap_or(self.b2)),
            inv_bc1: S::cast(1.0 / (1.0 - b1.powf(state.count as f64))),
            eps: S::cast(ctx.eps.unwrap_or(self.eps)),
        }
    }

    fn views<'a, S: Scalar>(
        &self,
        state: &'a mut ScaleByAdamaxState<S>,
    ) -> impl Iterator<Item = Self::View<'a, S>> {
        state.mu.slices_mut().zip(state.inf_norm.slices_mut())
    }

    fn momentum(&self) -> Option<(MomentumKind, f64)> {
        Some((MomentumKind::Beta1, self.b1))
    }

    fn hyperparam(&self, key: Hyper) -> Option<f64> {
        key.beta2_eps(self.b2, self.eps)
    }

    #[inline(always)]
    fn element<S: Scalar>(&self, c: &AdamaxCoefs<S>, g: S, _p: S, (m, n): &mut (S, S)) -> S {
        *m += (g - *m) * c.w1;
        let decayed = *n * c.b2;
        let fresh = g.abs() + c.eps;
        *n = if decayed > fresh { decayed } else { fresh };
        *m / *n * c.inv_bc1
    }
}
gradient_transform_via_blocks!(ScaleByAdamax);
