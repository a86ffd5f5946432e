//! Optuna's `PercentilePruner`: stop a trial whose best value so far is in the
//! worst part of the completed trials' values at the same step.

use super::{PruneContext, Pruner};
use crate::{Direction, Error, FrozenTrial, Result, TrialState};

/// Arguments of [`PercentilePruner`], with Optuna's names. `percentile` has no
/// default (as in Optuna); [`PercentileConfig::new`] fills the rest with Optuna's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PercentileConfig {
    /// The percentile of trials kept, in `[0, 100]`: with 25, a trial is pruned
    /// unless its best value is within the best 25 % at its step.
    pub percentile: f64,
    /// Never prune until this many trials have completed (default 5).
    pub n_startup_trials: usize,
    /// Never prune before this step (default 0).
    pub n_warmup_steps: u64,
    /// Check once per this many steps after the warm-up (default 1).
    pub interval_steps: u64,
    /// Completed trials that must have reported the step (default 1).
    pub n_min_trials: usize,
}

impl PercentileConfig {
    /// `percentile` with Optuna's defaults for the other arguments.
    pub fn new(percentile: f64) -> Self {
        PercentileConfig {
            percentile,
            n_startup_trials: 5,
            n_warmup_steps: 0,
            interval_steps: 1,
            n_min_trials: 1,
        }
    }
}

/// Prunes when the trial's best intermediate value is worse than the given
/// percentile of the completed trials' values at its last step (Optuna's
/// `PercentilePruner`, NaN-aware: a trial that reported only NaN is pruned,
/// NaN values of other trials are ignored).
///
/// # Examples
///
/// ```
/// use descent_hpo::{PercentileConfig, PercentilePruner};
///
/// let pruner = PercentilePruner::new(PercentileConfig { n_warmup_steps: 3, ..PercentileConfig::new(25.0) })?;
/// assert!(PercentilePruner::new(PercentileConfig::new(101.0)).is_err());
/// # Ok::<(), descent_hpo::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct PercentilePruner {
    config: PercentileConfig,
}

impl PercentilePruner {
    /// A percentile pruner; `percentile` must be in `[0, 100]`,
    /// `interval_steps` and `n_min_trials` positive.
    pub fn new(config: PercentileConfig) -> Result<Self> {
        if !(0.0..=100.0).contains(&config.percentile) {
            return Err(Error::config(
                "percentile",
                config.percentile,
                "must be between 0 and 100 inclusive",
            ));
        }
        if config.interval_steps == 0 {
            return Err(Error::config("interval_steps", 0, "must be at least 1"));
        }
        if config.n_min_trials == 0 {
            return Err(Error::config("n_min_trials", 0, "must be at least 1"));
        }
        Ok(PercentilePruner { config })
    }

    /// Its arguments.
    pub fn config(&self) -> &PercentileConfig {
        &self.config
    }
}

/// NumPy's `nanpercentile` with linear interpolation; NaN if nothing is left.
pub(crate) fn nan_percentile(values: &mut Vec<f64>, q: f64) -> f64 {
    values.retain(|v| !v.is_nan());
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let rank = q / 100.0 * (values.len() - 1) as f64;
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    values[lo] + (values[hi] - values[lo]) * (rank - lo as f64)
}

/// Optuna's `_is_first_in_interval_step`: whether `step` (the trial's last
/// step, `>= warmup`) is the first report at or after the latest check point
/// `warmup + k * interval`, so a check missed for lack of a report happens at
/// the next report.
pub(crate) fn is_first_in_interval(
    trial: &FrozenTrial,
    step: u64,
    warmup: u64,
    interval: u64,
) -> bool {
    let nearest_lower = (step - warmup) / interval * interval + warmup;
    let second_last = trial.intermediate.keys().rev().find(|&&s| s < step);
    second_last.is_none_or(|&s| s < nearest_lower)
}

/// The best of a trial's intermediate values, NaN ignored (NaN if all are).
pub(crate) fn best_intermediate(trial: &FrozenTrial, direction: Direction) -> f64 {
    let own = trial.intermediate.values().copied().filter(|v| !v.is_nan());
    match direction {
        Direction::Minimize => own.fold(f64::NAN, f64::min),
        Direction::Maximize => own.fold(f64::NAN, f64::max),
    }
}

impl Pruner for PercentilePruner {
    fn prune(&self, ctx: &PruneContext<'_>, trial: &FrozenTrial) -> bool {
        let c = &self.config;
        let completed: Vec<&FrozenTrial> = ctx
            .trials
            .iter()
            .filter(|t| t.state == TrialState::Complete)
            .collect();
        if completed.is_empty() || completed.len() < c.n_startup_trials {
            return false;
        }
        let Some(step) = trial.last_step() else {
            return false;
        };
        if step < c.n_warmup_steps
            || !is_first_in_interval(trial, step, c.n_warmup_steps, c.interval_steps)
        {
            return false;
        }
        let best = best_intermediate(trial, ctx.direction);
        if best.is_nan() {
            return true;
        }
        let mut at_step: Vec<f64> = completed
            .iter()
            .filter_map(|t| t.intermediate.get(&step).copied())
            .collect();
        if at_step.len() < c.n_min_trials {
            return false;
        }
        let q = match ctx.direction {
            Direction::Minimize => c.percentile,
            Direction::Maximize => 100.0 - c.percentile,
        };
        let p = nan_percentile(&mut at_step, q);
        !p.is_nan() && ctx.direction.better(p, best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pruner::tests::curve;

    fn decide(pruner: &PercentilePruner, direction: Direction, trial: &FrozenTrial) -> bool {
        // Completed values at step 1: 0, 1, 2, ..., 9.
        let mut trials: Vec<FrozenTrial> = (0..10)
            .map(|i| curve(i, TrialState::Complete, &[5.0, i as f64]))
            .collect();
        trials.push(trial.clone());
        let ctx = PruneContext {
            trials: &trials,
            direction,
            seed: 0,
        };
        pruner.prune(&ctx, trial)
    }

    #[test]
    fn the_percentile_is_taken_from_the_good_end_in_both_directions() {
        let p25 = PercentilePruner::new(PercentileConfig::new(25.0)).unwrap();
        let running = |v: f64| {
            let mut t = FrozenTrial::running(20);
            t.intermediate.insert(1, v);
            t
        };
        // Minimize: 25th percentile of 0..=9 is 2.25.
        assert!(decide(&p25, Direction::Minimize, &running(2.3)));
        assert!(!decide(&p25, Direction::Minimize, &running(2.2)));
        // Maximize: the 75th percentile, 6.75, must be reached.
        assert!(decide(&p25, Direction::Maximize, &running(6.7)));
        assert!(!decide(&p25, Direction::Maximize, &running(6.8)));
    }

    #[test]
    fn percentile_interpolates_like_numpy() {
        assert_eq!(
            nan_percentile(&mut vec![4.0, 1.0, f64::NAN, 2.0, 3.0], 50.0),
            2.5
        );
        assert_eq!(nan_percentile(&mut vec![1.0, 2.0, 3.0], 50.0), 2.0);
        assert!(nan_percentile(&mut vec![f64::NAN], 50.0).is_nan());
    }

    #[test]
    fn invalid_arguments_are_typed_errors() {
        for bad in [
            PercentileConfig::new(-0.1),
            PercentileConfig::new(f64::NAN),
            PercentileConfig {
                interval_steps: 0,
                ..PercentileConfig::new(50.0)
            },
            PercentileConfig {
                n_min_trials: 0,
                ..PercentileConfig::new(50.0)
            },
        ] {
            assert!(matches!(
                PercentilePruner::new(bad),
                Err(Error::Arg(descent_core::ArgError { .. }))
            ));
        }
    }
}
