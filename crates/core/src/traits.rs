//! The traits shared across crates: gradient transforms and schedules.

use crate::{Grads, Params, Scalar};

/// What a gradient transform may know about the step being taken.
///
/// The optimizer fills it in once per step and parameter group; transforms
/// read it instead of keeping their own copy of the learning rate, so the rate
/// stays readable and settable between steps. It is `#[non_exhaustive]`:
/// build it with [`StepCtx::new`] and the `with_*` methods, so more
/// hyperparameters can enter it without breaking anyone.
///
/// # Examples
///
/// ```
/// use descent_core::StepCtx;
///
/// let ctx = StepCtx::new(0, 0.1);
/// assert_eq!((ctx.step, ctx.lr, ctx.lr_multiplier), (0, 0.1, 1.0));
/// let halved = StepCtx::new(3, 0.05).with_lr_multiplier(0.5);
/// assert_eq!(halved.lr_multiplier, 0.5);
/// assert_eq!(ctx.momentum, None);
/// assert_eq!(ctx.with_momentum(Some(0.85)).momentum, Some(0.85));
/// assert_eq!(ctx.with_beta2(Some(0.99)).beta2, Some(0.99));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct StepCtx {
    /// Optimizer steps completed before this one (0 on the first step).
    pub step: u64,
    /// The learning rate of this step, absolute: the group's rate (a value or
    /// a schedule's) times `lr_multiplier`.
    pub lr: f64,
    /// The optimizer's learning-rate multiplier for this step (η_t in
    /// Loshchilov & Hutter), 1 without one.
    pub lr_multiplier: f64,
    /// The momentum this step uses (SGD's and RMSprop's `momentum`,
    /// Adam-family β₁), when the optimizer drives it (a value set on the
    /// running optimizer, or a momentum schedule); `None`: the stage's own.
    /// Only the group's first momentum stage sees it.
    pub momentum: Option<f64>,
    /// β₂ (Adam family) when the optimizer drives it, else `None`: the
    /// stage's own. Only the group's first stage with a β₂ sees it.
    pub beta2: Option<f64>,
    /// ε when the optimizer drives it, else `None`. Only the group's first
    /// stage with an ε sees it.
    pub eps: Option<f64>,
    /// The weight-decay coefficient λ when the optimizer drives it, else
    /// `None`. Only the group's first decay stage sees it.
    pub weight_decay: Option<f64>,
}

impl StepCtx {
    /// The context of step `step` at learning rate `lr`, multiplier 1.
    pub fn new(step: u64, lr: f64) -> Self {
        StepCtx {
            step,
            lr,
            lr_multiplier: 1.0,
            momentum: None,
            beta2: None,
            eps: None,
            weight_decay: None,
        }
    }

    /// The same context with multiplier `lr_multiplier` (`lr` is unchanged:
    /// it already includes the multiplier).
    pub fn with_lr_multiplier(self, lr_multiplier: f64) -> Self {
        StepCtx {
            lr_multiplier,
            ..self
        }
    }

    /// The same context with `momentum` (`None`: each stage's own).
    pub fn with_momentum(self, momentum: Option<f64>) -> Self {
        StepCtx { momentum, ..self }
    }

    /// The same context with `beta2` (`None`: each stage's own).
    pub fn with_beta2(self, beta2: Option<f64>) -> Self {
        StepCtx { beta2, ..self }
    }

    /// The same context with `eps` (`None`: each stage's own).
    pub fn with_eps(self, eps: Option<f64>) -> Self {
        StepCtx { eps, ..self }
    }

    /// The same context with `weight_decay` (`None`: each stage's own).
    pub fn with_weight_decay(self, weight_decay: Option<f64>) -> Self {
        StepCtx {
            weight_decay,
            ..self
        }
    }
}

/// One stage of an optimizer, in the optax style: it owns no parameters,
/// keeps its state in a separate value, and rewrites gradients into updates
/// in place, so a steady-state step allocates nothing.
///
/// Optimizers are chains of transforms; the state of a chain is the tuple of
/// its stages' states.
pub trait GradientTransform<S: Scalar> {
    /// Per-run state (moments, step counters, ...).
    type State;

    /// Fresh state for the parameters in `params`.
    fn init(&self, params: &Params<S>) -> Self::State;

    /// Rewrites `grads` in place into this stage's output; `ctx` carries the
    /// step count and learning rate.
    fn update(
        &self,
        grads: &mut Grads<S>,
        state: &mut Self::State,
        params: &Params<S>,
        ctx: &StepCtx,
    );
}

/// A learning rate (or a multiplier) as a pure function of the step count.
///
/// A plain `f64` is a constant schedule, and any `Fn(u64) -> f64` closure is a
/// schedule too. Schedules that observe a metric (plateau schedules) use a
/// separate trait in `descent-schedule`; resuming a run means restoring the
/// step count.
///
/// # Examples
///
/// ```
/// use descent_core::Schedule;
///
/// assert_eq!(0.1.lr(1000), 0.1);
/// let halve_every_10 = |step: u64| 0.1 * 0.5f64.powi((step / 10) as i32);
/// assert_eq!(halve_every_10.lr(25), 0.025);
/// assert_eq!(halve_every_10.lrs(3), vec![0.1, 0.1, 0.1]);
/// ```
pub trait Schedule {
    /// The value at `step` (0 is the first step).
    fn lr(&self, step: u64) -> f64;

    /// The first `n` values, for plots and tables.
    fn lrs(&self, n: u64) -> Vec<f64> {
        (0..n).map(|s| self.lr(s)).collect()
    }
}

impl Schedule for f64 {
    fn lr(&self, _step: u64) -> f64 {
        *self
    }
}

impl<F: Fn(u64) -> f64> Schedule for F {
    fn lr(&self, step: u64) -> f64 {
        self(step)
    }
}
