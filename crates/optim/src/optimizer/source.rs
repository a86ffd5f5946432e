//! Where a group's learning rate (and, later, other hyperparameters) comes
//! from: a value, a schedule of absolute values, or a plateau schedule.
//!
//! Invariant: a learning rate is given one way. Each group's [`LrSource`]
//! gives the absolute rate — a value, a shared `Schedule` of absolute rates
//! used as it is (never multiplied by the group's value), or a
//! `ReduceLrOnPlateau` fed by `Optimizer::observe_metric` — and the one
//! multiplier slot scales it; `StepCtx::lr` is their product. [`HyperSource`]
//! (a value or a schedule) does the same for the momentum and the other driven
//! hyperparameters.

use descent_core::Schedule;
use descent_schedule::{MetricSchedule, ReduceLrOnPlateau};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A schedule shared between optimizers, groups and the caller: a pure
/// function of the optimizer's step count.
pub type SharedSchedule = Arc<dyn Schedule + Send + Sync>;

/// Where a parameter group's learning rate comes from.
///
/// Every variant gives the *absolute* rate: a `descent-schedule` schedule is
/// built with its base rate (`StepLr::new(0.1, …)` gives 0.1 at step 0), so
/// it is used as it is, never multiplied by another rate. Multipliers are a
/// separate, named thing ([`Optimizer::set_lr_multiplier`](crate::Optimizer::set_lr_multiplier)).
///
/// # Examples
///
/// ```
/// use descent_optim::LrSource;
/// use descent_schedule::StepLr;
///
/// let value = LrSource::from(0.1);
/// let step_lr = LrSource::schedule(StepLr::new(0.1, 10, 0.5)?);
/// assert_eq!(value.at(25), 0.1);
/// assert_eq!(step_lr.at(25), 0.025);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub enum LrSource {
    /// A constant rate (settable between steps).
    Value(f64),
    /// `schedule.lr(step)` at the optimizer's step count; restoring the count restores it.
    Schedule(SharedSchedule),
    /// ReduceLROnPlateau's current rate; it observes metrics through
    /// [`Optimizer::observe_metric`](crate::Optimizer::observe_metric) and
    /// its counters are saved in the optimizer's state.
    Plateau(ReduceLrOnPlateau),
}

impl LrSource {
    /// A schedule of absolute rates.
    pub fn schedule(schedule: impl Schedule + Send + Sync + 'static) -> Self {
        LrSource::Schedule(Arc::new(schedule))
    }

    /// The rate at optimizer step `step`.
    pub fn at(&self, step: u64) -> f64 {
        match self {
            LrSource::Value(v) => *v,
            LrSource::Schedule(s) => s.lr(step),
            LrSource::Plateau(p) => p.lr(),
        }
    }

    /// What the optimizer's state keeps of it.
    pub(crate) fn saved(&self) -> LrState {
        match self {
            LrSource::Value(v) => LrState::Value(*v),
            LrSource::Schedule(_) => LrState::Schedule,
            LrSource::Plateau(p) => LrState::Plateau(p.clone()),
        }
    }
}

impl From<f64> for LrSource {
    fn from(lr: f64) -> Self {
        LrSource::Value(lr)
    }
}

impl From<ReduceLrOnPlateau> for LrSource {
    fn from(plateau: ReduceLrOnPlateau) -> Self {
        LrSource::Plateau(plateau)
    }
}

impl fmt::Debug for LrSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LrSource::Value(v) => f.debug_tuple("Value").field(v).finish(),
            LrSource::Schedule(_) => f.write_str("Schedule(..)"),
            LrSource::Plateau(p) => f.debug_tuple("Plateau").field(p).finish(),
        }
    }
}

/// The saved form of an [`LrSource`]: a value and a plateau schedule are
/// saved whole; a schedule is code, so only its presence is recorded and the
/// step count restores its rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LrState {
    /// A constant rate.
    Value(#[serde(with = "crate::float")] f64),
    /// A schedule of absolute rates (install it again before loading).
    Schedule,
    /// A plateau schedule with its counters.
    Plateau(ReduceLrOnPlateau),
}

/// Where a hyperparameter other than the learning rate (today the momentum)
/// comes from while a run goes: a value, or a schedule of values evaluated
/// at the optimizer's step count (optax's `inject_hyperparams`).
///
/// # Examples
///
/// ```
/// use descent_optim::HyperSource;
/// use descent_schedule::{MomentumOf, OneCycleLr, OneCycleLrConfig};
///
/// let cycle = OneCycleLr::new(0.1, 100, OneCycleLrConfig::default())?;
/// let momentum = HyperSource::schedule(MomentumOf::new(cycle).expect("cycles momentum"));
/// assert_eq!(momentum.at(0), 0.95); // max_momentum while the rate is lowest
/// assert_eq!(HyperSource::Value(0.9).at(7), 0.9);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub enum HyperSource {
    /// A constant value (settable between steps).
    Value(f64),
    /// `schedule.lr(step)` at the optimizer's step count, read as the value.
    Schedule(SharedSchedule),
}

impl HyperSource {
    /// A schedule of values.
    pub fn schedule(schedule: impl Schedule + Send + Sync + 'static) -> Self {
        HyperSource::Schedule(Arc::new(schedule))
    }

    /// The value at optimizer step `step`.
    pub fn at(&self, step: u64) -> f64 {
        match self {
            HyperSource::Value(v) => *v,
            HyperSource::Schedule(s) => s.lr(step),
        }
    }

    /// What the optimizer's state keeps of it.
    pub(crate) fn saved(&self) -> HyperState {
        match self {
            HyperSource::Value(v) => HyperState::Value(*v),
            HyperSource::Schedule(_) => HyperState::Schedule,
        }
    }
}

impl fmt::Debug for HyperSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HyperSource::Value(v) => f.debug_tuple("Value").field(v).finish(),
            HyperSource::Schedule(_) => f.write_str("Schedule(..)"),
        }
    }
}

/// The saved form of a [`HyperSource`]: a value whole, a schedule by its presence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HyperState {
    /// A constant value.
    Value(#[serde(with = "crate::float")] f64),
    /// A schedule of values (install it again before loading).
    Schedule,
}

/// A group's momentum: which hyperparameter it is, and where its value comes from.
#[derive(Clone, Debug)]
pub(crate) struct MomentumSlot {
    pub(crate) kind: crate::transform::MomentumKind,
    pub(crate) source: HyperSource,
}

/// One driven hyperparameter of a group other than the rate and the
/// momentum (β₂, ε, weight decay): which one, and where its value comes from.
#[derive(Clone, Debug)]
pub(crate) struct HyperSlot {
    pub(crate) key: crate::transform::Hyper,
    pub(crate) source: HyperSource,
}
