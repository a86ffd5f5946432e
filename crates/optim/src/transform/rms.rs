//! `scale_by_rms`: RMSprop's division by a running root mean square, optionally centered.

use crate::buf::{Bufs, optional_slices};
use crate::transform::{BlockTransform, Mask, Tensors, gradient_transform_via_blocks};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// RMSprop's scaling (PyTorch `RMSprop` without lr, momentum and weight decay).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByRms {
    /// α, the smoothing constant.
    pub alpha: f64,
    /// ε, added to the root.
    pub eps: f64,
    /// Subtract the squared running mean of the gradient (centered RMSprop).
    pub centered: bool,
}

/// `s ← αs + (1−α)g²`; centered: `ḡ ← αḡ + (1−α)g` and `u ← g/(√(s − ḡ²) + ε)`,
/// otherwise `u ← g/(√s + ε)`.
///
/// # Examples
///
/// ```
/// use descent_optim::transform::scale_by_rms;
///
/// assert!(scale_by_rms(0.99, 1e-8, true).centered);
/// ```
pub fn scale_by_rms(alpha: f64, eps: f64, centered: bool) -> ScaleByRms {
    ScaleByRms {
        alpha,
        eps,
        centered,
    }
}

/// State of [`ScaleByRms`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ScaleByRmsState<S: Scalar> {
    /// Running averages of squared gradients.
    pub square_avg: Bufs<S>,
    /// Running averages of gradients (centered only).
    pub grad_avg: Option<Bufs<S>>,
}

impl<S: Scalar> BlockTransform<S> for ScaleByRms {
    type State = ScaleByRmsState<S>;
    type Coefs = (S, S, S);
    type View<'a> = (&'a mut [S], Option<&'a mut [S]>);

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        ScaleByRmsState {
            square_avg: Bufs::zeros(params, mask),
            grad_avg: self.centered.then(|| Bufs::zeros(params, mask)),
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
            S::cast(self.alpha),
            S::cast(1.0 - self.alpha),
            S::cast(self.eps),
        )
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        let avg = optional_slices(&mut state.grad_avg);
        state.square_avg.slices_mut().zip(avg)
    }

    #[inline(always)]
    fn apply_block(&self, c: &(S, S, S), view: &mut Self::View<'_>, u: &mut [S], _p: &[S]) {
        let (alpha, w, eps) = *c;
        let (sq, avg) = view;
        match avg {
            None => {
                for (g, s) in u.iter_mut().zip(sq.iter_mut()) {
                    *s = *s * alpha + *g * *g * w;
                    *g /= s.sqrt() + eps;
                }
            }
            Some(avg) => {
                for ((g, s), a) in u.iter_mut().zip(sq.iter_mut()).zip(avg.iter_mut()) {
                    *s = *s * alpha + *g * *g * w;
                    *a += (*g - *a) * w;
                    *g /= (*s - *a * *a).sqrt() + eps;
                }
            }
        }
    }
}
gradient_transform_via_blocks!(ScaleByRms);
