//! Optuna's `PatientPruner`: let a trial through until it has stopped
//! improving for a while, then defer to a wrapped pruner (or prune).

use super::{PruneContext, Pruner};
use crate::{Direction, Error, FrozenTrial, Result};

/// Wraps another pruner with patience (Optuna's `PatientPruner`): a trial
/// can be pruned only once its best value over the last `patience + 1`
/// reported steps is no better, by more than `min_delta`, than its best
/// value before them; then the wrapped pruner decides, or, with no wrapped
/// pruner, the trial is pruned (early stopping within one trial). NaN values
/// are ignored; if all the values of either part are NaN, nothing is pruned.
///
/// # Examples
///
/// ```
/// use descent_hpo::{MedianConfig, MedianPruner, PatientPruner};
///
/// let patient_median = PatientPruner::new(Some(Box::new(MedianPruner::new(MedianConfig::default())?)), 3, 0.0)?;
/// let early_stopping = PatientPruner::new(None, 5, 1e-3)?;
/// # Ok::<(), descent_hpo::Error>(())
/// ```
pub struct PatientPruner {
    wrapped: Option<Box<dyn Pruner>>,
    patience: usize,
    min_delta: f64,
}

impl std::fmt::Debug for PatientPruner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatientPruner")
            .field("wrapped", &self.wrapped.is_some())
            .field("patience", &self.patience)
            .field("min_delta", &self.min_delta)
            .finish()
    }
}

impl PatientPruner {
    /// A patient pruner around `wrapped`; `min_delta` must be `>= 0` (and not NaN).
    pub fn new(wrapped: Option<Box<dyn Pruner>>, patience: usize, min_delta: f64) -> Result<Self> {
        if min_delta.is_nan() || min_delta < 0.0 {
            return Err(Error::config("min_delta", min_delta, "must be >= 0"));
        }
        Ok(PatientPruner {
            wrapped,
            patience,
            min_delta,
        })
    }
}

/// NumPy's `nanmin` / `nanmax` in the better direction (NaN if all are NaN).
fn nan_best(values: impl Iterator<Item = f64>, direction: Direction) -> f64 {
    let values = values.filter(|v| !v.is_nan());
    match direction {
        Direction::Minimize => values.fold(f64::NAN, f64::min),
        Direction::Maximize => values.fold(f64::NAN, f64::max),
    }
}

impl Pruner for PatientPruner {
    fn prune(&self, ctx: &PruneContext<'_>, trial: &FrozenTrial) -> bool {
        let n = trial.intermediate.len();
        if n <= self.patience + 1 {
            return false;
        }
        let split = n - self.patience - 1;
        let values = || trial.intermediate.values().copied();
        let before = nan_best(values().take(split), ctx.direction);
        let after = nan_best(values().skip(split), ctx.direction);
        let stalled = match ctx.direction {
            Direction::Minimize => before + self.min_delta < after,
            Direction::Maximize => before - self.min_delta > after,
        };
        stalled && self.wrapped.as_ref().is_none_or(|p| p.prune(ctx, trial))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decide(pruner: &PatientPruner, direction: Direction, values: &[f64]) -> bool {
        let mut t = FrozenTrial::running(0);
        t.intermediate = values
            .iter()
            .enumerate()
            .map(|(s, v)| (s as u64, *v))
            .collect();
        let trials = [t.clone()];
        let ctx = PruneContext {
            trials: &trials,
            direction,
            seed: 0,
        };
        pruner.prune(&ctx, &t)
    }

    #[test]
    fn a_trial_that_stopped_improving_for_patience_steps_is_pruned() {
        let p = PatientPruner::new(None, 2, 0.0).unwrap();
        let min = Direction::Minimize;
        assert!(!decide(&p, min, &[1.0, 2.0, 3.0]), "too few steps");
        assert!(decide(&p, min, &[1.0, 2.0, 3.0, 4.0]));
        assert!(!decide(&p, min, &[1.0, 2.0, 3.0, 0.5]));
        assert!(decide(&p, Direction::Maximize, &[4.0, 3.0, 2.0, 1.0]));
        assert!(
            !decide(&p, min, &[f64::NAN, 2.0, 3.0, 4.0]),
            "all NaN before"
        );
        let tolerant = PatientPruner::new(None, 2, 0.5).unwrap();
        assert!(!decide(&tolerant, min, &[1.0, 2.0, 1.2, 1.4]));
    }

    #[test]
    fn the_wrapped_pruner_has_the_last_word() {
        let never = PatientPruner::new(Some(Box::new(super::super::NopPruner)), 1, 0.0).unwrap();
        assert!(!decide(&never, Direction::Minimize, &[1.0, 2.0, 3.0, 4.0]));
        assert!(matches!(
            PatientPruner::new(None, 1, -1.0),
            Err(Error::Arg(descent_core::ArgError { .. }))
        ));
        assert!(PatientPruner::new(None, 1, f64::NAN).is_err());
    }
}
