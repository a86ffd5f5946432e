//! Scaling stages: a constant, the learning rate, a schedule.

use crate::transform::{ElementRule, gradient_transform_via_blocks};
use descent_core::{Scalar, Schedule, StepCtx};

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

impl ElementRule for Scale {
    fn coef(&self, _: &StepCtx) -> f64 {
        self.factor
    }

    #[inline(always)]
    fn apply<S: Scalar>(&self, k: S, u: S, _p: S) -> S {
        u * k
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

impl ElementRule for ScaleByLearningRate {
    fn coef(&self, ctx: &StepCtx) -> f64 {
        -ctx.lr
    }

    #[inline(always)]
    fn apply<S: Scalar>(&self, k: S, u: S, _p: S) -> S {
        u * k
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

impl<F: Schedule + Send + Sync> ElementRule for ScaleBySchedule<F> {
    fn coef(&self, ctx: &StepCtx) -> f64 {
        self.schedule.lr(ctx.step)
    }

    #[inline(always)]
    fn apply<S: Scalar>(&self, k: S, u: S, _p: S) -> S {
        u * k
    }
}
gradient_transform_via_blocks!(ScaleBySchedule<F>, F: [Schedule + Send + Sync]);
