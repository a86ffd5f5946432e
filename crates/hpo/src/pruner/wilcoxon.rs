//! Optuna's `WilcoxonPruner`: stop a trial once a signed-rank test says it
//! is worse than the best trial on the instances (steps) both evaluated.

use super::{PruneContext, Pruner};
use crate::signed_rank::{Alternative, wilcoxon_signed_rank};
use crate::{Direction, Error, FrozenTrial, Result, TrialState};

/// Arguments of [`WilcoxonPruner`], with Optuna's names and defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WilcoxonConfig {
    /// Prune when the one-sided p-value that the trial is worse than the best
    /// one falls below this, in `[0, 1]` (default 0.1).
    pub p_threshold: f64,
    /// Never prune before this many steps are shared with the best trial
    /// (default 2; at least 2 are needed in any case).
    pub n_startup_steps: usize,
}

impl Default for WilcoxonConfig {
    fn default() -> Self {
        WilcoxonConfig {
            p_threshold: 0.1,
            n_startup_steps: 2,
        }
    }
}

/// Prunes a trial when the Wilcoxon signed-rank test (SciPy's, zero method
/// `"zsplit"`) on its values minus the best completed trial's values, at the
/// steps both reported, finds it worse with p-value below `p_threshold`
/// (Optuna's `WilcoxonPruner`).
///
/// Each step is one problem instance (a fold, a question, a benchmark
/// problem), reported in any order with the same step for the same instance
/// in every trial; the values need not converge. As in Optuna, a trial whose
/// or whose best trial's values are not all finite is never pruned, and
/// neither is one whose mean is at least as good as the best trial's mean.
///
/// # Examples
///
/// ```
/// use descent_hpo::{WilcoxonConfig, WilcoxonPruner};
///
/// let pruner = WilcoxonPruner::new(WilcoxonConfig { p_threshold: 0.05, ..Default::default() })?;
/// assert!(WilcoxonPruner::new(WilcoxonConfig { p_threshold: 1.5, ..Default::default() }).is_err());
/// # Ok::<(), descent_hpo::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct WilcoxonPruner {
    config: WilcoxonConfig,
}

impl WilcoxonPruner {
    /// A Wilcoxon pruner; `p_threshold` must be in `[0, 1]`.
    pub fn new(config: WilcoxonConfig) -> Result<Self> {
        if !(0.0..=1.0).contains(&config.p_threshold) {
            return Err(Error::config(
                "p_threshold",
                config.p_threshold,
                "must be between 0 and 1",
            ));
        }
        Ok(WilcoxonPruner { config })
    }
}

/// The study's best completed trial (the first of equals, as Optuna's in-memory storage).
fn best_trial(trials: &[FrozenTrial], direction: Direction) -> Option<&FrozenTrial> {
    let mut best: Option<(&FrozenTrial, f64)> = None;
    for t in trials.iter().filter(|t| t.state == TrialState::Complete) {
        if let Some(v) = t.value
            && best.is_none_or(|(_, b)| direction.better(v, b))
        {
            best = Some((t, v));
        }
    }
    best.map(|(t, _)| t)
}

fn mean(values: impl ExactSizeIterator<Item = f64>) -> f64 {
    let n = values.len() as f64;
    values.sum::<f64>() / n
}

impl Pruner for WilcoxonPruner {
    fn prune(&self, ctx: &PruneContext<'_>, trial: &FrozenTrial) -> bool {
        let own = &trial.intermediate;
        if own.is_empty() || own.values().any(|v| !v.is_finite()) {
            return false;
        }
        let Some(best) = best_trial(ctx.trials, ctx.direction) else {
            return false;
        };
        let theirs = &best.intermediate;
        if theirs.is_empty() || theirs.values().any(|v| !v.is_finite()) {
            return false;
        }
        let diff: Vec<f64> = own
            .iter()
            .filter_map(|(step, v)| theirs.get(step).map(|b| v - b))
            .collect();
        if diff.len() < self.config.n_startup_steps.max(2) {
            return false;
        }
        let (own_mean, best_mean) = (mean(own.values().copied()), mean(theirs.values().copied()));
        let (alternative, average_is_best) = match ctx.direction {
            Direction::Maximize => (Alternative::Less, best_mean <= own_mean),
            Direction::Minimize => (Alternative::Greater, best_mean >= own_mean),
        };
        let Ok(p) = wilcoxon_signed_rank(&diff, alternative) else {
            return false;
        };
        p < self.config.p_threshold && !average_is_best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pruner::tests::curve;

    /// [`curve`], its value the mean of its values (one per instance).
    fn trial(number: u64, state: TrialState, values: &[f64]) -> FrozenTrial {
        let mut t = curve(number, state, values);
        t.value = Some(values.iter().sum::<f64>() / values.len() as f64);
        t
    }

    fn decide(values: &[f64]) -> bool {
        let best = trial(0, TrialState::Complete, &[1.0; 10]);
        let current = trial(1, TrialState::Running, values);
        let trials = [best, current.clone()];
        let ctx = PruneContext {
            trials: &trials,
            direction: Direction::Minimize,
            seed: 0,
        };
        WilcoxonPruner::new(WilcoxonConfig::default())
            .unwrap()
            .prune(&ctx, &current)
    }

    #[test]
    fn a_consistently_worse_trial_is_pruned_once_the_test_is_sure() {
        assert!(!decide(&[2.0, 2.1]), "p = 1/4 with two instances");
        assert!(decide(&[2.0, 2.1, 2.2, 2.3]), "p = 1/16");
        assert!(!decide(&[0.5, 0.6, 0.7, 0.8]), "better than the best");
        assert!(!decide(&[2.0, 2.1, f64::NAN, 2.3]), "non-finite values");
    }
}
