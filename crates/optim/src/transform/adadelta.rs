//! `scale_by_adadelta`: the ratio of running RMS of updates and of gradients.

use crate::buf::Bufs;
use crate::transform::{ElementStage, Hyper, Mask, gradient_transform_via_blocks};
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

impl ElementStage for ScaleByAdadelta {
    type State<S: Scalar> = ScaleByAdadeltaState<S>;
    type Coefs<S: Scalar> = (S, S, S);
    type Lane<S: Scalar> = (S, S);
    type View<'a, S: Scalar> = (&'a mut [S], &'a mut [S]);

    fn init_masked<S: Scalar>(
        &self,
        params: &Params<S>,
        mask: Mask<'_>,
    ) -> ScaleByAdadeltaState<S> {
        ScaleByAdadeltaState {
            square_avg: Bufs::zeros(params, mask),
            acc_delta: Bufs::zeros(params, mask),
        }
    }

    fn prepare<S: Scalar>(&self, _: &mut ScaleByAdadeltaState<S>, ctx: &StepCtx) -> (S, S, S) {
        let c = S::cast;
        let eps = ctx.eps.unwrap_or(self.eps);
        (c(self.rho), c(1.0 - self.rho), c(eps))
    }

    fn views<'a, S: Scalar>(
        &self,
        state: &'a mut ScaleByAdadeltaState<S>,
    ) -> impl Iterator<Item = Self::View<'a, S>> {
        let acc = state.acc_delta.slices_mut();
        state.square_avg.slices_mut().zip(acc)
    }

    fn hyperparam(&self, key: Hyper) -> Option<f64> {
        (key == Hyper::Eps).then_some(self.eps)
    }

    #[inline(always)]
    fn element<S: Scalar>(
        &self,
        &(rho, w, eps): &(S, S, S),
        g: S,
        _p: S,
        (s, a): &mut (S, S),
    ) -> S {
        *s = *s * rho + g * g * w;
        let std = (*s + eps).sqrt();
        let delta = (*a + eps).sqrt() / std * g;
        *a = *a * rho + delta * delta * w;
        delta
    }
}
gradient_transform_via_blocks!(ScaleByAdadelta);
