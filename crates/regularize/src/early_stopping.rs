//! Early stopping with Keras's semantics, keeping the best snapshot.

use crate::{Result, Snapshot};
use descent_core::Direction;
use descent_core::{Params, Scalar};
use serde::{Deserialize, Serialize};

/// The arguments of [`EarlyStopping`]; `Default` is Keras's defaults
/// (`mode = "auto"` on `val_loss` resolves to `Min`) plus `stop_on_non_finite`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EarlyStoppingConfig {
    /// Direction of improvement.
    pub mode: Direction,
    /// A change of at most `min_delta` (in absolute value) is no improvement.
    pub min_delta: f64,
    /// Epochs without improvement after which training stops.
    pub patience: u64,
    /// If set, the wait is only reset by epochs that also beat the baseline.
    pub baseline: Option<f64>,
    /// Epochs before this one are not monitored (warm-up).
    pub start_from_epoch: u64,
    /// Keep a snapshot of the best epoch and restore it in [`EarlyStopping::finish`].
    pub restore_best: bool,
    /// Stop at once on a NaN or infinite metric (our addition; Keras counts it
    /// as no improvement and leaves this to `TerminateOnNaN`).
    pub stop_on_non_finite: bool,
}

impl Default for EarlyStoppingConfig {
    fn default() -> Self {
        EarlyStoppingConfig {
            mode: Direction::Minimize,
            min_delta: 0.0,
            patience: 0,
            baseline: None,
            start_from_epoch: 0,
            restore_best: false,
            stop_on_non_finite: true,
        }
    }
}

/// Why training should stop.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// `patience` epochs passed without improvement.
    NoImprovement,
    /// The metric was NaN or infinite.
    NonFinite,
}

/// What to do after an epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decision {
    /// Train another epoch.
    Continue,
    /// Stop training (then call [`EarlyStopping::finish`]).
    Stop(StopReason),
}

/// Stops training when a monitored metric stops improving, with the
/// semantics of Keras 3's `EarlyStopping` callback:
///
/// - an epoch improves when `metric − min_delta > best` (max mode) or
///   `metric + min_delta < best` (min mode), so a change of exactly
///   `min_delta` is no improvement; `best` starts at ∓∞;
/// - the wait counter grows every monitored epoch and is reset by an
///   improvement that also beats `baseline` (if any);
/// - training stops at a non-improving epoch `> 0` once the wait reaches `patience`;
/// - with `restore_best`, the best epoch's parameters and buffers (an opaque
///   `B: Clone`, e.g. batch-norm statistics) are kept and restored by
///   [`finish`](Self::finish), whether or not training stopped early.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_regularize::{Decision, EarlyStopping, EarlyStoppingConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::zeros(1, 1))?;
/// let config = EarlyStoppingConfig { patience: 2, restore_best: true, ..Default::default() };
/// let mut stopper = EarlyStopping::<f64>::new(config)?;
/// let val_losses = [1.0, 0.8, 0.85, 0.9, 0.7];
/// let mut epochs_run = 0;
/// for (epoch, &loss) in val_losses.iter().enumerate() {
///     store.params_mut().value_mut(w)[0] = epoch as f64; // "training"
///     epochs_run += 1;
///     if let Decision::Stop(_) = stopper.update(epoch as u64, loss, store.params(), &()) {
///         break;
///     }
/// }
/// assert_eq!(epochs_run, 4);
/// assert_eq!(stopper.finish(store.params_mut(), &mut ())?, Some(1));
/// assert_eq!(store.value(w)[0], 1.0, "the best epoch's parameters are back");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct EarlyStopping<S: Scalar, B = ()> {
    config: EarlyStoppingConfig,
    wait: u64,
    best: f64,
    best_epoch: Option<u64>,
    stopped: Option<(u64, StopReason)>,
    snapshot: Option<Snapshot<S, B>>,
}

impl<S: Scalar, B: Clone> EarlyStopping<S, B> {
    /// Validates `config` (`min_delta` finite, `baseline` finite if given).
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_regularize::{EarlyStopping, EarlyStoppingConfig};
    ///
    /// assert!(EarlyStopping::<f32>::new(EarlyStoppingConfig::default()).is_ok());
    /// let bad = EarlyStoppingConfig { min_delta: f64::NAN, ..Default::default() };
    /// assert!(EarlyStopping::<f32>::new(bad).is_err());
    /// ```
    pub fn new(config: EarlyStoppingConfig) -> Result<Self> {
        let d = config.min_delta;
        crate::error::check("min_delta", d, d.is_finite(), "a finite value")?;
        if let Some(b) = config.baseline {
            crate::error::check("baseline", b, b.is_finite(), "a finite value")?;
        }
        let best = match config.mode {
            Direction::Minimize => f64::INFINITY,
            Direction::Maximize => f64::NEG_INFINITY,
        };
        Ok(EarlyStopping {
            config: EarlyStoppingConfig {
                min_delta: d.abs(),
                ..config
            },
            wait: 0,
            best,
            best_epoch: None,
            stopped: None,
            snapshot: None,
        })
    }

    fn is_improvement(&self, value: f64, reference: f64) -> bool {
        let d = self.config.min_delta;
        match self.config.mode {
            Direction::Minimize => value + d < reference,
            Direction::Maximize => value - d > reference,
        }
    }

    /// Records the metric of `epoch` (0-based) computed with the current
    /// `params` and `buffers`, and says whether to stop.
    pub fn update(&mut self, epoch: u64, metric: f64, params: &Params<S>, buffers: &B) -> Decision {
        if let Some((_, reason)) = self.stopped {
            return Decision::Stop(reason);
        }
        if self.config.stop_on_non_finite && !metric.is_finite() {
            self.stopped = Some((epoch, StopReason::NonFinite));
            return Decision::Stop(StopReason::NonFinite);
        }
        if epoch < self.config.start_from_epoch {
            return Decision::Continue;
        }
        if self.config.restore_best && self.snapshot.is_none() {
            self.snapshot = Some(Snapshot::take(params, buffers));
            self.best_epoch = Some(epoch);
        }
        self.wait += 1;
        if self.is_improvement(metric, self.best) {
            self.best = metric;
            self.best_epoch = Some(epoch);
            if self.config.restore_best {
                match &mut self.snapshot {
                    Some(s) => s.retake(params, buffers),
                    None => self.snapshot = Some(Snapshot::take(params, buffers)),
                }
            }
            if self
                .config
                .baseline
                .is_none_or(|b| self.is_improvement(metric, b))
            {
                self.wait = 0;
            }
            return Decision::Continue;
        }
        if self.wait >= self.config.patience && epoch > 0 {
            self.stopped = Some((epoch, StopReason::NoImprovement));
            return Decision::Stop(StopReason::NoImprovement);
        }
        Decision::Continue
    }

    /// Ends training: with `restore_best`, writes the best snapshot back and
    /// returns its epoch (`None` when nothing was monitored or kept).
    pub fn finish(&mut self, params: &mut Params<S>, buffers: &mut B) -> Result<Option<u64>> {
        match (&self.snapshot, self.config.restore_best) {
            (Some(s), true) => {
                s.restore(params, buffers)?;
                Ok(self.best_epoch)
            }
            _ => Ok(None),
        }
    }

    /// The best metric so far (∓∞ before the first monitored epoch).
    pub fn best(&self) -> f64 {
        self.best
    }

    /// The epoch of the best metric, or of the first monitored epoch if none improved.
    pub fn best_epoch(&self) -> Option<u64> {
        self.best_epoch
    }

    /// The epoch at which a stop was decided, and why.
    pub fn stopped(&self) -> Option<(u64, StopReason)> {
        self.stopped
    }

    /// Monitored epochs since the wait counter was last reset.
    pub fn wait(&self) -> u64 {
        self.wait
    }

    /// The kept snapshot of the best epoch.
    pub fn best_snapshot(&self) -> Option<&Snapshot<S, B>> {
        self.snapshot.as_ref()
    }

    /// The counters and the best value, to save with a checkpoint (the best
    /// snapshot is not included: a trainer keeps its own copy of the best weights).
    pub fn state(&self) -> EarlyStoppingState {
        EarlyStoppingState {
            wait: self.wait,
            best: self.best.is_finite().then_some(self.best),
            best_epoch: self.best_epoch,
            stopped: self.stopped,
        }
    }

    /// Restores counters saved by [`state`](Self::state); the snapshot is left as it is.
    pub fn load_state(&mut self, state: &EarlyStoppingState) {
        self.wait = state.wait;
        self.best = state.best.unwrap_or(match self.config.mode {
            Direction::Minimize => f64::INFINITY,
            Direction::Maximize => f64::NEG_INFINITY,
        });
        self.best_epoch = state.best_epoch;
        self.stopped = state.stopped;
    }

    /// The validated configuration.
    pub fn config(&self) -> &EarlyStoppingConfig {
        &self.config
    }
}

/// The resumable counters of an [`EarlyStopping`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EarlyStoppingState {
    /// Monitored epochs since the last reset of the wait counter.
    pub wait: u64,
    /// The best metric so far; `None` before the first monitored epoch.
    pub best: Option<f64>,
    /// The epoch of the best metric.
    pub best_epoch: Option<u64>,
    /// The epoch at which a stop was decided, and why.
    pub stopped: Option<(u64, StopReason)>,
}

#[cfg(test)]
mod tests;
