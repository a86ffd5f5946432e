//! Optuna's `MedianPruner`: stop a trial whose best value so far is worse than
//! the median of completed trials at the same step ([`PercentilePruner`] at 50).

use super::percentile::{PercentileConfig, PercentilePruner};
use super::{PruneContext, Pruner};
use crate::{FrozenTrial, Result};

/// Arguments of [`MedianPruner`]; `Default` is Optuna's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MedianConfig {
    /// Never prune until this many trials have completed (default 5).
    pub n_startup_trials: usize,
    /// Never prune before this step (default 0).
    pub n_warmup_steps: u64,
    /// Check once per this many steps after the warm-up (default 1).
    pub interval_steps: u64,
    /// Completed trials that must have reported the step (default 1).
    pub n_min_trials: usize,
}

impl Default for MedianConfig {
    fn default() -> Self {
        MedianConfig {
            n_startup_trials: 5,
            n_warmup_steps: 0,
            interval_steps: 1,
            n_min_trials: 1,
        }
    }
}

/// Prunes when the trial's best intermediate value is worse than the median
/// of the completed trials' values at its last step: Optuna's `MedianPruner`,
/// which is `PercentilePruner(50.0)` (NaN-aware).
///
/// # Examples
///
/// ```
/// use descent_hpo::{MedianConfig, MedianPruner};
///
/// let pruner = MedianPruner::new(MedianConfig { n_warmup_steps: 2, ..Default::default() })?;
/// # Ok::<(), descent_hpo::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct MedianPruner {
    inner: PercentilePruner,
}

impl MedianPruner {
    /// A median pruner; `interval_steps` and `n_min_trials` must be positive.
    pub fn new(config: MedianConfig) -> Result<Self> {
        let inner = PercentilePruner::new(PercentileConfig {
            percentile: 50.0,
            n_startup_trials: config.n_startup_trials,
            n_warmup_steps: config.n_warmup_steps,
            interval_steps: config.interval_steps,
            n_min_trials: config.n_min_trials,
        })?;
        Ok(MedianPruner { inner })
    }
}

impl Pruner for MedianPruner {
    fn prune(&self, ctx: &PruneContext<'_>, trial: &FrozenTrial) -> bool {
        self.inner.prune(ctx, trial)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pruner::tests::curve;
    use crate::{Direction, TrialState};

    fn decide(pruner: &MedianPruner, done: usize, trial: &FrozenTrial) -> bool {
        let mut trials: Vec<FrozenTrial> = (0..done)
            .map(|i| {
                curve(
                    i as u64,
                    TrialState::Complete,
                    &[1.0 + i as f64, 0.5 + i as f64, 0.1],
                )
            })
            .collect();
        trials.push(trial.clone());
        let ctx = PruneContext {
            trials: &trials,
            direction: Direction::Minimize,
            seed: 0,
        };
        pruner.prune(&ctx, trial)
    }

    #[test]
    fn median_pruner_follows_optunas_rule() {
        let pruner = MedianPruner::new(MedianConfig::default()).unwrap();
        // Completed values at step 1 are 0.5, 1.5, 2.5, 3.5, 4.5: median 2.5.
        assert!(decide(
            &pruner,
            5,
            &curve(9, TrialState::Running, &[9.0, 2.6])
        ));
        assert!(!decide(
            &pruner,
            5,
            &curve(9, TrialState::Running, &[9.0, 2.4])
        ));
        // The best value over all steps counts, not only the last one.
        assert!(!decide(
            &pruner,
            5,
            &curve(9, TrialState::Running, &[2.0, 9.0])
        ));
        // Fewer completed trials than n_startup_trials: never.
        assert!(!decide(
            &pruner,
            4,
            &curve(9, TrialState::Running, &[9.0, 9.0])
        ));
        // Only NaN reported: pruned.
        assert!(decide(
            &pruner,
            5,
            &curve(9, TrialState::Running, &[f64::NAN])
        ));
        let warm = MedianPruner::new(MedianConfig {
            n_warmup_steps: 2,
            ..Default::default()
        })
        .unwrap();
        assert!(!decide(
            &warm,
            5,
            &curve(9, TrialState::Running, &[9.0, 9.0])
        ));
        assert!(decide(
            &warm,
            5,
            &curve(9, TrialState::Running, &[9.0, 9.0, 9.0])
        ));
    }

    #[test]
    fn invalid_interval_is_a_typed_error() {
        assert!(matches!(
            MedianPruner::new(MedianConfig {
                interval_steps: 0,
                ..Default::default()
            }),
            Err(crate::Error::Arg(descent_core::ArgError { .. }))
        ));
    }
}
