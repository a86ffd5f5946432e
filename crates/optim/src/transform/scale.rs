//! Scaling stages: a constant, the learning rate, a schedule.

use crate::transform::{BlockTransform, Mask, Tensors, gradient_transform_via_blocks};
use descent_core::{Params, Scalar, Schedule, StepCtx};

/// Multiplies the updates by a constant (`scale(-1.0)` turns descent into ascent).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scale {
    /// The factor.
    pub factor: f64,
}

/// `u ← factor · u`.
///
/// # Examples
///
/// ```
/// use descent_optim::transform::{chain, scale, scale_by_learning_rate};
///
/// let maximize = chain((scale(-1.0), scale_by_learning_rate()));
/// assert_eq!(maximize.0.0.factor, -1.0);
/// ```
pub fn scale(factor: f64) -> Scale {
    Scale { factor }
}

/// Multiplies `u` by a constant.
fn scale_block<S: Scalar>(u: &mut [S], k: S) {
    for x in u.iter_mut() {
        *x *= k;
    }
}

impl<S: Scalar> BlockTransform<S> for Scale {
    type State = ();
    type Coefs = S;
    type View<'a> = ();

    fn init_masked(&self, _params: &Params<S>, _mask: Mask<'_>) {}

    fn prepare(&self, _: &mut (), _: Tensors<'_, S>, _: &Params<S>, _: Mask<'_>, _: &StepCtx) -> S {
        S::cast(self.factor)
    }

    fn views(&self, _state: &mut ()) -> impl Iterator<Item = ()> {
        std::iter::repeat(())
    }

    #[inline(always)]
    fn apply_block(&self, k: &S, _: &mut (), u: &mut [S], _p: &[S]) {
        scale_block(u, *k);
    }
}
gradient_transform_via_blocks!(Scale);

/// Multiplies the updates by `-lr`, the step's learning rate from the
/// optimizer (the group's rate, a value or a schedule's, times the multiplier).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ScaleByLearningRate;

/// `u ← −lr · u`, with `lr` read from the step context so it stays settable.
///
/// # Examples
///
/// ```
/// use descent_core::{GradientTransform, ParamStore, StepCtx, Tags};
/// use descent_optim::transform::scale_by_learning_rate;
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::zeros(1, 2))?;
/// store.grad_mut(w).fill(2.0);
/// let t = scale_by_learning_rate();
/// let mut state = t.init(store.params());
/// let (params, grads) = store.split_mut();
/// t.update(grads, &mut state, params, &StepCtx::new(0, 0.25));
/// assert_eq!(store.grad(w)[0], -0.5);
/// # Ok::<(), descent_core::Error>(())
/// ```
pub fn scale_by_learning_rate() -> ScaleByLearningRate {
    ScaleByLearningRate
}

impl<S: Scalar> BlockTransform<S> for ScaleByLearningRate {
    type State = ();
    type Coefs = S;
    type View<'a> = ();

    fn init_masked(&self, _params: &Params<S>, _mask: Mask<'_>) {}

    fn prepare(
        &self,
        _: &mut (),
        _: Tensors<'_, S>,
        _: &Params<S>,
        _: Mask<'_>,
        ctx: &StepCtx,
    ) -> S {
        S::cast(-ctx.lr)
    }

    fn views(&self, _state: &mut ()) -> impl Iterator<Item = ()> {
        std::iter::repeat(())
    }

    #[inline(always)]
    fn apply_block(&self, k: &S, _: &mut (), u: &mut [S], _p: &[S]) {
        scale_block(u, *k);
    }
}
gradient_transform_via_blocks!(ScaleByLearningRate);

/// Multiplies the updates by a schedule's value at the current step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleBySchedule<F> {
    /// The schedule.
    pub schedule: F,
}

/// `u ← schedule(step) · u` (optax `scale_by_schedule`); `step` is the
/// optimizer's step count, so restoring it restores the schedule.
///
/// # Examples
///
/// ```
/// use descent_optim::transform::scale_by_schedule;
///
/// let warmup = scale_by_schedule(|step: u64| ((step + 1) as f64 / 10.0).min(1.0));
/// assert_eq!((warmup.schedule)(4), 0.5);
/// ```
pub fn scale_by_schedule<F: Schedule + Send + Sync>(schedule: F) -> ScaleBySchedule<F> {
    ScaleBySchedule { schedule }
}

impl<S: Scalar, F: Schedule + Send + Sync> BlockTransform<S> for ScaleBySchedule<F> {
    type State = ();
    type Coefs = S;
    type View<'a> = ();

    fn init_masked(&self, _params: &Params<S>, _mask: Mask<'_>) {}

    fn prepare(
        &self,
        _: &mut (),
        _: Tensors<'_, S>,
        _: &Params<S>,
        _: Mask<'_>,
        ctx: &StepCtx,
    ) -> S {
        S::cast(self.schedule.lr(ctx.step))
    }

    fn views(&self, _state: &mut ()) -> impl Iterator<Item = ()> {
        std::iter::repeat(())
    }

    #[inline(always)]
    fn apply_block(&self, k: &S, _: &mut (), u: &mut [S], _p: &[S]) {
        scale_block(u, *k);
    }
}
gradient_transform_via_blocks!(ScaleBySchedule<F>, F: [Schedule + Send + Sync]);
