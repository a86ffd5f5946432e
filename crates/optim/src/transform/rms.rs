//! `scale_by_rms`: RMSprop's division by a running root mean square, optionally centered.

use crate::buf::{Bufs, optional_slices};
use crate::transform::{ElementStage, Hyper, Mask, gradient_transform_via_blocks};
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

impl ElementStage for ScaleByRms {
    type State<S: Scalar> = ScaleByRmsState<S>;
    type Coefs<S: Scalar> = (S, S, S);
    type Lane<S: Scalar> = (S, Option<S>);
    type View<'a, S: Scalar> = (&'a mut [S], Option<&'a mut [S]>);

    fn init_masked<S: Scalar>(&self, params: &Params<S>, mask: Mask<'_>) -> ScaleByRmsState<S> {
        ScaleByRmsState {
            square_avg: Bufs::zeros(params, mask),
            grad_avg: self.centered.then(|| Bufs::zeros(params, mask)),
        }
    }

    fn prepare<S: Scalar>(&self, _: &mut ScaleByRmsState<S>, ctx: &StepCtx) -> (S, S, S) {
        let c = S::cast;
        let eps = ctx.eps.unwrap_or(self.eps);
        (c(self.alpha), c(1.0 - self.alpha), c(eps))
    }

    fn views<'a, S: Scalar>(
        &self,
        state: &'a mut ScaleByRmsState<S>,
    ) -> impl Iterator<Item = Self::View<'a, S>> {
        let avg = optional_slices(&mut state.grad_avg);
        state.square_avg.slices_mut().zip(avg)
    }

    fn hyperparam(&self, key: Hyper) -> Option<f64> {
        (key == Hyper::Eps).then_some(self.eps)
    }

    #[inline(always)]
    fn element<S: Scalar>(&self, c: &(S, S, S), g: S, _p: S, l: &mut (S, Option<S>)) -> S {
        let (alpha, w, eps) = *c;
        let (s, avg) = l;
        *s = *s * alpha + g * g * w;
        match avg {
            None => g / (s.sqrt() + eps),
            Some(a) => {
                *a += (g - *a) * w;
                g / ((*s - *a * *a).sqrt() + eps)
            }
        }
    }
}
gradient_transform_via_blocks!(ScaleByRms);
