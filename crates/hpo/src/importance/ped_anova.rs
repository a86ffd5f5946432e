//! Optuna 5's `PedAnovaImportanceEvaluator` (Watanabe et al. 2023, "PED-ANOVA:
//! efficiently quantifying hyperparameter importance in arbitrary
//! subspaces"): the Pearson divergence between the distribution of a
//! parameter among the top trials and among all (region) trials.

use super::{ImportanceEvaluator, ImportanceInput, ParamImportance};
use crate::{Direction, Distribution, Error, FrozenTrial, ParamValue, Result};
use std::collections::BTreeSet;

/// Arguments of [`PedAnovaImportanceEvaluator`], with Optuna's names and defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PedAnovaConfig {
    /// The fraction of trials that are "top" (γ′, default 0.1).
    pub target_quantile: f64,
    /// The fraction of trials forming the region compared against (γ, default 1.0).
    pub region_quantile: f64,
    /// Compare with the region's trials (true, the default: importance during
    /// the study) or with the uniform distribution over the search space.
    pub evaluate_on_local: bool,
}

impl Default for PedAnovaConfig {
    fn default() -> Self {
        PedAnovaConfig {
            target_quantile: 0.1,
            region_quantile: 1.0,
            evaluate_on_local: true,
        }
    }
}

/// PED-ANOVA importances (Optuna 5's default evaluator): for each parameter,
/// the values of the top `target_quantile` trials and of the top
/// `region_quantile` trials are counted on a grid of up to 50 cells (one per
/// choice for a categorical; in log space for log-scaled parameters), each
/// turned into a 1-D Parzen estimator with Scott's bandwidth, and the
/// importance is the Pearson divergence between the two, scaled by
/// `(γ′/γ)²`. Conditional parameters are handled per regime (trials that do
/// or do not hold the parameter) as Optuna does. No uncertainty is given.
///
/// # Examples
///
/// ```
/// use descent_hpo::{PedAnovaConfig, PedAnovaImportanceEvaluator};
///
/// let evaluator = PedAnovaImportanceEvaluator::new(PedAnovaConfig::default())?;
/// assert!(PedAnovaImportanceEvaluator::new(PedAnovaConfig { target_quantile: 0.0, ..Default::default() }).is_err());
/// # Ok::<(), descent_hpo::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct PedAnovaImportanceEvaluator {
    config: PedAnovaConfig,
}

const N_STEPS: usize = 50;
const PRIOR_WEIGHT: f64 = 1.0;
const MIN_N_TRIALS_IN_REGIME: usize = 2;

impl PedAnovaImportanceEvaluator {
    /// An evaluator; needs `0 < target_quantile < region_quantile <= 1`.
    pub fn new(config: PedAnovaConfig) -> Result<Self> {
        let (t, r) = (config.target_quantile, config.region_quantile);
        if !(t > 0.0 && t < r) {
            return Err(Error::config(
                "target_quantile",
                t,
                "must satisfy 0 < target_quantile < region_quantile",
            ));
        }
        if r.is_nan() || r > 1.0 {
            return Err(Error::config("region_quantile", r, "must be <= 1"));
        }
        Ok(PedAnovaImportanceEvaluator { config })
    }
}

/// Optuna's `_QuantileFilter`: the trials whose loss is at most the
/// `ceil(quantile · n)`-th smallest (ties all kept).
fn top_quantile<'a>(
    trials: &[&'a FrozenTrial],
    losses: &[f64],
    quantile: f64,
) -> Vec<&'a FrozenTrial> {
    if quantile == 1.0 {
        return trials.to_vec();
    }
    let mut sorted = losses.to_vec();
    sorted.sort_by(f64::total_cmp);
    let cutoff_index = ((quantile * sorted.len() as f64).ceil() as usize).saturating_sub(1);
    let cutoff = sorted[cutoff_index];
    trials
        .iter()
        .zip(losses)
        .filter(|(_, l)| **l <= cutoff)
        .map(|(t, _)| *t)
        .collect()
}

/// The standard normal mass of `[a, b]`, accurate in both tails.
fn gauss_mass(a: f64, b: f64) -> f64 {
    let sf = |x: f64| 0.5 * libm::erfc(x / std::f64::consts::SQRT_2);
    if a >= 0.0 {
        sf(a) - sf(b)
    } else if b <= 0.0 {
        sf(-b) - sf(-a)
    } else {
        1.0 - sf(-a) - sf(b)
    }
}

/// The counts of one parameter's values on its grid (`_count_*_param_in_grid`).
fn grid_counts(dist: &Distribution, values: &[&ParamValue]) -> Vec<f64> {
    if let Distribution::Categorical { choices } = dist {
        let mut counts = vec![0.0; choices.len()];
        for v in values {
            if let Some(i) = choices.iter().position(|c| c == *v) {
                counts[i] += 1.0;
            }
        }
        return counts;
    }
    let (low, high, log, n_steps) = match *dist {
        Distribution::Int {
            low,
            high,
            log: true,
            ..
        } => {
            let log2 = (((high - low + 1) as f64).ln() / 2f64.ln()).ceil() as usize + 1;
            (low as f64, high as f64, true, log2.min(N_STEPS))
        }
        Distribution::Int {
            low,
            high,
            log,
            step,
        } => {
            let n = ((high - low) as f64 / step as f64).round() as usize + 1;
            (low as f64, high as f64, log, n.min(N_STEPS))
        }
        Distribution::Float {
            low,
            high,
            log,
            step,
        } => {
            let n = step.map_or(N_STEPS, |s| ((high - low) / s).round() as usize + 1);
            (low, high, log, n.min(N_STEPS))
        }
        Distribution::Categorical { .. } => unreachable!("handled above"),
    };
    let tr = |x: f64| if log { x.ln() } else { x };
    let (lo, hi) = (tr(low), tr(high));
    let step_size = (hi - lo) / (n_steps as f64 - 1.0);
    let mut counts = vec![0.0; n_steps];
    for v in values {
        let x = match v {
            ParamValue::Float(x) => *x,
            ParamValue::Int(i) => *i as f64,
            _ => continue,
        };
        let idx = ((tr(x) - lo) / step_size - 0.5).ceil();
        let idx = if idx.is_nan() { 0.0 } else { idx };
        counts[idx.clamp(0.0, n_steps as f64 - 1.0) as usize] += 1.0;
    }
    counts
}

/// Optuna's `ScottParzenEstimator` on the grid `0..counts.len()`: its pdf at each cell.
fn parzen_pdf_on_grid(counts: &[f64], categorical: bool) -> Vec<f64> {
    let n = counts.len();
    let obs: Vec<usize> = (0..n).filter(|&i| counts[i] > 0.0).collect();
    let w_obs: Vec<f64> = obs.iter().map(|&i| counts[i]).collect();
    let mut weights = w_obs.clone();
    weights.push(PRIOR_WEIGHT);
    if obs.is_empty() {
        weights = vec![1.0];
    }
    let total: f64 = weights.iter().sum();
    let weights: Vec<f64> = weights.iter().map(|w| w / total).collect();
    if categorical {
        if obs.is_empty() {
            return vec![1.0 / n as f64; n];
        }
        let n_kernels = obs.len() + 1;
        let base = PRIOR_WEIGHT / n_kernels as f64;
        return (0..n)
            .map(|x| {
                let prior_row = 1.0 / n as f64; // the prior kernel's row, normalized
                let mut p = weights[obs.len()] * prior_row;
                for (k, &o) in obs.iter().enumerate() {
                    let row_sum = base * n as f64 + 1.0;
                    let cell = base + if o == x { 1.0 } else { 0.0 };
                    p += weights[k] * cell / row_sum;
                }
                p
            })
            .collect();
    }
    // Numerical: a discrete truncated normal per observed cell, plus the prior.
    let (low, high) = (0.0, n as f64 - 1.0);
    let (mus, sigmas) = if obs.is_empty() {
        (vec![(low + high) / 2.0], vec![high - low + 1.0])
    } else {
        let x: Vec<f64> = obs.iter().map(|&i| i as f64).collect();
        let cum: Vec<f64> = w_obs
            .iter()
            .scan(0.0, |s, w| {
                *s += w;
                Some(*s)
            })
            .collect();
        let wsum = *cum.last().unwrap_or(&0.0);
        let mean = x.iter().zip(&w_obs).map(|(x, w)| x * w).sum::<f64>() / wsum;
        let var = x
            .iter()
            .zip(&w_obs)
            .map(|(x, w)| w * (x - mean).powi(2))
            .sum::<f64>()
            / (wsum - 1.0).max(1.0);
        // np.searchsorted(cum, wsum // 4, "left") and (cum, wsum * 3 // 4, "right").
        let q1 = cum.partition_point(|&c| c < (wsum / 4.0).floor());
        let q3 = cum.partition_point(|&c| c <= (wsum * 3.0 / 4.0).floor());
        let iqr = x[q3.min(x.len() - 1)] - x[q1.min(x.len() - 1)];
        let sigma = 1.059 * (iqr / 1.34).min(var.sqrt()) * wsum.powf(-0.2);
        let sigma = sigma.max(0.5 / 1.64);
        let mut mus = x;
        mus.push((low + high) / 2.0);
        let mut sigmas = vec![sigma; obs.len()];
        sigmas.push(high - low + 1.0);
        (mus, sigmas)
    };
    (0..n)
        .map(|cell| {
            let c = cell as f64;
            mus.iter()
                .zip(&sigmas)
                .zip(&weights)
                .map(|((mu, s), w)| {
                    let mass = gauss_mass((c - 0.5 - mu) / s, (c + 0.5 - mu) / s);
                    let norm = gauss_mass((low - 0.5 - mu) / s, (high + 0.5 - mu) / s);
                    w * mass / norm
                })
                .sum()
        })
        .collect()
}

impl PedAnovaImportanceEvaluator {
    fn pearson_divergence(
        &self,
        name: &str,
        dist: &Distribution,
        target: &[&FrozenTrial],
        region: &[&FrozenTrial],
    ) -> f64 {
        let categorical = matches!(dist, Distribution::Categorical { .. });
        let values = |ts: &[&FrozenTrial]| -> Vec<f64> {
            let vals: Vec<&ParamValue> = ts.iter().filter_map(|t| t.params.get(name)).collect();
            grid_counts(dist, &vals)
        };
        let top = parzen_pdf_on_grid(&values(target), categorical);
        let n = top.len();
        let local: Vec<f64> = if self.config.evaluate_on_local {
            parzen_pdf_on_grid(&values(region), categorical)
                .into_iter()
                .map(|p| p + 1e-12)
                .collect()
        } else {
            vec![1.0 / n as f64; n]
        };
        top.iter()
            .zip(&local)
            .map(|(t, l)| l * ((t + 1e-12) / l - 1.0).powi(2))
            .sum()
    }
}

impl ImportanceEvaluator for PedAnovaImportanceEvaluator {
    fn evaluate(&self, input: &ImportanceInput<'_>) -> Result<Vec<ParamImportance>> {
        let completed: Vec<&FrozenTrial> = input.completed().collect();
        let all: BTreeSet<&str> = completed
            .iter()
            .flat_map(|t| t.distributions.keys().map(String::as_str))
            .collect();
        let params: Vec<String> = match input.params {
            Some(ps) => {
                let missing: Vec<&&str> = ps.iter().filter(|p| !all.contains(**p)).collect();
                if !missing.is_empty() {
                    return Err(Error::Importance {
                        reason: format!("no completed trial holds the parameters {missing:?}"),
                    });
                }
                ps.iter().map(|p| p.to_string()).collect()
            }
            None => all.iter().map(|p| p.to_string()).collect(),
        };
        let zero = |params: &[String]| {
            params
                .iter()
                .map(|name| ParamImportance {
                    name: name.clone(),
                    importance: 0.0,
                    uncertainty: None,
                })
                .collect::<Vec<_>>()
        };
        let trials: Vec<&FrozenTrial> = completed
            .into_iter()
            .filter(|t| input.target_of(t).is_finite())
            .collect();
        if trials.len() <= 1 {
            return Ok(zero(&params));
        }
        // Lower is better: the loss (a given target is minimized, as in Optuna).
        let sign = match (input.target.is_some(), input.direction) {
            (false, Direction::Maximize) => -1.0,
            _ => 1.0,
        };
        let losses: Vec<f64> = trials.iter().map(|t| sign * input.target_of(t)).collect();
        let target = top_quantile(&trials, &losses, self.config.target_quantile);
        let region = top_quantile(&trials, &losses, self.config.region_quantile);
        if target.is_empty() {
            return Ok(zero(&params));
        }
        let in_target: BTreeSet<u64> = target.iter().map(|t| t.number).collect();
        let quantile = target.len() as f64 / region.len() as f64;
        let mut out = zero(&params);
        for p in &mut out {
            // Regimes: the region's trials grouped by the parameter's distribution (or absence).
            let mut regimes: Vec<(Option<&Distribution>, Vec<&FrozenTrial>)> = Vec::new();
            for t in &region {
                let d = t.distributions.get(&p.name);
                match regimes.iter_mut().find(|(k, _)| *k == d) {
                    Some((_, v)) => v.push(t),
                    None => regimes.push((d, vec![t])),
                }
            }
            for (dist, region_regime) in regimes {
                if region_regime.len() < MIN_N_TRIALS_IN_REGIME {
                    continue;
                }
                let Some(dist) = dist else { continue };
                let target_regime: Vec<&FrozenTrial> = region_regime
                    .iter()
                    .copied()
                    .filter(|t| in_target.contains(&t.number))
                    .collect();
                if dist.single_value().is_some() || target_regime.is_empty() {
                    continue;
                }
                let alpha = target_regime.len() as f64 / target.len() as f64;
                let beta = region_regime.len() as f64 / region.len() as f64;
                p.importance += alpha * alpha / beta
                    * self.pearson_divergence(&p.name, dist, &target_regime, &region_regime);
            }
            p.importance *= quantile * quantile;
        }
        Ok(out)
    }
}
