//! Optuna's `FanovaImportanceEvaluator`: fit a random forest to the trials
//! and take, per tree, the fraction of the prediction's variance that each
//! parameter's marginal explains (Hutter, Hoos & Leyton-Brown 2014).

use super::fanova_tree::FanovaTree;
use super::forest::{ForestConfig, fit_forest};
use super::{
    ImportanceEvaluator, ImportanceInput, ParamImportance, distributions, filtered, zeros,
};
use crate::{Distribution, Error, ParamValue, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Arguments of [`FanovaImportanceEvaluator`], with Optuna's names; the
/// `Default` is Optuna's (64 trees of depth up to 64) with seed 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FanovaConfig {
    /// Trees in the forest (default 64).
    pub n_trees: usize,
    /// Maximal depth of each tree (default 64).
    pub max_depth: usize,
    /// The forest's seed (default 0; Optuna's default is unseeded).
    pub seed: u64,
}

impl Default for FanovaConfig {
    fn default() -> Self {
        FanovaConfig {
            n_trees: 64,
            max_depth: 64,
            seed: 0,
        }
    }
}

/// fANOVA importances: a random forest (scikit-learn's
/// `RandomForestRegressor` defaults: bootstrap, all features per split,
/// `min_samples_split = 2`, `min_samples_leaf = 1`) is fitted to the
/// parameters — raw values for floats and ints, even log-scaled ones, and one
/// 0/1 column per choice of a categorical, as Optuna encodes them — and each
/// parameter's importance is the mean over trees of the fraction of the
/// tree's variance its marginal explains; the uncertainty is the standard
/// deviation of those fractions. Parameters with one possible value get 0.
///
/// # Examples
///
/// ```
/// use descent_hpo::{FanovaConfig, FanovaImportanceEvaluator};
///
/// let evaluator = FanovaImportanceEvaluator::new(FanovaConfig { seed: 3, ..Default::default() });
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FanovaImportanceEvaluator {
    config: FanovaConfig,
}

impl FanovaImportanceEvaluator {
    /// An evaluator with these arguments (trees and depth are raised to at least 1).
    pub fn new(config: FanovaConfig) -> Self {
        FanovaImportanceEvaluator {
            config: FanovaConfig {
                n_trees: config.n_trees.max(1),
                max_depth: config.max_depth.max(1),
                seed: config.seed,
            },
        }
    }
}

/// The columns of one parameter: its value, or a one-hot of its choice.
fn encode(dist: &Distribution, value: Option<&ParamValue>, row: &mut Vec<f64>) {
    match dist {
        Distribution::Categorical { choices } => row.extend(
            choices
                .iter()
                .map(|c| f64::from(u8::from(Some(c) == value))),
        ),
        _ => row.push(match value {
            Some(ParamValue::Float(v)) => *v,
            Some(ParamValue::Int(v)) => *v as f64,
            _ => f64::NAN,
        }),
    }
}

fn bounds(dist: &Distribution, out: &mut Vec<[f64; 2]>) {
    match dist {
        Distribution::Float { low, high, .. } => out.push([*low, *high]),
        Distribution::Int { low, high, .. } => out.push([*low as f64, *high as f64]),
        Distribution::Categorical { choices } => out.extend(choices.iter().map(|_| [0.0, 1.0])),
    }
}

impl ImportanceEvaluator for FanovaImportanceEvaluator {
    fn evaluate(&self, input: &ImportanceInput<'_>) -> Result<Vec<ParamImportance>> {
        let dists = distributions(input)?;
        let (varying, single): (Vec<_>, Vec<_>) =
            dists.iter().partition(|(_, d)| d.single_value().is_none());
        if varying.is_empty() {
            return Ok(zeros(single.into_iter().map(|(k, _)| k)));
        }
        let names: Vec<&str> = dists.keys().map(String::as_str).collect();
        let trials = filtered(input, &names);
        if trials.len() <= 1 {
            return Ok(zeros(dists.keys()));
        }
        let mut space = Vec::new();
        let mut columns = Vec::new();
        for (_, d) in &varying {
            let start = space.len();
            bounds(d, &mut space);
            columns.push((start..space.len()).collect::<Vec<usize>>());
        }
        let x: Vec<Vec<f64>> = trials
            .iter()
            .map(|t| {
                let mut row = Vec::with_capacity(space.len());
                for (name, d) in &varying {
                    encode(d, t.params.get(name), &mut row);
                }
                row
            })
            .collect();
        let y: Vec<f64> = trials.iter().map(|t| input.target_of(t)).collect();
        let forest_config = ForestConfig {
            n_trees: self.config.n_trees,
            max_depth: self.config.max_depth,
            min_samples_split: 2,
            min_samples_leaf: 1,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        let forest = fit_forest(&x, &y, forest_config, &mut rng);
        let trees: Vec<FanovaTree<'_>> = forest
            .iter()
            .map(|nodes| FanovaTree::new(nodes, &space))
            .filter(|t| t.variance > 0.0)
            .collect();
        if trees.is_empty() {
            return Err(Error::Importance {
                reason: "zero total variance in all trees (every trial has the same target)".into(),
            });
        }
        let mut out = Vec::new();
        for ((name, _), cols) in varying.iter().zip(&columns) {
            let fractions: Vec<f64> = trees
                .iter()
                .map(|t| t.marginal_variance(cols) / t.variance)
                .collect();
            let n = fractions.len() as f64;
            let mean = fractions.iter().sum::<f64>() / n;
            let std = (fractions.iter().map(|f| (f - mean).powi(2)).sum::<f64>() / n).sqrt();
            out.push(ParamImportance {
                name: (*name).clone(),
                importance: mean,
                uncertainty: Some(std),
            });
        }
        out.extend(zeros(single.into_iter().map(|(k, _)| k)));
        Ok(out)
    }
}
