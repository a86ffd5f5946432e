//! The `Pruner` trait: whether a running trial should stop early.
//!
//! Invariant: pruners are pure functions of the trials' reports: ASHA's rung
//! value is a trial's first report at or after the rung's step, so rungs need
//! no extra state and survive a restart.

mod halving;
mod hyperband;
mod median;
mod patient;
mod percentile;
mod threshold;
mod wilcoxon;

pub use halving::{AshaPruner, SuccessiveHalvingConfig, SuccessiveHalvingPruner};
pub use hyperband::{HyperbandConfig, HyperbandPruner};
pub use median::{MedianConfig, MedianPruner};
pub use patient::PatientPruner;
pub use percentile::{PercentileConfig, PercentilePruner};
pub use threshold::{ThresholdConfig, ThresholdPruner};
pub use wilcoxon::{WilcoxonConfig, WilcoxonPruner};

use crate::{Direction, FrozenTrial};

/// What a pruner may look at.
#[derive(Debug, Clone, Copy)]
pub struct PruneContext<'a> {
    /// The study's trials (finished and running, the asking trial included), in number order.
    pub trials: &'a [FrozenTrial],
    /// The study's direction.
    pub direction: Direction,
    /// The study's seed.
    pub seed: u64,
}

/// Decides, from the intermediate values reported so far, whether a trial
/// should stop (Optuna's `BasePruner`).
pub trait Pruner: Send + Sync {
    /// Whether `trial` (running, with its latest reports) should be pruned now.
    fn prune(&self, ctx: &PruneContext<'_>, trial: &FrozenTrial) -> bool;
}

impl<P: Pruner + ?Sized> Pruner for Box<P> {
    fn prune(&self, ctx: &PruneContext<'_>, trial: &FrozenTrial) -> bool {
        (**self).prune(ctx, trial)
    }
}

/// Never prunes (the default of a study).
#[derive(Debug, Clone, Copy, Default)]
pub struct NopPruner;

impl Pruner for NopPruner {
    fn prune(&self, _ctx: &PruneContext<'_>, _trial: &FrozenTrial) -> bool {
        false
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::{FrozenTrial, TrialState};

    /// A trial in `state` that reported `values` at steps 0, 1, …; its
    /// value the last of them.
    pub(crate) fn curve(number: u64, state: TrialState, values: &[f64]) -> FrozenTrial {
        let mut t = FrozenTrial::running(number);
        t.state = state;
        t.intermediate = values
            .iter()
            .enumerate()
            .map(|(s, v)| (s as u64, *v))
            .collect();
        t.value = values.last().copied();
        t
    }
}
