//! Hyperparameter importance (Optuna's `optuna.importance`): which
//! parameters explained the objective across a study's completed trials.
//!
//! [`get_param_importances`] runs an [`ImportanceEvaluator`] —
//! [`FanovaImportanceEvaluator`] (a random forest's functional ANOVA, with
//! its spread over the trees) or [`PedAnovaImportanceEvaluator`] (Optuna 5's
//! default, a Pearson divergence between the top trials and all of them) —
//! and returns the parameters from most to least important, normalized to
//! sum to 1 as Optuna's `get_param_importances(normalize=True)` does.

mod fanova;
mod fanova_tree;
mod forest;
mod ped_anova;

pub use fanova::{FanovaConfig, FanovaImportanceEvaluator};
pub use ped_anova::{PedAnovaConfig, PedAnovaImportanceEvaluator};

use crate::{Direction, Distribution, Error, FrozenTrial, Result, Study, TrialState};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The importance of one parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamImportance {
    /// The parameter's name.
    pub name: String,
    /// Its importance (the importances of one call sum to 1).
    pub importance: f64,
    /// The spread of the estimate, on the importance's scale, where the
    /// evaluator has one: the standard deviation over fANOVA's trees.
    pub uncertainty: Option<f64>,
}

/// A trial's number to evaluate instead of its objective value (Optuna's `target`).
pub type Target<'a> = &'a dyn Fn(&FrozenTrial) -> f64;

/// What an evaluator is given: the trials, the study's direction, the
/// parameters asked about and the target.
#[derive(Clone, Copy)]
pub struct ImportanceInput<'a> {
    /// The study's trials (only completed ones are used).
    pub trials: &'a [FrozenTrial],
    /// The study's direction (PED-ANOVA's top trials depend on it).
    pub direction: Direction,
    /// The parameters to assess; `None` for Optuna's default set.
    pub params: Option<&'a [&'a str]>,
    /// The value to explain; `None` for the objective value.
    pub target: Option<Target<'a>>,
}

impl std::fmt::Debug for ImportanceInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportanceInput")
            .field("trials", &self.trials.len())
            .field("direction", &self.direction)
            .field("params", &self.params)
            .field("target", &self.target.is_some())
            .finish()
    }
}

impl ImportanceInput<'_> {
    /// The target of a trial: `target(trial)`, or its value (NaN if none).
    fn target_of(&self, trial: &FrozenTrial) -> f64 {
        match self.target {
            Some(f) => f(trial),
            None => trial.value.unwrap_or(f64::NAN),
        }
    }

    fn completed(&self) -> impl Iterator<Item = &FrozenTrial> {
        self.trials
            .iter()
            .filter(|t| t.state == TrialState::Complete)
    }
}

/// Where the trials to assess come from: a [`Study`], or trials with their
/// study's direction as `(&[FrozenTrial], Direction)`.
pub trait TrialSource {
    /// The trials and the direction of their study.
    fn trials_and_direction(&self) -> (Cow<'_, [FrozenTrial]>, Direction);
}

impl TrialSource for Study {
    fn trials_and_direction(&self) -> (Cow<'_, [FrozenTrial]>, Direction) {
        (Cow::Owned(self.trials()), self.config().direction)
    }
}

impl TrialSource for (&[FrozenTrial], Direction) {
    fn trials_and_direction(&self) -> (Cow<'_, [FrozenTrial]>, Direction) {
        (Cow::Borrowed(self.0), self.1)
    }
}

/// Assesses parameter importances (Optuna's `BaseImportanceEvaluator`).
pub trait ImportanceEvaluator {
    /// The unnormalized importance (and uncertainty) of each parameter, in any order.
    fn evaluate(&self, input: &ImportanceInput<'_>) -> Result<Vec<ParamImportance>>;
}

/// The importances of a study's parameters, most important first, summing
/// to 1 (all equal if the evaluator found none): Optuna's
/// `optuna.importance.get_param_importances(study, evaluator=…, params=…, target=…)`.
/// `source` is a [`Study`] or `(&[FrozenTrial], Direction)`.
///
/// # Errors
///
/// [`Error::Importance`] when a parameter asked for is in no completed
/// trial, when asked-for parameters change distribution between trials, or
/// when fANOVA's forest explains no variance at all.
///
/// # Examples
///
/// ```
/// use descent_hpo::{get_param_importances, FanovaImportanceEvaluator, FanovaConfig, Study, StudyConfig, Trial};
///
/// let study = Study::new(StudyConfig { seed: 1, ..Default::default() });
/// study.optimize(|t: &mut Trial| {
///     let x = t.suggest_float("x", -1.0, 1.0)?;
///     let noise = t.suggest_float("noise", -1.0, 1.0)?;
///     Ok::<_, descent_hpo::Error>(x * x + 1e-3 * noise)
/// }, 40, 1)?;
/// let evaluator = FanovaImportanceEvaluator::new(FanovaConfig::default());
/// let ranked = get_param_importances(&study, &evaluator, None, None)?;
/// assert_eq!(ranked[0].name, "x");
/// # Ok::<(), descent_hpo::Error>(())
/// ```
pub fn get_param_importances(
    source: &dyn TrialSource,
    evaluator: &dyn ImportanceEvaluator,
    params: Option<&[&str]>,
    target: Option<Target<'_>>,
) -> Result<Vec<ParamImportance>> {
    let (trials, direction) = source.trials_and_direction();
    let input = ImportanceInput {
        trials: &trials,
        direction,
        params,
        target,
    };
    let raw = evaluator.evaluate(&input)?;
    let mut ranked = sort_by_importance(raw);
    let sum: f64 = ranked.iter().map(|p| p.importance).sum();
    let n = ranked.len() as f64;
    for p in &mut ranked {
        if sum == 0.0 {
            p.importance = 1.0 / n;
        } else {
            p.importance /= sum;
            p.uncertainty = p.uncertainty.map(|u| u / sum);
        }
    }
    Ok(ranked)
}

/// Optuna's `_sort_dict_by_importance`: descending, equal ones in reverse order.
fn sort_by_importance(mut v: Vec<ParamImportance>) -> Vec<ParamImportance> {
    v.reverse();
    v.sort_by(|a, b| b.importance.total_cmp(&a.importance));
    v
}

/// Optuna's `_get_distributions`: the parameters to assess and their
/// distributions, sorted by name. With `params == None`, those in every
/// completed trial with one distribution (`intersection_search_space`).
fn distributions(input: &ImportanceInput<'_>) -> Result<BTreeMap<String, Distribution>> {
    let Some(params) = input.params else {
        let mut space: Option<BTreeMap<String, Distribution>> = None;
        for t in input.completed() {
            match &mut space {
                None => space = Some(t.distributions.clone()),
                Some(s) => s.retain(|k, d| t.distributions.get(k) == Some(d)),
            }
        }
        return Ok(space.unwrap_or_default());
    };
    let mut space: Option<BTreeMap<String, Distribution>> = None;
    for t in input.completed() {
        if !params.iter().all(|p| t.distributions.contains_key(*p)) {
            continue;
        }
        match &space {
            None => {
                space = Some(
                    params
                        .iter()
                        .map(|p| (p.to_string(), t.distributions[*p].clone()))
                        .collect(),
                )
            }
            Some(s) => {
                if s.iter().any(|(k, d)| &t.distributions[k] != d) {
                    return Err(Error::Importance {
                        reason: format!("parameters {params:?} change distribution between trials"),
                    });
                }
            }
        }
    }
    space.ok_or_else(|| Error::Importance {
        reason: format!("no completed trial has all of the parameters {params:?}"),
    })
}

/// Optuna's `_get_filtered_trials`: completed trials holding every one of
/// `params` with a finite target.
fn filtered<'a>(input: &ImportanceInput<'a>, params: &[&str]) -> Vec<&'a FrozenTrial> {
    input
        .trials
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .filter(|t| params.iter().all(|p| t.params.contains(p)))
        .filter(|t| input.target_of(t).is_finite())
        .collect()
}

fn zeros<'a>(names: impl IntoIterator<Item = &'a String>) -> Vec<ParamImportance> {
    names
        .into_iter()
        .map(|name| ParamImportance {
            name: name.clone(),
            importance: 0.0,
            uncertainty: None,
        })
        .collect()
}
