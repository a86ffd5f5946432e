//! `scale_by_radam`: Adam with the variance rectification of RAdam.

use crate::buf::Bufs;
use crate::transform::{
    BlockTransform, Mask, MomentumKind, Tensors, gradient_transform_via_blocks,
};
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

impl<S: Scalar> BlockTransform<S> for ScaleByRadam {
    type State = ScaleByRadamState<S>;
    type Coefs = RadamCoefs<S>;
    type View<'a> = (&'a mut [S], &'a mut [S]);

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        ScaleByRadamState {
            count: 0,
            mu: Bufs::zeros(params, mask),
            nu: Bufs::zeros(params, mask),
        }
    }

    fn prepare(
        &self,
        state: &mut Self::State,
        _: Tensors<'_, S>,
        _: &Params<S>,
        _: Mask<'_>,
        ctx: &StepCtx,
    ) -> RadamCoefs<S> {
        let b1 = ctx.momentum.unwrap_or(self.b1);
        state.count += 1;
        let t = state.count as f64;
        let bc1 = 1.0 - b1.powf(t);
        let bc2 = 1.0 - self.b2.powf(t);
        let rho_inf = 2.0 / (1.0 - self.b2) - 1.0;
        let rho_t = rho_inf - 2.0 * t * self.b2.powf(t) / bc2;
        let rect = (rho_t > 5.0).then(|| {
            let r = (rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t);
            S::cast(r.sqrt())
        });
        RadamCoefs {
            w1: S::cast(1.0 - b1),
            b2: S::cast(self.b2),
            w2: S::cast(1.0 - self.b2),
            inv_bc1: S::cast(1.0 / bc1),
            sqrt_bc2: S::cast(bc2.sqrt()),
            rect,
            eps: S::cast(self.eps),
        }
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        state.mu.slices_mut().zip(state.nu.slices_mut())
    }

    fn momentum(&self) -> Option<(MomentumKind, f64)> {
        Some((MomentumKind::Beta1, self.b1))
    }

    #[inline(always)]
    fn apply_block(&self, c: &RadamCoefs<S>, view: &mut Self::View<'_>, u: &mut [S], _p: &[S]) {
        let (mu, nu) = view;
        for ((g, m), v) in u.iter_mut().zip(mu.iter_mut()).zip(nu.iter_mut()) {
            *m += (*g - *m) * c.w1;
            *v = *v * c.b2 + *g * *g * c.w2;
            let m_hat = *m * c.inv_bc1;
            *g = match c.rect {
                Some(r) => m_hat * (c.sqrt_bc2 / (v.sqrt() + c.eps)) * r,
                None => m_hat,
            };
        }
    }
}
gradient_transform_via_blocks!(ScaleByRadam);
