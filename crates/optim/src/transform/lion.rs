//! `scale_by_lion`: the sign of an interpolated momentum (Chen et al., 2023).

use crate::buf::Bufs;
use crate::transform::{ElementStage, Hyper, Mask, MomentumKind, gradient_transform_via_blocks};
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

impl ElementStage for ScaleByLion {
    type State<S: Scalar> = ScaleByLionState<S>;
    type Coefs<S: Scalar> = (S, S, S, S);
    type Lane<S: Scalar> = S;
    type View<'a, S: Scalar> = &'a mut [S];

    fn init_masked<S: Scalar>(&self, params: &Params<S>, mask: Mask<'_>) -> ScaleByLionState<S> {
        ScaleByLionState {
            mu: Bufs::zeros(params, mask),
        }
    }

    fn prepare<S: Scalar>(&self, _: &mut ScaleByLionState<S>, ctx: &StepCtx) -> (S, S, S, S) {
        let b1 = ctx.momentum.unwrap_or(self.b1);
        let b2 = ctx.beta2.unwrap_or(self.b2);
        let c = S::cast;
        (c(b1), c(1.0 - b1), c(b2), c(1.0 - b2))
    }

    fn views<'a, S: Scalar>(
        &self,
        state: &'a mut ScaleByLionState<S>,
    ) -> impl Iterator<Item = &'a mut [S]> {
        state.mu.slices_mut()
    }

    fn momentum(&self) -> Option<(MomentumKind, f64)> {
        Some((MomentumKind::Beta1, self.b1))
    }

    fn hyperparam(&self, key: Hyper) -> Option<f64> {
        (key == Hyper::Beta2).then_some(self.b2)
    }

    #[inline(always)]
    fn element<S: Scalar>(&self, c: &(S, S, S, S), g: S, _p: S, m: &mut S) -> S {
        let (b1, w1, b2, w2) = *c;
        let mix = *m * b1 + g * w1;
        *m = *m * b2 + g * w2;
        if mix > S::zero() {
            S::one()
        } else if mix < S::zero() {
            -S::one()
        } else {
            S::zero()
        }
    }
}
gradient_transform_via_blocks!(ScaleByLion);

#[cfg(test)]
mod tests {
    use super::*;
    use descent_core::{GradientTransform, ParamStore, Tags};
    use nalgebra::DMatrix;

    #[test]
    fn lion_takes_the_sign_of_the_interpolated_momentum() {
        let mut store = ParamStore::<f64>::new();
        let w = store
            .register("w", Tags::WEIGHT, DMatrix::zeros(1, 3))
            .unwrap();
        let lion = scale_by_lion(0.9, 0.99);
        let mut state = lion.init(store.params());
        let ctx = StepCtx::new(0, 1.0);
        store.grad_mut(w).copy_from_slice(&[2.0, -0.5, 0.0]);
        let (params, grads) = store.split_mut();
        lion.update(grads, &mut state, params, &ctx);
        assert_eq!(store.grad(w).as_slice(), &[1.0, -1.0, 0.0]);
        // m = 0.01·g = (0.02, -0.005, 0); with g = (-0.1, 0.1, 0) the mix
        // 0.9·m + 0.1·g is (0.008, 0.0055, 0): the momentum wins the first sign,
        // the new gradient the second.
        store.grad_mut(w).copy_from_slice(&[-0.1, 0.1, 0.0]);
        let (params, grads) = store.split_mut();
        lion.update(grads, &mut state, params, &ctx);
        assert_eq!(store.grad(w).as_slice(), &[1.0, 1.0, 0.0]);
        let m = &state.mu.as_slices()[0];
        assert!((m[0] - (0.99 * 0.02 + 0.01 * -0.1)).abs() < 1e-15);
    }
}
