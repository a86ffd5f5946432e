//! Optuna's `ThresholdPruner`: stop a trial whose latest value leaves a range.

use super::percentile::is_first_in_interval;
use super::{PruneContext, Pruner};
use crate::{Error, FrozenTrial, Result};

/// Arguments of [`ThresholdPruner`], with Optuna's names and defaults. At
/// least one of `lower` and `upper` must be given (the `Default` gives
/// neither, so it is rejected, as Optuna's `ThresholdPruner()` is).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThresholdConfig {
    /// Prune when the latest value is below this (default none).
    pub lower: Option<f64>,
    /// Prune when the latest value is above this (default none).
    pub upper: Option<f64>,
    /// Never prune before this step (default 0).
    pub n_warmup_steps: u64,
    /// Check once per this many steps after the warm-up (default 1).
    pub interval_steps: u64,
}

impl Default for ThresholdConfig {
    fn default() -> Self {
        ThresholdConfig {
            lower: None,
            upper: None,
            n_warmup_steps: 0,
            interval_steps: 1,
        }
    }
}

/// Prunes when the latest intermediate value is below `lower`, above `upper`
/// or NaN (Optuna's `ThresholdPruner`). Needs no other trial.
///
/// # Examples
///
/// ```
/// use descent_hpo::{ThresholdConfig, ThresholdPruner};
///
/// let pruner = ThresholdPruner::new(ThresholdConfig { upper: Some(1.0), ..Default::default() })?;
/// assert!(ThresholdPruner::new(ThresholdConfig::default()).is_err());
/// # Ok::<(), descent_hpo::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ThresholdPruner {
    lower: f64,
    upper: f64,
    n_warmup_steps: u64,
    interval_steps: u64,
}

impl ThresholdPruner {
    /// A threshold pruner. At least one bound must be given, neither NaN
    /// (Optuna accepts a NaN bound, which then never prunes), `lower <=
    /// upper`, and `interval_steps` positive.
    pub fn new(config: ThresholdConfig) -> Result<Self> {
        if config.lower.is_none() && config.upper.is_none() {
            return Err(Error::config(
                "lower, upper",
                "None",
                "either lower or upper must be given",
            ));
        }
        let lower = config.lower.unwrap_or(f64::NEG_INFINITY);
        let upper = config.upper.unwrap_or(f64::INFINITY);
        if lower.is_nan() {
            return Err(Error::config("lower", lower, "must not be NaN"));
        }
        if upper.is_nan() {
            return Err(Error::config("upper", upper, "must not be NaN"));
        }
        if lower > upper {
            return Err(Error::config("lower", lower, "must be <= upper"));
        }
        if config.interval_steps == 0 {
            return Err(Error::config("interval_steps", 0, "must be at least 1"));
        }
        Ok(ThresholdPruner {
            lower,
            upper,
            n_warmup_steps: config.n_warmup_steps,
            interval_steps: config.interval_steps,
        })
    }
}

impl Pruner for ThresholdPruner {
    fn prune(&self, _ctx: &PruneContext<'_>, trial: &FrozenTrial) -> bool {
        let Some((&step, &latest)) = trial.intermediate.last_key_value() else {
            return false;
        };
        if step < self.n_warmup_steps
            || !is_first_in_interval(trial, step, self.n_warmup_steps, self.interval_steps)
        {
            return false;
        }
        latest.is_nan() || latest < self.lower || latest > self.upper
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Direction;

    fn decide(pruner: &ThresholdPruner, values: &[(u64, f64)]) -> bool {
        let mut t = FrozenTrial::running(0);
        t.intermediate = values.iter().copied().collect();
        let trials = [t.clone()];
        let ctx = PruneContext {
            trials: &trials,
            direction: Direction::Minimize,
            seed: 0,
        };
        pruner.prune(&ctx, &t)
    }

    #[test]
    fn the_latest_value_outside_the_range_or_nan_prunes() {
        let p = ThresholdPruner::new(ThresholdConfig {
            lower: Some(0.0),
            upper: Some(1.0),
            n_warmup_steps: 1,
            interval_steps: 1,
        })
        .unwrap();
        assert!(!decide(&p, &[]));
        assert!(!decide(&p, &[(0, 5.0)]), "warm-up");
        assert!(decide(&p, &[(0, 0.5), (1, 1.5)]));
        assert!(decide(&p, &[(0, 0.5), (1, -0.5)]));
        assert!(decide(&p, &[(0, 0.5), (1, f64::NAN)]));
        assert!(!decide(&p, &[(0, 5.0), (1, 1.0)]), "only the latest counts");
    }

    #[test]
    fn invalid_bounds_are_typed_errors() {
        for (lower, upper) in [(None, None), (Some(2.0), Some(1.0)), (Some(f64::NAN), None)] {
            let c = ThresholdConfig {
                lower,
                upper,
                ..Default::default()
            };
            assert!(matches!(
                ThresholdPruner::new(c),
                Err(Error::Arg(descent_core::ArgError { .. }))
            ));
        }
    }
}
