//! `scale_by_adamax`: Adam with the infinity norm in place of the second moment.

use crate::buf::Bufs;
use crate::transform::{
    BlockTransform, Mask, MomentumKind, Tensors, gradient_transform_via_blocks,
};
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

impl<S: Scalar> BlockTransform<S> for ScaleByAdamax {
    type State = ScaleByAdamaxState<S>;
    type Coefs = AdamaxCoefs<S>;
    type View<'a> = (&'a mut [S], &'a mut [S]);

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        ScaleByAdamaxState {
            count: 0,
            mu: Bufs::zeros(params, mask),
            inf_norm: Bufs::zeros(params, mask),
        }
    }

    fn prepare(
        &self,
        state: &mut Self::State,
        _: Tensors<'_, S>,
        _: &Params<S>,
        _: Mask<'_>,
        ctx: &StepCtx,
    ) -> AdamaxCoefs<S> {
        let b1 = ctx.momentum.unwrap_or(self.b1);
        state.count += 1;
        AdamaxCoefs {
            w1: S::cast(1.0 - b1),
            b2: S::cast(self.b2),
            inv_bc1: S::cast(1.0 / (1.0 - b1.powf(state.count as f64))),
            eps: S::cast(self.eps),
        }
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        state.mu.slices_mut().zip(state.inf_norm.slices_mut())
    }

    fn momentum(&self) -> Option<(MomentumKind, f64)> {
        Some((MomentumKind::Beta1, self.b1))
    }

    #[inline(always)]
    fn apply_block(&self, c: &AdamaxCoefs<S>, view: &mut Self::View<'_>, u: &mut [S], _p: &[S]) {
        let (mu, inf) = view;
        for ((g, m), n) in u.iter_mut().zip(mu.iter_mut()).zip(inf.iter_mut()) {
            *m += (*g - *m) * c.w1;
            let decayed = *n * c.b2;
            let fresh = g.abs() + c.eps;
            *n = if decayed > fresh { decayed } else { fresh };
            *g = *m / *n * c.inv_bc1;
        }
    }
}
gradient_transform_via_blocks!(ScaleByAdamax);
