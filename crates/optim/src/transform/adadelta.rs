//! `scale_by_adadelta`: the ratio of running RMS of updates and of gradients.

use crate::buf::Bufs;
use crate::transform::{BlockTransform, Mask, Tensors, gradient_transform_via_blocks};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// Adadelta's scaling (PyTorch `Adadelta` without lr and weight decay).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByAdadelta {
    /// ρ, the decay of both running averages.
    pub rho: f64,
    /// ε, added inside both square roots.
    pub eps: f64,
}

/// `s ← ρs + (1−ρ)g²`, `Δ ← √(a+ε)/√(s+ε) · g`, `a ← ρa + (1−ρ)Δ²`, `u ← Δ`;
/// PyTorch then multiplies by `lr` (1.0 by default).
///
/// # Examples
///
/// ```
/// use descent_optim::transform::scale_by_adadelta;
///
/// assert_eq!(scale_by_adadelta(0.9, 1e-6).rho, 0.9);
/// ```
pub fn scale_by_adadelta(rho: f64, eps: f64) -> ScaleByAdadelta {
    ScaleByAdadelta { rho, eps }
}

/// State of [`ScaleByAdadelta`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ScaleByAdadeltaState<S: Scalar> {
    /// Running averages of squared gradients.
    pub square_avg: Bufs<S>,
    /// Running averages of squared updates.
    pub acc_delta: Bufs<S>,
}

impl<S: Scalar> BlockTransform<S> for ScaleByAdadelta {
    type State = ScaleByAdadeltaState<S>;
    type Coefs = (S, S, S);
    type View<'a> = (&'a mut [S], &'a mut [S]);

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        ScaleByAdadeltaState {
            square_avg: Bufs::zeros(params, mask),
            acc_delta: Bufs::zeros(params, mask),
        }
    }

    fn prepare(
        &self,
        _: &mut Self::State,
        _: Tensors<'_, S>,
        _: &Params<S>,
        _: Mask<'_>,
        _: &StepCtx,
    ) -> (S, S, S) {
        (
            S::cast(self.rho),
            S::cast(1.0 - self.rho),
            S::cast(self.eps),
        )
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        state
            .square_avg
            .slices_mut()
            .zip(state.acc_delta.slices_mut())
    }

    #[inline(always)]
    fn apply_block(&self, c: &(S, S, S), view: &mut Self::View<'_>, u: &mut [S], _p: &[S]) {
        let (rho, w, eps) = *c;
        let (sq, acc) = view;
        for ((g, s), a) in u.iter_mut().zip(sq.iter_mut()).zip(acc.iter_mut()) {
            *s = *s * rho + *g * *g * w;
            let std = (*s + eps).sqrt();
            let delta = (*a + eps).sqrt() / std * *g;
            *a = *a * rho + delta * delta * w;
            *g = delta;
        }
    }
}
gradient_transform_via_blocks!(ScaleByAdadelta);
