//! Optuna's `MedianPruner`: stop a trial whose best value so far is worse than
//! the median of completed trials at the same step.

use super::{PruneContext, Pruner};
use crate::{Direction, Error, FrozenTrial, Result, TrialState};

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
/// of the completed trials' values at its last step (Optuna's rule, NaN-aware).
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
    config: MedianConfig,
}

impl MedianPruner {
    /// A median pruner; `interval_steps` and `n_min_trials` must be positive.
    pub fn new(config: MedianConfig) -> Result<Self> {
        if config.interval_steps == 0 {
            return Err(Error::config("interval_steps", 0, "must be > 0"));
        }
        if config.n_min_trials == 0 {
            return Err(Error::config("n_min_trials", 0, "must be > 0"));
        }
        Ok(MedianPruner { config })
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

fn is_first_in_interval(trial: &FrozenTrial, step: u64, warmup: u64, interval: u64) -> bool {
    let nearest_lower = (step - warmup) / interval * interval + warmup;
    let second_last = trial.intermediate.keys().rev().find(|&&s| s < step);
    second_last.is_none_or(|&s| s < nearest_lower)
}

impl Pruner for MedianPruner {
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
        let own = trial.intermediate.values().copied().filter(|v| !v.is_nan());
        let best = match ctx.direction {
            Direction::Minimize => own.fold(f64::NAN, f64::min),
            Direction::Maximize => own.fold(f64::NAN, f64::max),
        };
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
        let median = nan_percentile(&mut at_step, 50.0);
        !median.is_nan() && ctx.direction.better(median, best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(number: u64, state: TrialState, values: &[f64]) -> FrozenTrial {
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
    fn percentile_interpolates_like_numpy() {
        assert_eq!(
            nan_percentile(&mut vec![4.0, 1.0, f64::NAN, 2.0, 3.0], 50.0),
            2.5
        );
        assert_eq!(nan_percentile(&mut vec![1.0, 2.0, 3.0], 50.0), 2.0);
        assert!(nan_percentile(&mut vec![f64::NAN], 50.0).is_nan());
        assert!(
            MedianPruner::new(MedianConfig {
                interval_steps: 0,
                ..Default::default()
            })
            .is_err()
        );
    }
}
