//! Asynchronous successive halving (ASHA, Li et al. 2018), as Optuna's
//! `SuccessiveHalvingPruner`.

use super::{PruneContext, Pruner};
use crate::{Direction, Error, FrozenTrial, Result};

/// Arguments of [`SuccessiveHalvingPruner`]; `Default` is Optuna's (with
/// `min_resource` 1 where Optuna's `"auto"` guesses it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuccessiveHalvingConfig {
    /// Steps before the first rung, `r` (default 1).
    pub min_resource: u64,
    /// Rungs grow and survivors shrink by this factor, `η` (default 4).
    pub reduction_factor: u64,
    /// Skip the first `s` rungs: rung `k` sits at step `r·η^(s+k)` (default 0).
    pub min_early_stopping_rate: u32,
    /// Trials a rung must hold before any is promoted (default 0).
    pub bootstrap_count: usize,
}

impl Default for SuccessiveHalvingConfig {
    fn default() -> Self {
        SuccessiveHalvingConfig {
            min_resource: 1,
            reduction_factor: 4,
            min_early_stopping_rate: 0,
            bootstrap_count: 0,
        }
    }
}

/// ASHA as a pruner: when a trial reaches rung `k` (step `r·η^(s+k)`), it goes
/// on only if its value there is in the top `1/η` of all values recorded at
/// that rung so far (the top one while fewer than `η` are there); otherwise it is pruned.
///
/// A trial's value at a rung is its first reported value at or after the
/// rung's step, so the rungs need no extra bookkeeping and survive a restart.
/// Call `should_prune` after every report, as Optuna expects.
///
/// # Examples
///
/// ```
/// use descent_hpo::{SuccessiveHalvingConfig, SuccessiveHalvingPruner};
///
/// let asha = SuccessiveHalvingPruner::new(SuccessiveHalvingConfig { reduction_factor: 3, ..Default::default() })?;
/// assert_eq!(asha.rung_step(2), 9);
/// # Ok::<(), descent_hpo::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SuccessiveHalvingPruner {
    config: SuccessiveHalvingConfig,
}

/// ASHA (Li et al. 2018) is what Optuna's successive-halving pruner implements.
pub type AshaPruner = SuccessiveHalvingPruner;

impl SuccessiveHalvingPruner {
    /// A pruner; `min_resource ≥ 1` and `reduction_factor ≥ 2`.
    pub fn new(config: SuccessiveHalvingConfig) -> Result<Self> {
        if config.min_resource == 0 {
            return Err(Error::config("min_resource", 0, "must be >= 1"));
        }
        if config.reduction_factor < 2 {
            return Err(Error::config(
                "reduction_factor",
                config.reduction_factor,
                "must be >= 2",
            ));
        }
        Ok(SuccessiveHalvingPruner { config })
    }

    /// The step of rung `rung`: `min_resource · η^(min_early_stopping_rate + rung)`.
    pub fn rung_step(&self, rung: u32) -> u64 {
        let c = &self.config;
        c.reduction_factor
            .saturating_pow(c.min_early_stopping_rate + rung)
            .saturating_mul(c.min_resource)
    }

    /// A trial's value at `rung`, if it got there.
    fn rung_value(&self, trial: &FrozenTrial, rung: u32) -> Option<f64> {
        trial
            .intermediate
            .range(self.rung_step(rung)..)
            .next()
            .map(|(_, v)| *v)
    }

    /// The decision among `competitors` (the trials of the same bracket).
    pub(crate) fn prune_among<'a>(
        &self,
        competitors: impl Iterator<Item = &'a FrozenTrial> + Clone,
        direction: Direction,
        trial: &FrozenTrial,
    ) -> bool {
        let Some(step) = trial.last_step() else {
            return false;
        };
        let previous = trial.intermediate.keys().rev().nth(1).copied();
        // Rungs already passed at an earlier report were decided then.
        let mut rung = 0;
        while previous.is_some_and(|p| self.rung_step(rung) <= p) {
            rung += 1;
        }
        loop {
            if step < self.rung_step(rung) {
                return false;
            }
            let Some(value) = self.rung_value(trial, rung) else {
                return false;
            };
            if value.is_nan() {
                return true;
            }
            let mut values: Vec<f64> = competitors
                .clone()
                .filter(|t| t.number != trial.number)
                .filter_map(|t| self.rung_value(t, rung))
                .filter(|v| !v.is_nan())
                .collect();
            values.push(value);
            if values.len() <= self.config.bootstrap_count {
                return true;
            }
            values.sort_by(f64::total_cmp);
            let k = (values.len() / self.config.reduction_factor as usize).max(1) - 1;
            let promotable = match direction {
                Direction::Minimize => value <= values[k],
                Direction::Maximize => value >= values[values.len() - 1 - k],
            };
            if !promotable {
                return true;
            }
            rung += 1;
        }
    }
}

impl Pruner for SuccessiveHalvingPruner {
    fn prune(&self, ctx: &PruneContext<'_>, trial: &FrozenTrial) -> bool {
        self.prune_among(ctx.trials.iter(), ctx.direction, trial)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Study, StudyConfig, TrialState};

    /// Runs trials one after another; trial `i` reports the constant `values[i]`
    /// at steps 0..=max_step and stops when pruned.
    fn run(values: &[f64], eta: u64, max_step: u64) -> Vec<FrozenTrial> {
        let cfg = SuccessiveHalvingConfig {
            reduction_factor: eta,
            ..Default::default()
        };
        let study = Study::new(StudyConfig::default())
            .with_pruner(SuccessiveHalvingPruner::new(cfg).unwrap());
        for &v in values {
            let mut trial = study.ask().unwrap();
            for step in 0..=max_step {
                trial.report(step, v);
                if trial.should_prune() {
                    break;
                }
            }
            study.tell(trial, Ok::<_, Error>(v)).unwrap();
        }
        study.trials()
    }

    #[test]
    fn improving_trials_are_always_promoted() {
        let trials = run(&[5.0, 4.0, 3.0, 2.0, 1.0], 2, 8);
        assert!(trials.iter().all(|t| t.state == TrialState::Complete));
    }

    #[test]
    fn a_trial_outside_the_top_fraction_stops_at_its_rung() {
        // η = 2, rungs at steps 1, 2, 4, 8.
        let trials = run(&[1.0, 2.0, 0.5, 3.0, 0.7], 2, 8);
        let states: Vec<_> = trials.iter().map(|t| (t.state, t.last_step())).collect();
        assert_eq!(
            states,
            [
                (TrialState::Complete, Some(8)),
                // Rung 0 holds {1, 2}: only the best half (1) goes on.
                (TrialState::Pruned, Some(1)),
                (TrialState::Complete, Some(8)),
                // {1, 2, 0.5, 3}: the top 2 are 0.5 and 1.
                (TrialState::Pruned, Some(1)),
                // Rung 0 {1, 2, 0.5, 3, 0.7}: top 2 = {0.5, 0.7}, promoted; rung 1
                // holds {1, 0.5, 0.7}: top 1 = 0.5, so 0.7 stops at step 2.
                (TrialState::Pruned, Some(2)),
            ]
        );
        assert_eq!(
            trials[1].value,
            Some(2.0),
            "a pruned trial keeps its last value"
        );
    }

    #[test]
    fn invalid_arguments_are_rejected() {
        let cfg = SuccessiveHalvingConfig {
            reduction_factor: 1,
            ..Default::default()
        };
        assert!(matches!(
            SuccessiveHalvingPruner::new(cfg),
            Err(Error::Arg(descent_core::ArgError {
                name: "reduction_factor",
                ..
            }))
        ));
    }
}
