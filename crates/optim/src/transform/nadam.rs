//! `scale_by_nadam`: Adam with Nesterov momentum and PyTorch's momentum-decay schedule.

use crate::buf::Bufs;
use crate::transform::{ElementStage, Hyper, Mask, MomentumKind, gradient_transform_via_blocks};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// NAdam's scaling (PyTorch `NAdam` without lr and weight decay).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByNadam {
    /// β₁.
    pub b1: f64,
    /// β₂.
    pub b2: f64,
    /// ε.
    pub eps: f64,
    /// ψ, the momentum decay: `μₜ = β₁(1 − ½·0.96^(tψ))`.
    pub momentum_decay: f64,
}

/// `u ← (1−μₜ)/(1−Πμ) · g/d + μₜ₊₁/(1−Πμ·μₜ₊₁) · m/d` with `d = √(v/(1−β₂ᵗ)) + ε`,
/// PyTorch's NAdam.
///
/// # Examples
///
/// ```
/// use descent_optim::transform::scale_by_nadam;
///
/// assert_eq!(scale_by_nadam(0.9, 0.999, 1e-8, 4e-3).momentum_decay, 4e-3);
/// ```
pub fn scale_by_nadam(b1: f64, b2: f64, eps: f64, momentum_decay: f64) -> ScaleByNadam {
    ScaleByNadam {
        b1,
        b2,
        eps,
        momentum_decay,
    }
}

/// State of [`ScaleByNadam`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ScaleByNadamState<S: Scalar> {
    /// Steps taken.
    pub count: u64,
    /// Product of the momentum coefficients μ₁…μₜ.
    #[serde(with = "crate::float")]
    pub mu_product: f64,
    /// First moments.
    pub mu: Bufs<S>,
    /// Second moments.
    pub nu: Bufs<S>,
}

/// Per-step scalars of NAdam.
#[derive(Clone, Copy, Debug)]
pub struct NadamCoefs<S> {
    w1: S,
    b2: S,
    w2: S,
    inv_bc2: S,
    c_grad: S,
    c_mom: S,
    eps: S,
}

impl ElementStage for ScaleByNadam {
    type State<S: Scalar> = ScaleByNadamState<S>;
    type Coefs<S: Scalar> = NadamCoefs<S>;
    type Lane<S: Scalar> = (S, S);
    type View<'a, S: Scalar> = (&'a mut [S], &'a mut [S]);

    fn init_masked<S: Scalar>(&self, params: &Params<S>, mask: Mask<'_>) -> ScaleByNadamState<S> {
        ScaleByNadamState {
            count: 0,
            mu_product: 1.0,
            mu: Bufs::zeros(params, mask),
            nu: Bufs::zeros(params, mask),
        }
    }

    fn prepare<S: Scalar>(&self, state: &mut ScaleByNadamState<S>, ctx: &StepCtx) -> NadamCoefs<S> {
        let b1 = ctx.momentum.unwrap_or(self.b1);
        let (b2, eps) = (ctx.beta2.unwrap_or(self.b2), ctx.eps.unwrap_or(self.eps));
        state.count += 1;
        let t = state.count as f64;
        let mu = b1 * (1.0 - 0.5 * 0.96f64.powf(t * self.momentum_decay));
        let mu_next = b1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * self.momentum_decay));
        state.mu_product *= mu;
        let mu_product_next = state.mu_product * mu_next;
        NadamCoefs {
            w1: S::cast(1.0 - b1),
            b2: S::cast(b2),
            w2: S::cast(1.0 - b2),
            inv_bc2: S::cast(1.0 / (1.0 - b2.powf(t))),
            c_grad: S::cast((1.0 - mu) / (1.0 - state.mu_product)),
            c_mom: S::cast(mu_next / (1.0 - mu_product_next)),
            eps: S::cast(eps),
        }
    }

    fn views<'a, S: Scalar>(
        &self,
        state: &'a mut ScaleByNadamState<S>,
    ) -> impl Iterator<Item = Self::View<'a, S>> {
        state.mu.slices_mut().zip(state.nu.slices_mut())
    }

    fn momentum(&self) -> Option<(MomentumKind, f64)> {
        Some((MomentumKind::Beta1, self.b1))
    }

    fn hyperparam(&self, key: Hyper) -> Option<f64> {
        key.beta2_eps(self.b2, self.eps)
    }

    #[inline(always)]
    fn element<S: Scalar>(&self, c: &NadamCoefs<S>, g: S, _p: S, (m, v): &mut (S, S)) -> S {
        *m += (g - *m) * c.w1;
        *v = *v * c.b2 + g * g * c.w2;
        let denom = (*v * c.inv_bc2).sqrt() + c.eps;
        g * c.c_grad / denom + *m * c.c_mom / denom
    }
}
gradient_transform_via_blocks!(ScaleByNadam);
