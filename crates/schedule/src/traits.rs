//! The traits this crate adds beside [`descent_core::Schedule`]: momentum
//! cycling, metric-driven schedules, and a boxed schedule for composition.

use descent_core::Schedule;
use std::fmt;

/// A schedule that can also cycle momentum (SGD's `momentum`, or Adam's
/// `beta1`), as OneCycleLR and CyclicLR do.
///
/// PyTorch writes the value into `momentum` or into `betas[0]`, depending on
/// the optimizer; here the schedule only produces the number and the
/// optimizer decides which hyperparameter it drives
/// (`descent_optim::Optimizer::set_lr_and_momentum_schedule`).
pub trait MomentumSchedule: Schedule {
    /// The momentum at `step`, or `None` when momentum cycling is off.
    fn momentum(&self, step: u64) -> Option<f64>;

    /// The first `n` momentums, or `None` when momentum cycling is off.
    fn momentums(&self, n: u64) -> Option<Vec<f64>> {
        (0..n).map(|s| self.momentum(s)).collect()
    }
}

/// The momentum of a [`MomentumSchedule`] seen as a [`Schedule`], so an
/// optimizer can take it wherever it takes a schedule for `momentum` or `beta1`.
///
/// # Examples
///
/// ```
/// use descent_core::Schedule;
/// use descent_schedule::{CyclicLr, CyclicLrConfig, MomentumOf};
///
/// let cyclic = CyclicLr::new(0.01, 0.1, CyclicLrConfig { step_size_up: 5, ..Default::default() })?;
/// let momentum = MomentumOf::new(cyclic).expect("cycle_momentum is on by default");
/// assert_eq!(momentum.lr(0), 0.9); // max_momentum while the lr is lowest
/// assert!((momentum.lr(5) - 0.8).abs() < 1e-15); // base_momentum at the peak lr
/// # Ok::<(), descent_schedule::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MomentumOf<S>(S);

impl<S: MomentumSchedule> MomentumOf<S> {
    /// Wraps `schedule`, or returns `None` if it does not cycle momentum.
    pub fn new(schedule: S) -> Option<Self> {
        schedule.momentum(0).map(|_| MomentumOf(schedule))
    }

    /// The wrapped schedule.
    pub fn into_inner(self) -> S {
        self.0
    }
}

impl<S: MomentumSchedule> Schedule for MomentumOf<S> {
    fn lr(&self, step: u64) -> f64 {
        self.0
            .momentum(step)
            .expect("MomentumOf::new checked that momentum cycling is on")
    }
}

/// A learning-rate schedule driven by an observed metric rather than by the
/// step alone (ReduceLROnPlateau). It is the only kind of schedule with state.
pub trait MetricSchedule {
    /// Records the metric of one epoch (or evaluation) and returns the
    /// learning rate to use from now on.
    fn observe(&mut self, metric: f64) -> f64;

    /// The current learning rate.
    fn lr(&self) -> f64;

    /// Observes each metric in turn and returns the learning rate after each,
    /// for plots of a recorded run.
    fn observe_all(&mut self, metrics: &[f64]) -> Vec<f64> {
        metrics.iter().map(|&m| self.observe(m)).collect()
    }
}

/// A boxed schedule of any type, for composing schedules of different types
/// in [`SequentialLr`](crate::SequentialLr) and [`ChainedScheduler`](crate::ChainedScheduler).
///
/// (A `Box<dyn Schedule>` cannot itself implement `Schedule`: that impl would
/// overlap with `descent_core`'s impl for closures.)
///
/// # Examples
///
/// ```
/// use descent_core::Schedule;
/// use descent_schedule::{DynSchedule, ExponentialLr};
///
/// let parts = vec![DynSchedule::new(0.1), DynSchedule::new(ExponentialLr::new(0.1, 0.5)?)];
/// assert_eq!(parts[1].lr(2), 0.025);
/// # Ok::<(), descent_schedule::Error>(())
/// ```
pub struct DynSchedule(Box<dyn Schedule + Send + Sync>);

impl DynSchedule {
    /// Boxes `schedule`.
    pub fn new(schedule: impl Schedule + Send + Sync + 'static) -> Self {
        DynSchedule(Box::new(schedule))
    }
}

impl Schedule for DynSchedule {
    fn lr(&self, step: u64) -> f64 {
        self.0.lr(step)
    }
}

impl fmt::Debug for DynSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DynSchedule(..)")
    }
}
