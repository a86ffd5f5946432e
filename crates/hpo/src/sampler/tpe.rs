//! Tree-structured Parzen Estimator (Bergstra et al. 2011), one parameter at a
//! time, through the `tpe` crate.

use super::{RandomSampler, SampleContext, Sampler};
use crate::{Distribution, Error, ParamValue, Result, TrialState};
use rand_chacha::ChaCha8Rng;

/// Arguments of [`TpeSampler`]; `Default` is Optuna's `TPESampler` where the
/// two agree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TpeConfig {
    /// Trials sampled at random before TPE takes over (default 10, as Optuna).
    pub n_startup_trials: usize,
    /// Candidates drawn from the good density, the one maximizing l(x)/g(x)
    /// wins (default 24, as Optuna).
    pub n_ei_candidates: usize,
    /// Fraction of observations counted as good: the best `ceil(gamma · n)`
    /// (default 0.1; Optuna also caps the count at 25).
    pub gamma: f64,
}

impl Default for TpeConfig {
    fn default() -> Self {
        TpeConfig {
            n_startup_trials: 10,
            n_ei_candidates: 24,
            gamma: 0.1,
        }
    }
}

/// Independent TPE: for each parameter, a Parzen estimator (a histogram for
/// categorical ones) of the good and of the other completed trials, in the
/// unit space of [`Distribution::to_unit`] (so log parameters are modelled in log space).
///
/// # Examples
///
/// ```
/// use descent_hpo::{Study, StudyConfig, TpeConfig, TpeSampler};
///
/// let study = Study::new(StudyConfig::default()).with_sampler(TpeSampler::new(TpeConfig::default())?);
/// study.optimize(|t| Ok::<_, descent_hpo::Error>((t.suggest_float("x", -5.0, 5.0)? - 1.0).powi(2)), 40, 1)?;
/// assert!(study.best_trial()?.value.unwrap() < 0.5);
/// # Ok::<(), descent_hpo::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct TpeSampler {
    config: TpeConfig,
}

impl TpeSampler {
    /// A TPE sampler; `gamma` must lie in `(0, 1]` and `n_ei_candidates` be positive.
    pub fn new(config: TpeConfig) -> Result<Self> {
        if !(config.gamma > 0.0 && config.gamma <= 1.0) {
            return Err(Error::config("gamma", config.gamma, "must lie in (0, 1]"));
        }
        if config.n_ei_candidates == 0 {
            return Err(Error::config("n_ei_candidates", 0, "must be > 0"));
        }
        Ok(TpeSampler { config })
    }
}

fn tpe_error(e: impl std::fmt::Display) -> Error {
    Error::config("tpe", e, "the tpe crate rejected an observation")
}

impl Sampler for TpeSampler {
    fn sample(
        &self,
        ctx: &SampleContext<'_>,
        name: &str,
        distribution: &Distribution,
        rng: &mut ChaCha8Rng,
    ) -> Result<ParamValue> {
        let observed: Vec<(&ParamValue, f64)> = ctx
            .trials
            .iter()
            .filter(|t| t.state == TrialState::Complete)
            .filter(|t| t.distributions.get(name) == Some(distribution))
            .filter_map(|t| Some((t.params.get(name)?, ctx.direction.as_loss(t.value?))))
            .collect();
        if observed.len() < self.config.n_startup_trials.max(1) {
            return RandomSampler.sample(ctx, name, distribution, rng);
        }
        let mut builder = tpe::TpeOptimizerBuilder::new();
        builder
            .gamma(self.config.gamma)
            .candidates(self.config.n_ei_candidates);
        if let Distribution::Categorical { choices } = distribution {
            let range = tpe::categorical_range(choices.len()).map_err(tpe_error)?;
            let mut opt = builder
                .build(tpe::histogram_estimator(), range)
                .map_err(tpe_error)?;
            for (v, loss) in observed {
                let idx = choices.iter().position(|c| c == v).unwrap_or(0);
                opt.tell(idx as f64, loss).map_err(tpe_error)?;
            }
            let idx = opt.ask(rng).map_err(tpe_error)? as usize;
            return Ok(choices[idx.min(choices.len() - 1)].clone());
        }
        let range = tpe::range(0.0, 1.0).map_err(tpe_error)?;
        let mut opt = builder
            .build(tpe::parzen_estimator(), range)
            .map_err(tpe_error)?;
        for (v, loss) in observed {
            if let Some(u) = distribution.to_unit(v) {
                opt.tell(u, loss).map_err(tpe_error)?;
            }
        }
        Ok(distribution.from_unit(opt.ask(rng).map_err(tpe_error)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Study, StudyConfig};

    fn best_of(sampler_is_tpe: bool, seed: u64) -> f64 {
        let study = Study::new(StudyConfig {
            seed,
            ..Default::default()
        });
        let study = if sampler_is_tpe {
            study.with_sampler(TpeSampler::new(TpeConfig::default()).unwrap())
        } else {
            study.with_sampler(RandomSampler)
        };
        study
            .optimize(
                |t| {
                    let x = t.suggest_float("x", -10.0, 10.0)?;
                    let lr = t.suggest_float_log("lr", 1e-6, 1.0)?;
                    let opt: &str = t.suggest_categorical("opt", &["sgd", "adam", "rmsprop"])?;
                    let penalty = if opt == "adam" { 0.0 } else { 1.0 };
                    Ok::<_, Error>((x - 3.0).powi(2) + (lr.log10() + 3.0).powi(2) + penalty)
                },
                60,
                1,
            )
            .unwrap();
        study.best_trial().unwrap().value.unwrap()
    }

    #[test]
    fn tpe_beats_random_search_on_a_smooth_objective_at_most_seeds() {
        let wins = (0..20)
            .filter(|&s| best_of(true, s) < best_of(false, s))
            .count();
        eprintln!("tpe won {wins} of 20");
        assert!(wins >= 14, "tpe won {wins} of 20");
    }

    #[test]
    fn tpe_rejects_a_gamma_outside_the_unit_interval() {
        let cfg = TpeConfig {
            gamma: 0.0,
            ..Default::default()
        };
        assert!(matches!(
            TpeSampler::new(cfg),
            Err(Error::InvalidConfig { name: "gamma", .. })
        ));
    }
}
