//! User callbacks: told of every batch and epoch, and able to stop the run.

use crate::metrics::EpochMetrics;

/// What a callback wants after it has been told of a batch or an epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    #[default]
    Continue,
    /// End the run after this batch or epoch (a checkpoint is written first
    /// when checkpoints are on, so the run can be resumed).
    Stop,
}

/// One training micro-batch, as callbacks see it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchInfo {
    /// The epoch (0-based).
    pub epoch: u64,
    /// The micro-batch's index within the epoch.
    pub batch: u64,
    /// Optimizer steps completed (after this batch's step, if it took one).
    pub step: u64,
    /// Whether an optimizer step was taken after this micro-batch (always,
    /// without gradient accumulation).
    pub stepped: bool,
    /// The micro-batch's mean loss.
    pub loss: f64,
    /// When a step was taken: its loss (the accumulated micro-batches'
    /// weighted mean plus the penalties), as the guard and plateau see it.
    pub step_loss: Option<f64>,
    /// The learning rate of the last step taken (first group).
    pub lr: f64,
    /// Samples in the micro-batch.
    pub size: usize,
}

/// A hook into [`Trainer::fit`](crate::Trainer::fit). Both methods have
/// defaults, so a callback implements only what it needs.
///
/// # Examples
///
/// ```
/// use descent_train::{BatchInfo, Callback, Control};
///
/// /// Stops after a fixed number of optimizer steps.
/// struct StopAfter(u64);
///
/// impl Callback for StopAfter {
///     fn on_batch_end(&mut self, info: &BatchInfo) -> Control {
///         if info.step >= self.0 { Control::Stop } else { Control::Continue }
///     }
/// }
/// ```
pub trait Callback: Send {
    /// Called after every training micro-batch.
    fn on_batch_end(&mut self, info: &BatchInfo) -> Control {
        let _ = info;
        Control::Continue
    }

    /// Called after every epoch, with its metrics.
    fn on_epoch_end(&mut self, metrics: &EpochMetrics) -> Control {
        let _ = metrics;
        Control::Continue
    }
}

impl<F: FnMut(&EpochMetrics) -> Control + Send> Callback for F {
    fn on_epoch_end(&mut self, metrics: &EpochMetrics) -> Control {
        self(metrics)
    }
}
