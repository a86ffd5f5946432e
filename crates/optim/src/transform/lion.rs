//! `scale_by_lion`: the sign of an interpolated momentum (Chen et al., 2023).

use crate::buf::Bufs;
use crate::transform::{BlockTransform, Mask, Tensors, gradient_transform_via_blocks};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// Lion's scaling (optax `scale_by_lion`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByLion {
    /// β₁, the interpolation used for the update.
    pub b1: f64,
    /// β₂, the decay of the momentum kept.
    pub b2: f64,
}

/// `u ← sign(β₁m + (1−β₁)g)`, then `m ← β₂m + (1−β₂)g`; `sign(0) = 0`.
///
/// # Examples
///
/// ```
/// use descent_optim::transform::scale_by_lion;
///
/// assert_eq!(scale_by_lion(0.9, 0.99).b2, 0.99);
/// ```
pub fn scale_by_lion(b1: f64, b2: f64) -> ScaleByLion {
    ScaleByLion { b1, b2 }
}

/// State of [`ScaleByLion`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ScaleByLionState<S: Scalar> {
    /// Momentum buffers.
    pub mu: Bufs<S>,
}

impl<S: Scalar> BlockTransform<S> for ScaleByLion {
    type State = ScaleByLionState<S>;
    type Coefs = (S, S, S, S);
    type View<'a> = &'a mut [S];

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        ScaleByLionState {
            mu: Bufs::zeros(params, mask),
        }
    }

    fn prepare(
        &self,
        _: &mut Self::State,
        _: Tensors<'_, S>,
        _: &Params<S>,
        _: Mask<'_>,
        _: &StepCtx,
    ) -> (S, S, S, S) {
        let c = S::cast;
        (c(self.b1), c(1.0 - self.b1), c(self.b2), c(1.0 - self.b2))
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        state.mu.slices_mut()
    }

    #[inline(always)]
    fn apply_block(&self, c: &(S, S, S, S), mu: &mut &mut [S], u: &mut [S], _p: &[S]) {
        let (b1, w1, b2, w2) = *c;
        for (g, m) in u.iter_mut().zip(mu.iter_mut()) {
            let mix = *m * b1 + *g * w1;
            *m = *m * b2 + *g * w2;
            *g = if mix > S::zero() {
                S::one()
            } else if mix < S::zero() {
                -S::one()
            } else {
                S::zero()
            };
        }
    }
}
gradient_transform_via_blocks!(ScaleByLion);
