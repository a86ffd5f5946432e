//! Optuna's `PartialFixedSampler`: some parameters fixed, the rest sampled.

use super::{RelativeSample, SampleContext, Sampler};
use crate::{Distribution, Error, FrozenTrial, ParamValue, ParamValues, Result};
use rand_chacha::ChaCha8Rng;

/// Fixes some parameters to given values and lets `base` draw the others
/// (Optuna's `PartialFixedSampler(fixed_params, base_sampler)`).
///
/// The fixed parameters are left out of the base sampler's joint draw (its
/// relative search space), as in Optuna. Where Optuna warns and records a
/// fixed value that lies outside the distribution the objective suggests,
/// the suggestion here fails with [`Error::Arg`] naming
/// `fixed_params`: a trial never holds a value its distribution cannot
/// produce. An integer fixed for a float parameter is taken as that float,
/// and a whole float for an integer parameter as that integer.
///
/// # Examples
///
/// ```
/// use descent_hpo::{ParamValues, PartialFixedSampler, Study, StudyConfig, TpeConfig, TpeSampler};
///
/// let mut fixed = ParamValues::default();
/// fixed.insert("y", 0.0);
/// let sampler = PartialFixedSampler::new(fixed, TpeSampler::new(TpeConfig::default())?);
/// let study = Study::new(StudyConfig::default()).with_sampler(sampler);
/// study.optimize(
///     |t| Ok::<_, descent_hpo::Error>(t.suggest_float("x", -1.0, 1.0)?.powi(2) + t.suggest_float("y", -1.0, 1.0)?),
///     20,
///     1,
/// )?;
/// assert!(study.trials().iter().all(|t| t.params.f64("y").unwrap() == 0.0));
/// # Ok::<(), descent_hpo::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct PartialFixedSampler<S> {
    fixed: ParamValues,
    base: S,
}

impl<S: Sampler> PartialFixedSampler<S> {
    /// `base` with the parameters of `fixed` fixed to their values.
    pub fn new(fixed: ParamValues, base: S) -> Self {
        PartialFixedSampler { fixed, base }
    }

    /// The fixed parameters.
    pub fn fixed_params(&self) -> &ParamValues {
        &self.fixed
    }

    /// The value fixed for `name`, converted to `distribution`'s type.
    fn fixed_value(&self, name: &str, distribution: &Distribution) -> Option<Result<ParamValue>> {
        let value = self.fixed.get(name)?.clone();
        let value = match (distribution, value) {
            (Distribution::Float { .. }, ParamValue::Int(i)) => ParamValue::Float(i as f64),
            (Distribution::Int { .. }, ParamValue::Float(x))
                if x.fract() == 0.0 && x.abs() < 9.0e15 =>
            {
                ParamValue::Int(x as i64)
            }
            (_, v) => v,
        };
        Some(if distribution.contains(&value) {
            Ok(value)
        } else {
            Err(Error::config(
                "fixed_params",
                format!("{name}={value}"),
                "lies outside the distribution the objective suggests for it",
            ))
        })
    }
}

impl<S: Sampler> Sampler for PartialFixedSampler<S> {
    fn sample(
        &self,
        ctx: &SampleContext<'_>,
        name: &str,
        distribution: &Distribution,
        rng: &mut ChaCha8Rng,
    ) -> Result<ParamValue> {
        match self.fixed_value(name, distribution) {
            Some(value) => value,
            None => self.base.sample(ctx, name, distribution, rng),
        }
    }

    fn sample_relative(
        &self,
        ctx: &SampleContext<'_>,
        rng: &mut ChaCha8Rng,
    ) -> Result<RelativeSample> {
        if self.fixed.is_empty() {
            return self.base.sample_relative(ctx, rng);
        }
        // The base sampler's search space, less the fixed parameters.
        let trials: Vec<FrozenTrial> = ctx
            .trials
            .iter()
            .map(|t| {
                let mut t = t.clone();
                t.distributions.retain(|name, _| !self.fixed.contains(name));
                t
            })
            .collect();
        let inner = SampleContext {
            trials: &trials,
            ..*ctx
        };
        let mut sample = self.base.sample_relative(&inner, rng)?;
        sample.params.retain(|name, _| !self.fixed.contains(name));
        Ok(sample)
    }

    fn seed(&self) -> Option<u64> {
        self.base.seed()
    }

    fn before_trial(&self, trials: &[FrozenTrial], trial: &mut FrozenTrial) -> Result<()> {
        self.base.before_trial(trials, trial)
    }

    fn exhausted(&self, trials: &[FrozenTrial], trial: &FrozenTrial) -> bool {
        self.base.exhausted(trials, trial)
    }

    fn supports_multi_objective(&self) -> bool {
        self.base.supports_multi_objective()
    }

    fn after_trial(&self, trials: &[FrozenTrial], trial: &mut FrozenTrial) -> Result<()> {
        self.base.after_trial(trials, trial)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CmaEsConfig, CmaEsSampler, RandomSampler, Study, StudyConfig};

    #[test]
    fn a_multi_objective_base_sampler_runs_a_multi_objective_study() {
        use crate::{Direction, NsgaIIConfig, NsgaIISampler};
        let mut fixed = ParamValues::default();
        fixed.insert("y", 0.25);
        let base = NsgaIISampler::new(NsgaIIConfig {
            population_size: 4,
            ..NsgaIIConfig::default()
        })
        .unwrap();
        let study = Study::new(StudyConfig {
            directions: vec![Direction::Minimize, Direction::Minimize],
            ..StudyConfig::default()
        })
        .with_sampler(PartialFixedSampler::new(fixed, base));
        study
            .optimize(
                |t| {
                    let (x, y) = (
                        t.suggest_float("x", 0.0, 1.0)?,
                        t.suggest_float("y", 0.0, 1.0)?,
                    );
                    Ok::<_, Error>(vec![x + y, 1.0 - x + y])
                },
                12,
                1,
            )
            .unwrap();
        let trials = study.trials();
        assert_eq!(trials.len(), 12);
        assert!(trials.iter().all(|t| t.params.f64("y").unwrap() == 0.25));
        // NSGA-II's after_trial ran through the wrapper: generations are recorded
        assert!(
            trials
                .iter()
                .all(|t| t.attrs.contains_key(crate::GENERATION_KEY))
        );
    }

    #[test]
    fn fixed_parameters_keep_their_values_and_the_rest_are_sampled() {
        let mut fixed = ParamValues::default();
        fixed.insert("k", 3_i64);
        fixed.insert("lr", 1_i64); // an int for a float parameter
        let study = Study::new(StudyConfig {
            seed: 1,
            ..Default::default()
        })
        .with_sampler(PartialFixedSampler::new(fixed, RandomSampler));
        study
            .optimize(
                |t| {
                    let k = t.suggest_int("k", 0, 5)?;
                    let lr = t.suggest_float_log("lr", 1e-3, 10.0)?;
                    Ok::<_, Error>(k as f64 + lr + t.suggest_float("x", 0.0, 1.0)?)
                },
                10,
                1,
            )
            .unwrap();
        let trials = study.trials();
        assert!(trials.iter().all(|t| t.params.i64("k").unwrap() == 3));
        assert!(trials.iter().all(|t| t.params.f64("lr").unwrap() == 1.0));
        let xs: Vec<f64> = trials.iter().map(|t| t.params.f64("x").unwrap()).collect();
        assert!(xs.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn a_fixed_value_outside_its_distribution_is_a_typed_error() {
        let mut fixed = ParamValues::default();
        fixed.insert("x", 7.0);
        let study = Study::new(StudyConfig::default())
            .with_sampler(PartialFixedSampler::new(fixed, RandomSampler));
        let mut t = study.ask().unwrap();
        let err = t.suggest_float("x", 0.0, 1.0).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Arg(descent_core::ArgError {
                    name: "fixed_params",
                    ..
                })
            ),
            "{err}"
        );
    }

    #[test]
    fn the_base_samplers_joint_draw_leaves_out_the_fixed_parameters() {
        let mut fixed = ParamValues::default();
        fixed.insert("y", 0.5);
        let cma = CmaEsSampler::new(CmaEsConfig::default()).unwrap();
        let study = Study::new(StudyConfig {
            seed: 2,
            ..Default::default()
        })
        .with_sampler(PartialFixedSampler::new(fixed, cma));
        study
            .optimize(
                |t| {
                    let x = t.suggest_float("x", -1.0, 1.0)?;
                    let z = t.suggest_float("z", -1.0, 1.0)?;
                    Ok::<_, Error>(x * x + z * z + t.suggest_float("y", 0.0, 1.0)?)
                },
                12,
                1,
            )
            .unwrap();
        let last = study.trials().pop().unwrap();
        // CMA-ES ran over {x, z} only.
        assert_eq!(last.attrs["cma:dim"], serde_json::json!(2));
        assert_eq!(last.params.f64("y").unwrap(), 0.5);
    }
}
