//! `trace`: heavy-ball or Nesterov momentum with PyTorch's dampening.

use crate::buf::Bufs;
use crate::transform::{ElementStage, Mask, MomentumKind, gradient_transform_via_blocks};
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

impl ElementStage for Trace {
    type State<S: Scalar> = TraceState<S>;
    type Coefs<S: Scalar> = TraceCoefs<S>;
    type Lane<S: Scalar> = S;
    type View<'a, S: Scalar> = &'a mut [S];

    fn init_masked<S: Scalar>(&self, params: &Params<S>, mask: Mask<'_>) -> TraceState<S> {
        TraceState {
            count: 0,
            buf: Bufs::zeros(params, mask),
        }
    }

    fn prepare<S: Scalar>(&self, state: &mut TraceState<S>, ctx: &StepCtx) -> TraceCoefs<S> {
        state.count += 1;
        // A momentum changed mid-run applies to the buffer as it is (PyTorch).
        let momentum = ctx.momentum.unwrap_or(self.momentum);
        TraceCoefs {
            first: state.count == 1,
            momentum: S::cast(momentum),
            w: S::cast(1.0 - self.dampening),
        }
    }

    fn views<'a, S: Scalar>(
        &self,
        state: &'a mut TraceState<S>,
    ) -> impl Iterator<Item = &'a mut [S]> {
        state.buf.slices_mut()
    }

    fn momentum(&self) -> Option<(MomentumKind, f64)> {
        Some((MomentumKind::Momentum, self.momentum))
    }

    #[inline(always)]
    fn element<S: Scalar>(&self, c: &TraceCoefs<S>, g: S, _p: S, b: &mut S) -> S {
        *b = if c.first {
            g
        } else {
            *b * c.momentum + g * c.w
        };
        if self.nesterov {
            g + *b * c.momentum
        } else {
            *b
        }
    }
}
gradient_transform_via_blocks!(Trace);
