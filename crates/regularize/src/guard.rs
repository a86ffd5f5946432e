//! The instability guard: roll back and lower the learning rate when the loss spikes.
//!
//! `guard/window.rs` measures a loss against median + k·MAD (or mean + k·std)
//! of recent good losses. On a spike, or a non-finite loss or gradient, the
//! guard restores the last `Snapshot`, the `OptimizerState` and the window,
//! scales its `ManualSchedule` at the snapshot's step, and records the batch
//! to skip. `export` / `restore` save and restore a guard whole (a serde
//! `GuardRecord` plus its `Snapshot`, rebuilt with `Snapshot::from_parts`),
//! reinstalling its multiplier, which the optimizer's state does not hold.
//!
//! The guard's `ManualSchedule` is a multiplier, installed as the optimizer's
//! lr multiplier: it composes with the user's rate (value, absolute schedule
//! or plateau), which keeps running underneath; a guard refuses an optimizer
//! that already has a multiplier (`Error::LrMultiplierInUse`).
//!
//! Invariant: a rollback restores parameters, buffers, optimizer state and
//! loss window bit for bit, and the user's schedule, the guard's multiplier
//! and the skipped batches replay the guarded run bit for bit (tested, with
//! and without a user schedule).
//! Invariant: the guard's learning-rate changes live only in its
//! `ManualSchedule`, at the step of the snapshot restored, so they only grow
//! forward in step order.

mod window;

pub use window::WindowStatistic;

use crate::error::{check, positive};
use crate::{Error, Result, Snapshot};
use descent_core::{ParamStore, Scalar, Schedule};
use descent_optim::{Optimizer, OptimizerState};
use descent_schedule::ManualSchedule;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use window::LossWindow;

/// The arguments of [`InstabilityGuard`]. No library has this component, so
/// the defaults are ours: a spike is a loss above median + 6·σ̂ of the last
/// 50 good losses, answered by halving the learning rate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuardConfig {
    /// Number of recent good losses the spike test looks at.
    pub window: usize,
    /// Good losses needed before the spike test starts (non-finite values are always caught).
    pub min_history: usize,
    /// How the window's centre and spread are measured.
    pub statistic: WindowStatistic,
    /// k: a loss above centre + k·spread is a spike.
    pub threshold: f64,
    /// Floor on the spread, relative to |centre|, so a flat window does not flag noise.
    pub min_relative_spread: f64,
    /// The learning rate is multiplied by this on each rollback.
    pub lr_factor: f64,
    /// A snapshot is taken every this many good steps.
    pub snapshot_every: u64,
    /// Record the offending batch so [`InstabilityGuard::should_skip`] skips it.
    pub skip_batches: bool,
    /// Also treat non-finite gradients as instability.
    pub check_grads: bool,
    /// Give up after this many rollbacks to the same snapshot.
    pub max_rollbacks_per_snapshot: usize,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig {
            window: 50,
            min_history: 10,
            statistic: WindowStatistic::MedianMad,
            threshold: 6.0,
            min_relative_spread: 0.01,
            lr_factor: 0.5,
            snapshot_every: 100,
            skip_batches: true,
            check_grads: true,
            max_rollbacks_per_snapshot: 5,
        }
    }
}

/// What made the guard roll back.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Instability {
    /// The loss was NaN or infinite.
    NonFiniteLoss,
    /// A gradient element was NaN or infinite.
    NonFiniteGrad,
    /// The loss exceeded the window's threshold.
    Spike {
        /// The threshold it exceeded.
        threshold: f64,
    },
}

/// One rollback, as recorded in [`InstabilityGuard::events`].
///
/// A non-finite `loss` serializes as the string `"NaN"`, `"inf"` or
/// `"-inf"` (JSON has no such numbers), so a saved guard reads back.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuardEvent {
    /// The optimizer step at which the bad loss was observed.
    pub step: u64,
    /// The batch position it was computed on.
    pub batch: u64,
    /// The loss observed.
    #[serde(with = "float_text")]
    pub loss: f64,
    /// What was wrong.
    pub kind: Instability,
    /// The optimizer step of the snapshot restored; the lower rate starts here.
    pub restored_step: u64,
    /// The batch position to resume from (the snapshot's).
    pub resume_at: u64,
}

/// What the caller must do after [`InstabilityGuard::observe`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GuardAction {
    /// The loss is fine: take the optimizer step and go on.
    Proceed,
    /// The state was rolled back: do not step; continue from `event.resume_at`.
    RolledBack(GuardEvent),
}

/// The last good state: parameters, buffers, optimizer state, window.
#[derive(Clone, Debug)]
struct GoodState<S: Scalar, B> {
    snapshot: Snapshot<S, B>,
    optimizer: OptimizerState,
    window: LossWindow,
    step: u64,
    batch: u64,
    rollbacks: usize,
}

/// Watches the training loss and rolls the run back when it goes unstable:
/// the OPT-175B logbook practice (restart from the last good checkpoint with
/// a lower learning rate, skipping the batches that blew up), automated.
///
/// Call [`observe`](Self::observe) after each backward pass, before the
/// optimizer step, with the loss and the batch's position in the stream.
/// Every `snapshot_every` good steps the guard keeps the parameters, the
/// caller's opaque buffers `B` (batch-norm statistics), the optimizer's
/// serde state and the loss window. When a loss is non-finite or above
/// centre + k·spread of the window, it restores all of these, multiplies the
/// rate by `lr_factor` from the snapshot's step in its [`ManualSchedule`],
/// and records the batch to skip.
///
/// The guard's schedule is a *multiplier*, installed as the optimizer's
/// learning-rate multiplier ([`Optimizer::set_lr_multiplier`]): it composes
/// with the optimizer's own rates (values, absolute schedules such as a
/// warm-up cosine, plateau schedules), which keep running underneath; after a
/// rollback the rate is the schedule's times `lr_factor`. The multiplier
/// and [`skipped`](Self::skipped) set replay the run exactly.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{Sgd, SgdConfig};
/// use descent_regularize::{GuardAction, GuardConfig, InstabilityGuard};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 1, 1.0))?;
/// let mut opt = SgdConfig { lr: 0.1, ..Default::default() }.build(&store)?;
/// let config = GuardConfig { min_history: 3, snapshot_every: 2, ..Default::default() };
/// let mut guard = InstabilityGuard::<f64>::new(config, &mut opt)?;
/// let mut batch = 0;
/// while batch < 8 {
///     if guard.should_skip(batch) { batch += 1; continue; }
///     let x = store.value(w)[0];
///     let target = if batch == 5 { 1e6 } else { 0.0 }; // batch 5 is corrupt
///     let loss = 0.5 * (x - target).powi(2);
///     store.zero_grad();
///     store.grad_mut(w)[0] = x - target;
///     match guard.observe(loss, batch, &mut store, &mut opt, &mut ())? {
///         GuardAction::Proceed => { opt.step(&mut store)?; batch += 1; }
///         GuardAction::RolledBack(event) => batch = event.resume_at,
///     }
/// }
/// assert_eq!(guard.events().len(), 1);
/// assert!(guard.should_skip(5));
/// assert_eq!(opt.effective_lr(0)?, 0.05);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct InstabilityGuard<S: Scalar, B = (), L = f64> {
    config: GuardConfig,
    window: LossWindow,
    schedule: ManualSchedule<L>,
    good: Option<GoodState<S, B>>,
    good_since_snapshot: u64,
    skipped: BTreeSet<u64>,
    events: Vec<GuardEvent>,
}

impl<S: Scalar, B: Clone> InstabilityGuard<S, B, f64> {
    /// A guard whose multiplier starts at 1 (the optimizer's own rates,
    /// values or schedules, unchanged until the first rollback); installs it
    /// as `opt`'s learning-rate multiplier. [`Error::LrMultiplierInUse`] if
    /// `opt` already has one (give it to [`with_schedule`](InstabilityGuard::with_schedule) instead).
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_core::{ParamStore, Tags};
    /// use descent_optim::{Sgd, SgdConfig};
    /// use descent_regularize::{GuardConfig, InstabilityGuard};
    ///
    /// let mut store = ParamStore::<f32>::new();
    /// store.register("w", Tags::WEIGHT, nalgebra::DMatrix::zeros(2, 2))?;
    /// let mut opt = SgdConfig::default().build(&store)?;
    /// let guard = InstabilityGuard::<f32>::new(GuardConfig::default(), &mut opt)?;
    /// assert!(guard.events().is_empty());
    /// let bad = GuardConfig { lr_factor: 1.5, ..Default::default() };
    /// assert!(InstabilityGuard::<f32>::new(bad, &mut opt).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(config: GuardConfig, opt: &mut Optimizer<S>) -> Result<Self> {
        Self::with_schedule(config, ManualSchedule::new(1.0), opt)
    }
}

impl<S: Scalar, B: Clone, L: Schedule + Clone + Send + Sync + 'static> InstabilityGuard<S, B, L> {
    /// A guard that lowers the rate in `schedule`, a multiplier schedule over
    /// the optimizer's rates whose base `L` is a multiplier of your own (1.0
    /// for none); installs it as `opt`'s learning-rate multiplier.
    /// [`Error::LrMultiplierInUse`] if `opt` already has one.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_core::{ParamStore, Tags};
    /// use descent_optim::{Sgd, SgdConfig};
    /// use descent_regularize::{GuardConfig, InstabilityGuard};
    /// use descent_schedule::ManualSchedule;
    ///
    /// let mut store = ParamStore::<f64>::new();
    /// store.register("w", Tags::WEIGHT, nalgebra::DMatrix::zeros(1, 1))?;
    /// let mut opt = SgdConfig { lr: 0.1, ..Default::default() }.build(&store)?;
    /// // A multiplier of our own: halve every 1000 steps; the guard lowers it further.
    /// let halving = |step: u64| 0.5f64.powi((step / 1000) as i32);
    /// let guard = InstabilityGuard::<f64, (), _>::with_schedule(
    ///     GuardConfig::default(), ManualSchedule::new(halving), &mut opt)?;
    /// assert_eq!(opt.effective_lr(0)?, 0.1);
    /// assert!(guard.schedule().changes().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_schedule(
        config: GuardConfig,
        schedule: ManualSchedule<L>,
        opt: &mut Optimizer<S>,
    ) -> Result<Self> {
        let count = |name, v: f64| check(name, v, v >= 1.0, "at least 1");
        count("window", config.window as f64)?;
        count("snapshot_every", config.snapshot_every as f64)?;
        count(
            "max_rollbacks_per_snapshot",
            config.max_rollbacks_per_snapshot as f64,
        )?;
        check(
            "min_history",
            config.min_history as f64,
            config.min_history <= config.window,
            "at most `window`",
        )?;
        positive("threshold", config.threshold)?;
        crate::error::non_negative("min_relative_spread", config.min_relative_spread)?;
        let f = config.lr_factor;
        check("lr_factor", f, f > 0.0 && f < 1.0, "(0, 1)")?;
        if opt.has_lr_multiplier() {
            return Err(Error::LrMultiplierInUse);
        }
        opt.set_lr_multiplier(schedule.clone());
        Ok(InstabilityGuard {
            window: LossWindow::new(config.window),
            config,
            schedule,
            good: None,
            good_since_snapshot: 0,
            skipped: BTreeSet::new(),
            events: Vec::new(),
        })
    }

    /// Checks the loss of batch `batch` (its position in the stream), computed
    /// with the current state, whose gradients are in `store`; either accepts
    /// it (maybe taking a snapshot first) or rolls everything back.
    pub fn observe(
        &mut self,
        loss: f64,
        batch: u64,
        store: &mut ParamStore<S>,
        opt: &mut Optimizer<S>,
        buffers: &mut B,
    ) -> Result<GuardAction> {
        match self.diagnose(loss, store) {
            Some(kind) => self.roll_back(loss, batch, kind, store, opt, buffers),
            None => {
                self.accept(loss, batch, store, opt, buffers);
                Ok(GuardAction::Proceed)
            }
        }
    }

    fn diagnose(&mut self, loss: f64, store: &ParamStore<S>) -> Option<Instability> {
        if !loss.is_finite() {
            return Some(Instability::NonFiniteLoss);
        }
        if self.config.check_grads && !store.grads().all_finite() {
            return Some(Instability::NonFiniteGrad);
        }
        if self.window.len() < self.config.min_history {
            return None;
        }
        let (centre, spread) = self.window.stats(self.config.statistic)?;
        let spread = spread.max(self.config.min_relative_spread * centre.abs());
        let threshold = centre + self.config.threshold * spread;
        (loss > threshold).then_some(Instability::Spike { threshold })
    }

    fn accept(
        &mut self,
        loss: f64,
        batch: u64,
        store: &ParamStore<S>,
        opt: &Optimizer<S>,
        buffers: &B,
    ) {
        let due = self.good_since_snapshot >= self.config.snapshot_every;
        match &mut self.good {
            Some(_) if !due => {}
            Some(good) => {
                good.snapshot.retake(store.params(), buffers);
                good.optimizer = opt.state();
                good.window.clone_from(&self.window);
                (good.step, good.batch, good.rollbacks) = (opt.steps(), batch, 0);
                self.good_since_snapshot = 0;
            }
            None => {
                self.good = Some(GoodState {
                    snapshot: Snapshot::take(store.params(), buffers),
                    optimizer: opt.state(),
                    window: self.window.clone(),
                    step: opt.steps(),
                    batch,
                    rollbacks: 0,
                });
                self.good_since_snapshot = 0;
            }
        }
        self.window.push(loss);
        self.good_since_snapshot += 1;
    }

    fn roll_back(
        &mut self,
        loss: f64,
        batch: u64,
        kind: Instability,
        store: &mut ParamStore<S>,
        opt: &mut Optimizer<S>,
        buffers: &mut B,
    ) -> Result<GuardAction> {
        let step = opt.steps();
        let good = self.good.as_mut().ok_or(Error::NoSnapshot { step, loss })?;
        if good.rollbacks >= self.config.max_rollbacks_per_snapshot {
            return Err(Error::TooManyRollbacks {
                step: good.step,
                rollbacks: good.rollbacks,
            });
        }
        good.snapshot.restore(store.params_mut(), buffers)?;
        opt.load_state(&good.optimizer)?;
        self.window.clone_from(&good.window);
        store.zero_grad();
        good.rollbacks += 1;
        self.schedule.scale_at(good.step, self.config.lr_factor)?;
        opt.set_lr_multiplier(self.schedule.clone());
        if self.config.skip_batches {
            self.skipped.insert(batch);
        }
        self.good_since_snapshot = 0;
        let event = GuardEvent {
            step,
            batch,
            loss,
            kind,
            restored_step: good.step,
            resume_at: good.batch,
        };
        self.events.push(event);
        Ok(GuardAction::RolledBack(event))
    }

    /// True when batch `batch` blew up before and is to be skipped.
    pub fn should_skip(&self, batch: u64) -> bool {
        self.skipped.contains(&batch)
    }

    /// The batches to skip, for a replay.
    pub fn skipped(&self) -> &BTreeSet<u64> {
        &self.skipped
    }

    /// The multiplier with every lowering recorded; install it with
    /// [`Optimizer::set_lr_multiplier`] (and skip [`skipped`](Self::skipped))
    /// to replay the run without the guard.
    pub fn schedule(&self) -> &ManualSchedule<L> {
        &self.schedule
    }

    /// Every rollback so far, in order.
    pub fn events(&self) -> &[GuardEvent] {
        &self.events
    }

    /// The optimizer step of the current snapshot, if one was taken.
    pub fn snapshot_step(&self) -> Option<u64> {
        self.good.as_ref().map(|g| g.step)
    }

    /// The validated configuration.
    pub fn config(&self) -> &GuardConfig {
        &self.config
    }
}

/// Everything a guard holds except its snapshot's tensors, for a
/// checkpoint: the loss window, the lowered-rate schedule, the snapshot's
/// bookkeeping, the skipped batches and the events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GuardRecord {
    /// Recent good losses, oldest first.
    pub window: Vec<f64>,
    /// The multiplier schedule with every lowering so far.
    pub schedule: ManualSchedule<f64>,
    /// The snapshot's bookkeeping, when a snapshot was taken.
    pub good: Option<GoodRecord>,
    /// Good steps since the last snapshot.
    pub good_since_snapshot: u64,
    /// Batches to skip.
    pub skipped: BTreeSet<u64>,
    /// Every rollback so far.
    pub events: Vec<GuardEvent>,
}

/// The bookkeeping of a guard's snapshot (its tensors travel separately).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GoodRecord {
    /// The optimizer's state at the snapshot.
    pub optimizer: OptimizerState,
    /// The loss window at the snapshot, oldest first.
    pub window: Vec<f64>,
    /// The optimizer step of the snapshot.
    pub step: u64,
    /// The batch position of the snapshot.
    pub batch: u64,
    /// Rollbacks to this snapshot so far.
    pub rollbacks: usize,
}

impl<S: Scalar, B: Clone> InstabilityGuard<S, B, f64> {
    /// The guard's state, for a checkpoint: the record and the snapshot
    /// (parameters and buffers), if one was taken.
    pub fn export(&self) -> (GuardRecord, Option<&Snapshot<S, B>>) {
        let record = GuardRecord {
            window: self.window.losses(),
            schedule: self.schedule.clone(),
            good: self.good.as_ref().map(|g| GoodRecord {
                optimizer: g.optimizer.clone(),
                window: g.window.losses(),
                step: g.step,
                batch: g.batch,
                rollbacks: g.rollbacks,
            }),
            good_since_snapshot: self.good_since_snapshot,
            skipped: self.skipped.clone(),
            events: self.events.clone(),
        };
        (record, self.good.as_ref().map(|g| &g.snapshot))
    }

    /// Restores a state taken by [`export`](Self::export) into a guard built
    /// with the same configuration, and installs its schedule as `opt`'s
    /// multiplier (the multiplier is not part of the optimizer's state). A
    /// record with a snapshot's bookkeeping but no snapshot, or the reverse,
    /// is an error that changes nothing.
    pub fn restore(
        &mut self,
        record: GuardRecord,
        snapshot: Option<Snapshot<S, B>>,
        opt: &mut Optimizer<S>,
    ) -> Result<()> {
        let good = match (record.good, snapshot) {
            (Some(g), Some(snapshot)) => Some(GoodState {
                snapshot,
                optimizer: g.optimizer,
                window: LossWindow::from_losses(self.config.window, &g.window),
                step: g.step,
                batch: g.batch,
                rollbacks: g.rollbacks,
            }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(Error::InvalidState {
                    reason: "the guard's record has a snapshot but no snapshot was given".into(),
                });
            }
            (None, Some(_)) => {
                return Err(Error::InvalidState {
                    reason: "a snapshot was given for a guard record without one".into(),
                });
            }
        };
        self.window = LossWindow::from_losses(self.config.window, &record.window);
        self.schedule = record.schedule;
        self.good = good;
        self.good_since_snapshot = record.good_since_snapshot;
        self.skipped = record.skipped;
        self.events = record.events;
        opt.clear_lr_multiplier();
        opt.set_lr_multiplier(self.schedule.clone());
        Ok(())
    }
}

/// Floats that may be NaN or infinite, as numbers or as the strings
/// `"NaN"`, `"inf"`, `"-inf"`.
mod float_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<Z: Serializer>(x: &f64, ser: Z) -> Result<Z::Ok, Z::Error> {
        if x.is_nan() {
            ser.serialize_str("NaN")
        } else if *x == f64::INFINITY {
            ser.serialize_str("inf")
        } else if *x == f64::NEG_INFINITY {
            ser.serialize_str("-inf")
        } else {
            ser.serialize_f64(*x)
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Number(f64),
        Text(String),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<f64, D::Error> {
        match Either::deserialize(de)? {
            Either::Number(x) => Ok(x),
            Either::Text(t) => match t.as_str() {
                "NaN" => Ok(f64::NAN),
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                other => Err(serde::de::Error::custom(format!(
                    "`{other}` is not a number"
                ))),
            },
        }
    }
}

#[cfg(test)]
mod tests;
