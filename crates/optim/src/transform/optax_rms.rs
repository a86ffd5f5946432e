//! `scale_by_optax_rms`: optax's `scale_by_rms`, with its ε placement and
//! optional bias correction (schedule-free AdamW's base stage).

use crate::buf::Bufs;
use crate::transform::{BlockTransform, Mask, Tensors, gradient_transform_via_blocks};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// optax's `scale_by_rms`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByOptaxRms {
    /// The second moment's decay.
    pub decay: f64,
    /// ε.
    pub eps: f64,
    /// The value the second moment starts at.
    pub initial_scale: f64,
    /// ε inside the root (`1/√(v̂+ε)`) rather than outside (`1/(√v̂+ε)`).
    pub eps_in_sqrt: bool,
    /// Divide the second moment by `1 − decayᵗ`.
    pub bias_correction: bool,
}

/// optax's `scale_by_rms(decay, eps, initial_scale, eps_in_sqrt, bias_correction)`:
/// `v ← (1−decay)g² + decay·v`, `v̂ = v/(1−decayᵗ)` with bias correction
/// (else `v`), `u ← g/√(v̂+ε)` or `u ← g/(√v̂+ε)`. PyTorch's RMSprop is
/// [`scale_by_rms`](crate::transform::scale_by_rms).
///
/// # Examples
///
/// ```
/// use descent_optim::transform::scale_by_optax_rms;
///
/// // Schedule-free AdamW's base: Adam with β₁ = 0, without a first moment.
/// let rms = scale_by_optax_rms(0.999, 1e-8, 0.0, false, true);
/// assert!(rms.bias_correction);
/// ```
pub fn scale_by_optax_rms(
    decay: f64,
    eps: f64,
    initial_scale: f64,
    eps_in_sqrt: bool,
    bias_correction: bool,
) -> ScaleByOptaxRms {
    ScaleByOptaxRms {
        decay,
        eps,
        initial_scale,
        eps_in_sqrt,
        bias_correction,
    }
}

/// State of [`ScaleByOptaxRms`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ScaleByOptaxRmsState<S: Scalar> {
    /// Steps taken.
    pub count: u64,
    /// Second moments.
    pub nu: Bufs<S>,
}

/// Per-step scalars of [`ScaleByOptaxRms`].
#[derive(Clone, Copy, Debug)]
pub struct OptaxRmsCoefs<S> {
    decay: S,
    w: S,
    eps: S,
    bc: S,
    eps_in_sqrt: bool,
}

impl<S: Scalar> OptaxRmsCoefs<S> {
    /// One element: updates the moment, returns the scaled update.
    #[inline(always)]
    fn step(&self, g: S, v: &mut S) -> S {
        *v = self.w * (g * g) + self.decay * *v;
        let v_hat = *v / self.bc;
        let scaling = if self.eps_in_sqrt {
            S::one() / (v_hat + self.eps).sqrt()
        } else {
            S::one() / (v_hat.sqrt() + self.eps)
        };
        scaling * g
    }
}

impl<S: Scalar> BlockTransform<S> for ScaleByOptaxRms {
    type State = ScaleByOptaxRmsState<S>;
    type Coefs = OptaxRmsCoefs<S>;
    type View<'a> = &'a mut [S];

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        ScaleByOptaxRmsState {
            count: 0,
            nu: Bufs::filled(params, mask, S::cast(self.initial_scale)),
        }
    }

    fn prepare(
        &self,
        state: &mut Self::State,
        _: Tensors<'_, S>,
        _: &Params<S>,
        _: Mask<'_>,
        _: &StepCtx,
    ) -> OptaxRmsCoefs<S> {
        state.count += 1;
        let bc = if self.bias_correction {
            1.0 - self.decay.powf(state.count as f64)
        } else {
            1.0
        };
        OptaxRmsCoefs {
            decay: S::cast(self.decay),
            w: S::cast(1.0 - self.decay),
            eps: S::cast(self.eps),
            bc: S::cast(bc),
            eps_in_sqrt: self.eps_in_sqrt,
        }
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        state.nu.slices_mut()
    }

    #[inline(always)]
    fn apply_block(&self, c: &OptaxRmsCoefs<S>, nu: &mut &mut [S], u: &mut [S], _p: &[S]) {
        for (g, v) in u.iter_mut().zip(nu.iter_mut()) {
            *g = c.step(*g, v);
        }
    }
}
gradient_transform_via_blocks!(ScaleByOptaxRms);
