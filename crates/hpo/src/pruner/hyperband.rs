//! Optuna's `HyperbandPruner`: asynchronous successive halving in several
//! brackets, trials spread over them in proportion to Hyperband's `n`.

use super::{PruneContext, Pruner, SuccessiveHalvingConfig, SuccessiveHalvingPruner};
use crate::{Error, FrozenTrial, Result, TrialState};
use std::sync::OnceLock;

/// Arguments of [`HyperbandPruner`]; `Default` is Optuna's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HyperbandConfig {
    /// Steps before the first rung of the most aggressive bracket, `r` (default 1).
    pub min_resource: u64,
    /// The largest number of steps a trial runs, `R`; `None` (Optuna's `"auto"`)
    /// takes the last step + 1 of the first completed trial.
    pub max_resource: Option<u64>,
    /// `η` (default 3).
    pub reduction_factor: u64,
    /// Trials a rung must hold before any is promoted (default 0).
    pub bootstrap_count: usize,
}

impl Default for HyperbandConfig {
    fn default() -> Self {
        HyperbandConfig {
            min_resource: 1,
            max_resource: None,
            reduction_factor: 3,
            bootstrap_count: 0,
        }
    }
}

/// Hyperband (Li et al. 2017) over ASHA: `⌊log_η(R/r)⌋ + 1` brackets; bracket
/// `i` is a [`SuccessiveHalvingPruner`] with `min_early_stopping_rate = i`
/// whose trials compete only with each other; a trial's bracket is drawn from
/// a hash of its number and the study's seed, bracket `i` taking a share
/// `⌈n_brackets · η^s / (s + 1)⌉` with `s = n_brackets − 1 − i` (Hyperband's `n_s`).
///
/// # Examples
///
/// ```
/// use descent_hpo::{HyperbandConfig, HyperbandPruner};
///
/// let hb = HyperbandPruner::new(HyperbandConfig { max_resource: Some(81), ..Default::default() })?;
/// assert_eq!(hb.bracket_budgets(), Some(vec![81, 34, 15, 8, 5])); // the paper's n for R = 81, η = 3
/// # Ok::<(), descent_hpo::Error>(())
/// ```
#[derive(Debug)]
pub struct HyperbandPruner {
    config: HyperbandConfig,
    brackets: OnceLock<Vec<(u64, SuccessiveHalvingPruner)>>,
}

impl HyperbandPruner {
    /// A pruner; `min_resource ≥ 1`, `reduction_factor ≥ 2`, `max_resource ≥ min_resource`.
    pub fn new(config: HyperbandConfig) -> Result<Self> {
        SuccessiveHalvingPruner::new(SuccessiveHalvingConfig {
            min_resource: config.min_resource,
            reduction_factor: config.reduction_factor,
            ..Default::default()
        })?;
        if let Some(max) = config.max_resource
            && max < config.min_resource
        {
            return Err(Error::config(
                "max_resource",
                max,
                "must be >= min_resource",
            ));
        }
        let pruner = HyperbandPruner {
            config,
            brackets: OnceLock::new(),
        };
        if let Some(max) = config.max_resource {
            let _ = pruner.brackets.set(pruner.build(max));
        }
        Ok(pruner)
    }

    fn build(&self, max_resource: u64) -> Vec<(u64, SuccessiveHalvingPruner)> {
        let c = &self.config;
        let eta = c.reduction_factor;
        let mut n_brackets = 1u32;
        while c
            .min_resource
            .saturating_mul(eta.saturating_pow(n_brackets))
            <= max_resource
        {
            n_brackets += 1;
        }
        (0..n_brackets)
            .map(|i| {
                let s = n_brackets - 1 - i;
                let budget = (u64::from(n_brackets) * eta.pow(s)).div_ceil(u64::from(s) + 1);
                let sh = SuccessiveHalvingPruner::new(SuccessiveHalvingConfig {
                    min_resource: c.min_resource,
                    reduction_factor: eta,
                    min_early_stopping_rate: i,
                    bootstrap_count: c.bootstrap_count,
                })
                .expect("checked in new");
                (budget, sh)
            })
            .collect()
    }

    /// Each bracket's share of trials, once the brackets are known.
    pub fn bracket_budgets(&self) -> Option<Vec<u64>> {
        Some(self.brackets.get()?.iter().map(|b| b.0).collect())
    }

    /// The bracket of trial `number` in a study seeded `seed`, once the brackets are known.
    pub fn bracket_of(&self, number: u64, seed: u64) -> Option<usize> {
        let brackets = self.brackets.get()?;
        let total: u64 = brackets.iter().map(|b| b.0).sum();
        let mut n = splitmix64(seed ^ splitmix64(number)) % total;
        brackets.iter().position(|(budget, _)| {
            let here = n < *budget;
            n = n.saturating_sub(*budget);
            here
        })
    }
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Pruner for HyperbandPruner {
    fn prune(&self, ctx: &PruneContext<'_>, trial: &FrozenTrial) -> bool {
        if self.brackets.get().is_none() {
            let max = ctx
                .trials
                .iter()
                .filter(|t| t.state == TrialState::Complete)
                .filter_map(FrozenTrial::last_step)
                .max();
            match max {
                Some(m) => {
                    let _ = self.brackets.set(self.build(m + 1));
                }
                None => return false,
            }
        }
        let Some(bracket) = self.bracket_of(trial.number, ctx.seed) else {
            return false;
        };
        let sh = &self.brackets.get().expect("set above")[bracket].1;
        let same = ctx
            .trials
            .iter()
            .filter(|t| self.bracket_of(t.number, ctx.seed) == Some(bracket));
        sh.prune_among(same, ctx.direction, trial)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trials_spread_over_brackets_in_proportion_to_hyperbands_n() {
        let hb = HyperbandPruner::new(HyperbandConfig {
            max_resource: Some(81),
            ..Default::default()
        })
        .unwrap();
        let budgets = hb.bracket_budgets().unwrap();
        let total: u64 = budgets.iter().sum();
        let n = 143_000;
        let mut counts = vec![0u64; budgets.len()];
        for number in 0..n {
            counts[hb.bracket_of(number, 5).unwrap()] += 1;
        }
        for (count, budget) in counts.iter().zip(&budgets) {
            let expected = n as f64 * *budget as f64 / total as f64;
            assert!(
                (*count as f64 - expected).abs() < 5.0 * expected.sqrt(),
                "{counts:?}"
            );
        }
    }

    #[test]
    fn bracket_i_starts_its_rungs_at_eta_to_the_i() {
        let hb = HyperbandPruner::new(HyperbandConfig {
            max_resource: Some(27),
            ..Default::default()
        })
        .unwrap();
        let brackets = hb.brackets.get().unwrap();
        let first_rungs: Vec<u64> = brackets.iter().map(|b| b.1.rung_step(0)).collect();
        assert_eq!(first_rungs, [1, 3, 9, 27]);
        let auto = HyperbandPruner::new(HyperbandConfig::default()).unwrap();
        assert_eq!(auto.bracket_budgets(), None);
        let bad = HyperbandConfig {
            min_resource: 4,
            max_resource: Some(2),
            ..Default::default()
        };
        assert!(HyperbandPruner::new(bad).is_err());
    }
}
