//! `scale_by_adagrad`: division by the root of the summed squared gradients.

use crate::buf::Bufs;
use crate::transform::{BlockTransform, Mask, Tensors, gradient_transform_via_blocks};
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

impl<S: Scalar> BlockTransform<S> for ScaleByAdagrad {
    type State = ScaleByAdagradState<S>;
    type Coefs = (S, S);
    type View<'a> = &'a mut [S];

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        ScaleByAdagradState {
            count: 0,
            sum: Bufs::filled(params, mask, S::cast(self.initial_accumulator_value)),
        }
    }

    fn prepare(
        &self,
        state: &mut Self::State,
        _: Tensors<'_, S>,
        _: &Params<S>,
        _: Mask<'_>,
        _: &StepCtx,
    ) -> (S, S) {
        state.count += 1;
        let decay = 1.0 / (1.0 + (state.count - 1) as f64 * self.lr_decay);
        (S::cast(decay), S::cast(self.eps))
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        state.sum.slices_mut()
    }

    #[inline(always)]
    fn apply_block(&self, c: &(S, S), sum: &mut &mut [S], u: &mut [S], _p: &[S]) {
        let (decay, eps) = *c;
        for (g, s) in u.iter_mut().zip(sum.iter_mut()) {
            *s += *g * *g;
            *g = *g / (s.sqrt() + eps) * decay;
        }
    }
}
gradient_transform_via_blocks!(ScaleByAdagrad);
