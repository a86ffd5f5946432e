//! `scale_by_rprop`: PyTorch's Rprop, per-element step sizes driven by sign changes.

use crate::buf::Bufs;
use crate::transform::{BlockTransform, Mask, Tensors, gradient_transform_via_blocks};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// Resilient backpropagation (Riedmiller & Braun 1993), as PyTorch's `Rprop`.
///
/// Each element keeps its own step size, which grows by η₊ while the
/// gradient keeps its sign and shrinks by η₋ when it flips; the update is
/// `−sign(g)·step`. The step sizes start at the learning rate of the first
/// step (PyTorch fills them with `lr` when it creates the state), so the
/// stage outputs the whole update and takes no `scale_by_learning_rate`
/// after it: a learning rate changed later has no effect, as in PyTorch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleByRprop {
    /// η₋, the factor applied to a step size when the gradient flips sign.
    pub etaminus: f64,
    /// η₊, the factor applied while the gradient keeps its sign.
    pub etaplus: f64,
    /// The smallest step size.
    pub step_size_min: f64,
    /// The largest step size.
    pub step_size_max: f64,
}

/// Rprop with factors `etas = (η₋, η₊)` and step sizes clamped to
/// `step_sizes = (min, max)`.
///
/// # Examples
///
/// ```
/// use descent_optim::transform::scale_by_rprop;
///
/// let rprop = scale_by_rprop((0.5, 1.2), (1e-6, 50.0));
/// assert_eq!(rprop.etaplus, 1.2);
/// ```
pub fn scale_by_rprop(etas: (f64, f64), step_sizes: (f64, f64)) -> ScaleByRprop {
    ScaleByRprop {
        etaminus: etas.0,
        etaplus: etas.1,
        step_size_min: step_sizes.0,
        step_size_max: step_sizes.1,
    }
}

/// State of [`ScaleByRprop`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct ScaleByRpropState<S: Scalar> {
    /// Steps taken.
    pub count: u64,
    /// The gradient of the previous step (0 where it flipped sign).
    pub prev: Bufs<S>,
    /// Each element's step size (filled with the learning rate on the first step).
    pub step_size: Bufs<S>,
}

/// Per-step scalars of [`ScaleByRprop`].
#[derive(Clone, Copy, Debug)]
pub struct RpropCoefs<S> {
    etaminus: S,
    etaplus: S,
    min: S,
    max: S,
}

impl<S: Scalar> RpropCoefs<S> {
    /// One element of Rprop: updates the step size and the previous
    /// gradient, returns the update `−sign(g)·step`.
    #[inline(always)]
    fn rprop(&self, g: S, prev: &mut S, step: &mut S) -> S {
        let prod = g * *prev;
        let factor = if prod > S::zero() {
            self.etaplus
        } else if prod < S::zero() {
            self.etaminus
        } else if prod == S::zero() {
            S::one()
        } else {
            prod // NaN stays NaN, as torch's sign does
        };
        // torch `clamp_(min, max)`: max first, then min (NaN propagates).
        let s = *step * factor;
        let s = if s < self.min { self.min } else { s };
        *step = if s > self.max { self.max } else { s };
        // Where the sign flipped the step is skipped and the gradient forgotten.
        let g = if factor == self.etaminus {
            S::zero()
        } else {
            g
        };
        *prev = g;
        let sign = if g > S::zero() {
            S::one()
        } else if g < S::zero() {
            -S::one()
        } else {
            g // ±0 (or NaN)
        };
        -(sign * *step)
    }
}

impl<S: Scalar> BlockTransform<S> for ScaleByRprop {
    type State = ScaleByRpropState<S>;
    type Coefs = RpropCoefs<S>;
    type View<'a> = (&'a mut [S], &'a mut [S]);

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        ScaleByRpropState {
            count: 0,
            prev: Bufs::zeros(params, mask),
            step_size: Bufs::zeros(params, mask),
        }
    }

    fn prepare(
        &self,
        state: &mut Self::State,
        _: Tensors<'_, S>,
        _: &Params<S>,
        _: Mask<'_>,
        ctx: &StepCtx,
    ) -> RpropCoefs<S> {
        if state.count == 0 {
            let lr = S::cast(ctx.lr);
            state.step_size.slices_mut().for_each(|s| s.fill(lr));
        }
        state.count += 1;
        RpropCoefs {
            etaminus: S::cast(self.etaminus),
            etaplus: S::cast(self.etaplus),
            min: S::cast(self.step_size_min),
            max: S::cast(self.step_size_max),
        }
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        state.prev.slices_mut().zip(state.step_size.slices_mut())
    }

    #[inline(always)]
    fn apply_block(&self, c: &RpropCoefs<S>, view: &mut Self::View<'_>, u: &mut [S], _p: &[S]) {
        let (prev, step) = view;
        for ((g, prev), step) in u.iter_mut().zip(prev.iter_mut()).zip(step.iter_mut()) {
            *g = c.rprop(*g, prev, step);
        }
    }
}
gradient_transform_via_blocks!(ScaleByRprop);

#[cfg(test)]
mod tests {
    use super::*;

    fn coefs() -> RpropCoefs<f64> {
        RpropCoefs {
            etaminus: 0.5,
            etaplus: 1.2,
            min: 1e-6,
            max: 50.0,
        }
    }

    #[test]
    fn a_kept_sign_grows_the_step_and_a_flip_skips_it() {
        let c = coefs();
        let (mut prev, mut step) = (0.0, 0.1);
        // First step: no previous gradient, factor 1.
        assert_eq!(c.rprop(2.0, &mut prev, &mut step), -0.1);
        assert_eq!((prev, step), (2.0, 0.1));
        // Same sign: the step grows by η₊.
        assert_eq!(c.rprop(3.0, &mut prev, &mut step), -(0.1 * 1.2));
        // Flip: the step shrinks by η₋, no move, the gradient is forgotten.
        let u = c.rprop(-1.0, &mut prev, &mut step);
        assert_eq!((u, prev, step), (-0.0, 0.0, 0.1 * 1.2 * 0.5));
    }

    #[test]
    fn step_sizes_stay_within_their_bounds() {
        let c = coefs();
        let (mut prev, mut step) = (1.0, 49.0);
        c.rprop(1.0, &mut prev, &mut step);
        assert_eq!(step, 50.0);
        let (mut prev, mut step) = (1.0, 1.5e-6);
        c.rprop(-1.0, &mut prev, &mut step);
        assert_eq!(step, 1e-6);
    }
}
