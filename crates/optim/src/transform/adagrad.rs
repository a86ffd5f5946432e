//! `scale_by_adagrad`: division by the root of the summed squared gradients.

use crate::buf::Bufs;
use crate::transform::{ElementStage, Hyper, Mask, gradient_transform_via_blocks};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// Adagrad's scaling (PyTorch `Adagrad` without lr and weight decay).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByAdagrad {
    /// The rate decay: step `t` is divided by `1 + (t−1)·lr_decay`.
    pub lr_decay: f64,
    /// The accumulator's starting value.
    pub initial_accumulator_value: f64,
    /// ε, added to the root of the accumulator.
    pub eps: f64,
}

/// `s ← s + g²`, `u ← g / (√s + ε) / (1 + (t−1)·lr_decay)`.
///
/// # Examples
///
/// ```
/// use descent_optim::transform::scale_by_adagrad;
///
/// assert_eq!(scale_by_adagrad(0.0, 0.1, 1e-10).initial_accumulator_value, 0.1);
/// ```
pub fn scale_by_adagrad(lr_decay: f64, initial_accumulator_value: f64, eps: f64) -> ScaleByAdagrad {
    ScaleByAdagrad {
        lr_decay,
        initial_accumulator_value,
        eps,
    }
}

/// State of [`ScaleByAdagrad`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ScaleByAdagradState<S: Scalar> {
    /// Steps taken.
    pub count: u64,
    /// Sums of squared gradients.
    pub sum: Bufs<S>,
}

impl ElementStage for ScaleByAdagrad {
    type State<S: Scalar> = ScaleByAdagradState<S>;
    type Coefs<S: Scalar> = (S, S);
    type Lane<S: Scalar> = S;
    type View<'a, S: Scalar> = &'a mut [S];

    fn init_masked<S: Scalar>(&self, params: &Params<S>, mask: Mask<'_>) -> ScaleByAdagradState<S> {
        ScaleByAdagradState {
            count: 0,
            sum: Bufs::filled(params, mask, S::cast(self.initial_accumulator_value)),
        }
    }

    fn prepare<S: Scalar>(&self, state: &mut ScaleByAdagradState<S>, ctx: &StepCtx) -> (S, S) {
        state.count += 1;
        let decay = 1.0 / (1.0 + (state.count - 1) as f64 * self.lr_decay);
        (S::cast(decay), S::cast(ctx.eps.unwrap_or(self.eps)))
    }

    fn views<'a, S: Scalar>(
        &self,
        state: &'a mut ScaleByAdagradState<S>,
    ) -> impl Iterator<Item = &'a mut [S]> {
        state.sum.slices_mut()
    }

    fn hyperparam(&self, key: Hyper) -> Option<f64> {
        (key == Hyper::Eps).then_some(self.eps)
    }

    #[inline(always)]
    fn element<S: Scalar>(&self, &(decay, eps): &(S, S), g: S, _p: S, s: &mut S) -> S {
        *s += g * g;
        g / (s.sqrt() + eps) * decay
    }
}
gradient_transform_via_blocks!(ScaleByAdagrad);
