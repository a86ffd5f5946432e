//! The traits shared across crates: gradient transforms and schedules.

use crate::{Grads, Params, Scalar};

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

    /// Rewrites `grads` in place into this stage's output.
    fn update(&self, grads: &mut Grads<S>, state: &mut Self::State, params: &Params<S>);
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
