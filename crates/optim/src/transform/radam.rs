//! `scale_by_radam`: Adam with the variance rectification of RAdam.

use crate::buf::Bufs;
use crate::transform::{ElementStage, Hyper, Mask, MomentumKind, gradient_transform_via_blocks};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// RAdam's scaling (PyTorch `RAdam` without lr and weight decay).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByRadam {
    /// β₁.
    pub b1: f64,
    /// β₂.
    pub b2: f64,
    /// ε, added to √v.
    pub eps: f64,
}

/// While the rectification term `ρₜ ≤ 5` this is bias-corrected momentum
/// `m/(1−β₁ᵗ)`; afterwards it is `m/(1−β₁ᵗ) · √(1−β₂ᵗ)/(√v + ε) · rₜ` (PyTorch's rule).
///
/// # Examples
///
/// ```
/// use descent_optim::transform::scale_by_radam;
///
/// assert_eq!(scale_by_radam(0.9, 0.999, 1e-8).b2, 0.999);
/// ```
pub fn scale_by_radam(b1: f64, b2: f64, eps: f64) -> ScaleByRadam {
    ScaleByRadam { b1, b2, eps }
}

/// State of [`ScaleByRadam`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ScaleByRadamState<S: Scalar> {
    /// Steps taken.
    pub count: u64,
    /// First moments.
    pub mu: Bufs<S>,
    /// Second moments.
    pub nu: Bufs<S>,
}

/// Per-step scalars of RAdam; `rect` is `None` before rectification starts.
#[derive(Clone, Copy, Debug)]
pub struct RadamCoefs<S> {
    w1: S,
    b2: S,
    w2: S,
    inv_bc1: S,
    sqrt_bc2: S,
    rect: Option<S>,
    eps: S,
}

impl ElementStage for ScaleByRadam {
    type State<S: Scalar> = ScaleByRadamState<S>;
    type Coefs<S: Scalar> = RadamCoefs<S>;
    type Lane<S: Scalar> = (S, S);
    type View<'a, S: Scalar> = (&'a mut [S], &'a mut [S]);

    fn init_masked<S: Scalar>(&self, params: &Params<S>, mask: Mask<'_>) -> ScaleByRadamState<S> {
        ScaleByRadamState {
            count: 0,
            mu: Bufs::zeros(params, mask),
            nu: Bufs::zeros(params, mask),
        }
    }

    fn prepare<S: Scalar>(&self, state: &mut ScaleByRadamState<S>, ctx: &StepCtx) -> RadamCoefs<S> {
        let b1 = ctx.momentum.unwrap_or(self.b1);
        let b2 = ctx.beta2.unwrap_or(self.b2);
        state.count += 1;
        let t = state.count as f64;
        let bc1 = 1.0 - b1.powf(t);
        let bc2 = 1.0 - b2.powf(t);
        let rho_inf = 2.0 / (1.0 - b2) - 1.0;
        let rho_t = rho_inf - 2.0 * t * b2.powf(t) / bc2;
        let rect = (rho_t > 5.0).then(|| {
            let r = (rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t);
            S::cast(r.sqrt())
        });
        RadamCoefs {
            w1: S::cast(1.0 - b1),
            b2: S::cast(b2),
            w2: S::cast(1.0 - b2),
            inv_bc1: S::cast(1.0 / bc1),
            sqrt_bc2: S::cast(bc2.sqrt()),
            rect,
            eps: S::cast(ctx.eps.unwrap_or(self.eps)),
        }
    }

    fn views<'a, S: Scalar>(
        &self,
        state: &'a mut ScaleByRadamState<S>,
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
    fn element<S: Scalar>(&self, c: &RadamCoefs<S>, g: S, _p: S, (m, v): &mut (S, S)) -> S {
        *m += (g - *m) * c.w1;
        *v = *v * c.b2 + g * g * c.w2;
        let m_hat = *m * c.inv_bc1;
        match c.rect {
            Some(r) => m_hat * (c.sqrt_bc2 / (v.sqrt() + c.eps)) * r,
            None => m_hat,
        }
    }
}
gradient_transform_via_blocks!(ScaleByRadam);
