//! Optuna's `BruteForceSampler`: every combination of a finite,
//! define-by-run search space, conditional parameters included.

use super::{SampleContext, Sampler};
use crate::{Distribution, Error, FrozenTrial, ParamValue, Result};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// Tries every combination of a finite search space once, in random order,
/// and stops the study when none is left (Optuna's `BruteForceSampler`).
///
/// The space is discovered as trials run: the trials seen so far form a tree
/// (a parameter per node, a child per value; a conditional parameter lives
/// under the values that bring it in), and each value is drawn among those
/// whose subtree still holds an untried combination, weighted as Optuna
/// weighs them (half by the number of untried leaves, half flat). Running
/// trials count as tried (Optuna's default `avoid_premature_stop=False`);
/// [`BruteForceSampler::avoid_premature_stop`] counts them as untried, for a
/// strict search that may evaluate a combination twice.
/// Once a finished trial leaves nothing untried the study stops, as Optuna's
/// `study.stop()`; a later trial draws uniformly.
///
/// Categorical, int and stepped float parameters are finite; a float without
/// a step is an [`Error::Arg`] naming `distribution`.
///
/// Optuna reads the tree in the order parameters were suggested; a trial
/// here keeps its parameters by name, so the tree is rebuilt taking, at each
/// node, the first parameter (by name) that every trial below it suggested
/// with one distribution. For an objective whose suggestions depend only on
/// earlier values (define-by-run), this covers the same combinations.
///
/// # Examples
///
/// ```
/// use descent_hpo::{BruteForceSampler, Study, StudyConfig};
///
/// let study = Study::new(StudyConfig::default()).with_sampler(BruteForceSampler::new());
/// study.optimize(
///     |t| {
///         let c: &str = t.suggest_categorical("c", &["float", "int"])?;
///         Ok::<_, descent_hpo::Error>(if c == "float" {
///             t.suggest_float_step("x", 1.0, 3.0, 0.5)?
///         } else {
///             let a = t.suggest_int("a", 1, 3)?;
///             (a + t.suggest_int("b", a, 3)?) as f64
///         })
///     },
///     100,
///     1,
/// )?;
/// // 5 values of x, and (a, b) with a ≤ b ≤ 3: 6 pairs.
/// assert_eq!(study.trials().len(), 11);
/// # Ok::<(), descent_hpo::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct BruteForceSampler {
    avoid_premature_stop: bool,
}

impl BruteForceSampler {
    /// A brute-force sampler (Optuna's `BruteForceSampler()`).
    pub fn new() -> Self {
        BruteForceSampler::default()
    }

    /// The same sampler, with running trials' combinations counted as
    /// untried when `yes` (Optuna's `avoid_premature_stop=True`): the study
    /// stops only once every combination has finished.
    pub fn avoid_premature_stop(self, yes: bool) -> Self {
        BruteForceSampler {
            avoid_premature_stop: yes,
        }
    }
}

/// The values of a finite distribution, by index.
fn n_values(name: &str, d: &Distribution) -> Result<usize> {
    d.n_values().ok_or_else(|| {
        Error::config(
            "distribution",
            name,
            "BruteForceSampler needs a finite search space: give the float a step",
        )
    })
}

/// The index of `v` among `d`'s values.
fn index(d: &Distribution, v: &ParamValue) -> Option<usize> {
    if !d.contains(v) {
        return None;
    }
    match (d, v) {
        (Distribution::Int { low, step, .. }, ParamValue::Int(i)) => {
            usize::try_from((i128::from(*i) - i128::from(*low)) / i128::from(*step)).ok()
        }
        (
            Distribution::Float {
                low, step: Some(s), ..
            },
            ParamValue::Float(x),
        ) => Some(((x - low) / s).round() as usize),
        (Distribution::Categorical { choices }, v) => choices.iter().position(|c| c == v),
        _ => None,
    }
}

/// Value `k` of `d` (`k` below its number of values).
fn value(d: &Distribution, k: usize) -> ParamValue {
    match d {
        Distribution::Int { low, step, .. } => {
            ParamValue::Int((i128::from(*low) + k as i128 * i128::from(*step)) as i64)
        }
        Distribution::Float {
            low,
            high,
            step: Some(s),
            ..
        } => ParamValue::Float((low + k as f64 * s).min(*high)),
        Distribution::Categorical { choices } => choices[k].clone(),
        Distribution::Float { low, .. } => ParamValue::Float(*low),
    }
}

/// The number of untried leaves below the node reached by `prefix`, which
/// every trial of `trials` shares (Optuna's `count_unexpanded` with
/// `exclude_running`), and whether a running trial stops at the node.
fn untried(trials: &[&FrozenTrial], prefix: &[&str], exclude_running: bool) -> (u128, bool) {
    if trials.is_empty() {
        return (1, false);
    }
    let rest = |t: &FrozenTrial| {
        t.distributions
            .keys()
            .filter(|k| !prefix.contains(&k.as_str()))
            .count()
    };
    let mut running_here = false;
    let mut deeper: Vec<&FrozenTrial> = Vec::new();
    for t in trials {
        if rest(t) == 0 {
            if t.state.is_finished() {
                return (0, false);
            }
            running_here = true;
        } else {
            deeper.push(t);
        }
    }
    if deeper.is_empty() {
        // Only running trials reached this node: tried unless running ones count as untried.
        return (u128::from(!exclude_running), running_here);
    }
    // The next parameter: the first by name that every deeper trial has with one distribution.
    let next = deeper[0]
        .distributions
        .iter()
        .filter(|(k, _)| !prefix.contains(&k.as_str()))
        .find(|(k, d)| deeper.iter().all(|t| t.distributions.get(*k) == Some(*d)));
    let Some((name, d)) = next else {
        // The trials below disagree on what comes next: not known to be exhausted.
        return (1, running_here);
    };
    let Some(n) = d.n_values() else {
        return (1, running_here);
    };
    let mut prefix = prefix.to_vec();
    prefix.push(name);
    let mut total = 0u128;
    for k in 0..n {
        let below: Vec<&FrozenTrial> = deeper
            .iter()
            .copied()
            .filter(|t| t.params.get(name).and_then(|v| index(d, v)) == Some(k))
            .collect();
        total += untried(&below, &prefix, exclude_running).0;
    }
    (total, running_here)
}

/// The trials (finished or running, not the current one) that agree with
/// `trial`'s parameters so far.
fn agreeing<'t>(trials: &'t [FrozenTrial], trial: &FrozenTrial) -> Vec<&'t FrozenTrial> {
    trials
        .iter()
        .filter(|t| t.number != trial.number)
        .filter(|t| {
            trial
                .params
                .iter()
                .all(|(name, v)| t.params.get(name) == Some(v))
        })
        .collect()
}

impl Sampler for BruteForceSampler {
    fn sample(
        &self,
        ctx: &SampleContext<'_>,
        name: &str,
        distribution: &Distribution,
        rng: &mut ChaCha8Rng,
    ) -> Result<ParamValue> {
        let n = n_values(name, distribution)?;
        let trials = agreeing(ctx.trials, ctx.trial);
        let prefix: Vec<&str> = ctx
            .trial
            .params
            .iter()
            .map(|(k, _)| k)
            .chain(std::iter::once(name))
            .collect();
        let children: Vec<(u128, bool)> = (0..n)
            .map(|k| {
                let below: Vec<&FrozenTrial> = trials
                    .iter()
                    .copied()
                    .filter(|t| t.params.get(name).and_then(|v| index(distribution, v)) == Some(k))
                    .collect();
                untried(&below, &prefix, !self.avoid_premature_stop)
            })
            .collect();
        let total: u128 = children.iter().map(|c| c.0).sum();
        if total == 0 {
            return Ok(value(distribution, rng.random_range(0..n)));
        }
        // Optuna's weights: half by untried leaves, half flat over the open children.
        let open = children.iter().filter(|c| c.0 > 0).count() as f64;
        let mut weights: Vec<f64> = children
            .iter()
            .map(|&(c, _)| 0.5 * c as f64 / total as f64 + if c > 0 { 0.5 / open } else { 0.0 })
            .collect();
        if children.iter().zip(&weights).any(|(c, w)| !c.1 && *w > 0.0) {
            for (c, w) in children.iter().zip(weights.iter_mut()) {
                if c.1 {
                    *w = 0.0;
                }
            }
        }
        let sum: f64 = weights.iter().sum();
        let mut u = rng.random::<f64>() * sum;
        let mut pick = n - 1;
        for (k, w) in weights.iter().enumerate() {
            if *w > 0.0 {
                pick = k;
                if u < *w {
                    break;
                }
                u -= w;
            }
        }
        Ok(value(distribution, pick))
    }

    /// It reads parameters only, never values (as Optuna's, which runs
    /// multi-objective studies too).
    fn supports_multi_objective(&self) -> bool {
        true
    }

    fn exhausted(&self, trials: &[FrozenTrial], _trial: &FrozenTrial) -> bool {
        // Every trial counts, failed and running ones too (Optuna's
        // `_get_non_waiting_trials`); running branches count as tried.
        let all: Vec<&FrozenTrial> = trials.iter().collect();
        !all.is_empty() && untried(&all, &[], !self.avoid_premature_stop).0 == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Study, StudyConfig, Trial};
    use std::collections::BTreeSet;

    fn conditional(t: &mut Trial<'_>) -> Result<f64> {
        let c: &str = t.suggest_categorical("c", &["float", "int"])?;
        if c == "float" {
            t.suggest_float_step("x", 1.0, 3.0, 0.5)
        } else {
            let a = t.suggest_int("a", 1, 3)?;
            Ok((a + t.suggest_int("b", a, 3)?) as f64)
        }
    }

    #[test]
    fn every_combination_of_a_conditional_space_once_then_stop() {
        for seed in 0..5 {
            let study = Study::new(StudyConfig {
                seed,
                ..Default::default()
            })
            .with_sampler(BruteForceSampler::new());
            study.optimize(conditional, 100, 1).unwrap();
            let seen: BTreeSet<String> = study
                .trials()
                .iter()
                .map(|t| format!("{:?}", t.params))
                .collect();
            assert_eq!(study.trials().len(), 11, "seed {seed}");
            assert_eq!(seen.len(), 11, "seed {seed}: a combination twice");
        }
    }

    #[test]
    fn a_multi_objective_study_is_enumerated_too() {
        let study = Study::new(StudyConfig {
            directions: vec![crate::Direction::Minimize, crate::Direction::Maximize],
            ..Default::default()
        })
        .with_sampler(BruteForceSampler::new());
        study
            .optimize(
                |t| {
                    let i = t.suggest_int("i", 0, 3)?;
                    let c: &str = t.suggest_categorical("c", &["a", "b"])?;
                    let f = if c == "a" { 1.0 } else { 2.0 };
                    Ok::<_, Error>(vec![i as f64 * f, f])
                },
                100,
                1,
            )
            .unwrap();
        assert_eq!(study.trials().len(), 8);
        assert!(!study.best_trials().unwrap().is_empty());
    }

    #[test]
    fn a_grid_of_ints_and_stepped_floats_is_enumerated() {
        let objective = |t: &mut Trial<'_>| {
            let i = t.suggest_int_step("i", 0, 10, 5)?;
            let x = t.suggest_float_step("x", 0.0, 0.3, 0.1)?;
            let b: bool = t.suggest_categorical("b", &[true, false])?;
            Ok::<_, Error>(i as f64 + x + f64::from(u8::from(b)))
        };
        let seen = |study: &Study| -> (usize, usize) {
            let trials = study.trials();
            let seen: BTreeSet<String> = trials.iter().map(|t| format!("{:?}", t.params)).collect();
            (seen.len(), trials.len())
        };
        // One thread: every combination exactly once.
        let study = Study::new(StudyConfig::default()).with_sampler(BruteForceSampler::new());
        study.optimize(objective, 1000, 1).unwrap();
        assert_eq!(seen(&study), (3 * 4 * 2, 3 * 4 * 2));
        // Two threads: by default a running trial that has suggested only
        // `i` so far counts its whole branch as tried (Optuna's
        // `avoid_premature_stop=False`), so the study may stop a combination
        // short; the strict search covers all, each at most twice (once per
        // thread running it).
        let study = Study::new(StudyConfig::default())
            .with_sampler(BruteForceSampler::new().avoid_premature_stop(true));
        study.optimize(objective, 1000, 2).unwrap();
        let (distinct, trials) = seen(&study);
        assert_eq!(distinct, 3 * 4 * 2);
        assert!(trials <= 2 * 3 * 4 * 2, "{trials}");
    }

    #[test]
    fn avoiding_a_premature_stop_waits_for_running_trials() {
        let f = |t: &mut Trial<'_>| Ok::<_, Error>(t.suggest_int("k", 0, 1)? as f64);
        for (avoid, stops) in [(false, true), (true, false)] {
            let study = Study::new(StudyConfig::default())
                .with_sampler(BruteForceSampler::new().avoid_premature_stop(avoid));
            let mut running = study.ask().unwrap();
            let k = running.suggest_int("k", 0, 1).unwrap();
            // The other value, while `k` is still running.
            study.optimize(f, 5, 1).unwrap();
            let done = study
                .trials()
                .iter()
                .filter(|t| t.state.is_finished())
                .count();
            assert_eq!(done == 1, stops, "avoid {avoid}: {done} finished");
            study.tell(running, Ok::<_, Error>(k as f64)).unwrap();
        }
    }

    #[test]
    fn a_continuous_float_is_a_typed_error() {
        let study = Study::new(StudyConfig::default()).with_sampler(BruteForceSampler::new());
        let mut t = study.ask().unwrap();
        let err = t.suggest_float("x", 0.0, 1.0).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Arg(descent_core::ArgError {
                    name: "distribution",
                    ..
                })
            ),
            "{err}"
        );
    }

    #[test]
    fn after_the_stop_a_new_run_draws_from_the_whole_space() {
        let study = Study::new(StudyConfig::default()).with_sampler(BruteForceSampler::new());
        let f = |t: &mut Trial<'_>| Ok::<_, Error>(t.suggest_int("k", 0, 2)? as f64);
        study.optimize(f, 10, 1).unwrap();
        assert_eq!(study.trials().len(), 3);
        study.optimize(f, 10, 1).unwrap();
        // Exhausted: the next trial draws any value and the study stops again.
        assert_eq!(study.trials().len(), 4);
    }
}
