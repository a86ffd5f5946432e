//! `trace`: heavy-ball or Nesterov momentum with PyTorch's dampening.

use crate::buf::Bufs;
use crate::transform::{
    BlockTransform, Mask, MomentumKind, Tensors, gradient_transform_via_blocks,
};
use descent_core::{Params, Scalar, StepCtx};
use serde::{Deserialize, Serialize};

/// Momentum (PyTorch SGD's momentum buffer).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trace {
    /// μ, the momentum factor.
    pub momentum: f64,
    /// d, the dampening of new gradients.
    pub dampening: f64,
    /// Use Nesterov's look-ahead form.
    pub nesterov: bool,
}

/// `b ← g` on the first step, then `b ← μb + (1−d)g`; `u ← g + μb` (Nesterov) or `u ← b`.
///
/// # Examples
///
/// ```
/// use descent_optim::transform::trace;
///
/// let heavy_ball = trace(0.9, 0.0, false);
/// assert!(!heavy_ball.nesterov);
/// ```
pub fn trace(momentum: f64, dampening: f64, nesterov: bool) -> Trace {
    Trace {
        momentum,
        dampening,
        nesterov,
    }
}

/// State of [`Trace`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct TraceState<S: Scalar> {
    /// Steps taken.
    pub count: u64,
    /// Momentum buffers.
    pub buf: Bufs<S>,
}

/// Per-step scalars of [`Trace`].
#[derive(Clone, Copy, Debug)]
pub struct TraceCoefs<S> {
    first: bool,
    momentum: S,
    w: S,
}

impl<S: Scalar> TraceCoefs<S> {
    /// One element: updates the buffer, returns the update.
    #[inline(always)]
    fn trace(&self, g: S, b: &mut S, nesterov: bool) -> S {
        *b = if self.first {
            g
        } else {
            *b * self.momentum + g * self.w
        };
        if nesterov { g + *b * self.momentum } else { *b }
    }
}

impl<S: Scalar> BlockTransform<S> for Trace {
    type State = TraceState<S>;
    type Coefs = TraceCoefs<S>;
    type View<'a> = &'a mut [S];

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        TraceState {
            count: 0,
            buf: Bufs::zeros(params, mask),
        }
    }

    fn prepare(
        &self,
        state: &mut Self::State,
        _: Tensors<'_, S>,
        _: &Params<S>,
        _: Mask<'_>,
        ctx: &StepCtx,
    ) -> TraceCoefs<S> {
        state.count += 1;
        // A momentum changed mid-run applies to the buffer as it is (PyTorch).
        let momentum = ctx.momentum.unwrap_or(self.momentum);
        TraceCoefs {
            first: state.count == 1,
            momentum: S::cast(momentum),
            w: S::cast(1.0 - self.dampening),
        }
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        state.buf.slices_mut()
    }

    fn momentum(&self) -> Option<(MomentumKind, f64)> {
        Some((MomentumKind::Momentum, self.momentum))
    }

    #[inline(always)]
    fn apply_block(&self, c: &TraceCoefs<S>, buf: &mut &mut [S], u: &mut [S], _p: &[S]) {
        for (g, b) in u.iter_mut().zip(buf.iter_mut()) {
            *g = c.trace(*g, b, self.nesterov);
        }
    }

    #[inline(always)]
    fn apply_block_from(
        &self,
        c: &TraceCoefs<S>,
        buf: &mut &mut [S],
        src: &[S],
        u: &mut [S],
        _p: &[S],
    ) {
        for ((o, &g), b) in u.iter_mut().zip(src).zip(buf.iter_mut()) {
            *o = c.trace(g, b, self.nesterov);
        }
    }
}
gradient_transform_via_blocks!(Trace);
