//! The `Sampler` trait: how a trial's next value is drawn.

mod brute_force;
mod cmaes;
mod grid;
mod nsgaii;
mod partial_fixed;
mod random;
mod sobol;
mod tpe;

pub use brute_force::BruteForceSampler;
pub use cmaes::{CmaEsConfig, CmaEsSampler, RestartStrategy};
pub use grid::GridSampler;
pub use nsgaii::{ConstraintsFn, Crossover, GENERATION_KEY, NsgaIIConfig, NsgaIISampler};
pub use partial_fixed::PartialFixedSampler;
pub use random::RandomSampler;
pub use sobol::SobolSampler;
pub use tpe::{Gamma, TpeConfig, TpeSampler, Weights};

use crate::{Direction, Distribution, FrozenTrial, ParamValue, Result};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// What a sampler may look at when it draws a value.
#[derive(Debug, Clone, Copy)]
pub struct SampleContext<'a> {
    /// The study's trials: finished ones and those running, in number order.
    pub trials: &'a [FrozenTrial],
    /// The trial being sampled, as recorded so far (its attrs, its params).
    pub trial: &'a FrozenTrial,
    /// The study's direction (of its first objective in a multi-objective study).
    pub direction: Direction,
    /// The direction of each objective (one for a single-objective study).
    pub directions: &'a [Direction],
    /// The seed of the draws: the sampler's own, else the study's.
    pub seed: u64,
}

/// What [`Sampler::sample_relative`] drew for a trial: values for several
/// parameters at once, and attributes to record on the trial while it runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RelativeSample {
    /// Jointly drawn values by parameter name; a trial takes one when it
    /// suggests that name with a distribution containing it.
    pub params: BTreeMap<String, ParamValue>,
    /// Attributes the trial records (and publishes to the storage) at once,
    /// so that other workers see the draw (TPE's constant liar).
    pub attrs: BTreeMap<String, serde_json::Value>,
}

/// Draws hyperparameter values (Optuna's `BaseSampler`): jointly through
/// [`Sampler::sample_relative`], then one at a time through [`Sampler::sample`].
///
/// The RNG passed in belongs to the trial: it is seeded from the study's seed
/// on the trial's own stream, so a trial's draws do not depend on thread timing.
pub trait Sampler: Send + Sync {
    /// The value of parameter `name` of `ctx.trial`.
    fn sample(
        &self,
        ctx: &SampleContext<'_>,
        name: &str,
        distribution: &Distribution,
        rng: &mut ChaCha8Rng,
    ) -> Result<ParamValue>;

    /// Values drawn jointly for a trial (Optuna's `infer_relative_search_space`
    /// and `sample_relative`), asked once, when the trial suggests its first
    /// parameter; parameters it does not cover go through [`Sampler::sample`].
    /// The default draws nothing.
    fn sample_relative(
        &self,
        ctx: &SampleContext<'_>,
        rng: &mut ChaCha8Rng,
    ) -> Result<RelativeSample> {
        let _ = (ctx, rng);
        Ok(RelativeSample::default())
    }

    /// The sampler's own seed, which then replaces the study's for its
    /// draws (Optuna's `seed=` argument of a sampler); `None` by default.
    fn seed(&self) -> Option<u64> {
        None
    }

    /// This sampler with its own seed (Optuna's `TPESampler(seed=…)`,
    /// `RandomSampler(seed=…)`): trial `n` draws from stream `n` of `seed`,
    /// whatever the study's seed.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_hpo::{RandomSampler, Sampler, Study, StudyConfig};
    ///
    /// let draw = |study_seed| {
    ///     let study = Study::new(StudyConfig { seed: study_seed, ..Default::default() })
    ///         .with_sampler(RandomSampler.with_seed(7));
    ///     study.ask()?.suggest_float("x", 0.0, 1.0)
    /// };
    /// assert_eq!(draw(1)?, draw(2)?);
    /// # Ok::<(), descent_hpo::Error>(())
    /// ```
    fn with_seed(self, seed: u64) -> Seeded<Self>
    where
        Self: Sized,
    {
        Seeded { inner: self, seed }
    }

    /// Called once when a trial starts, under the study's lock, to record
    /// bookkeeping in `trial.attrs` (a grid point, say); the default does nothing.
    fn before_trial(&self, trials: &[FrozenTrial], trial: &mut FrozenTrial) -> Result<()> {
        let _ = (trials, trial);
        Ok(())
    }

    /// Called when `trial` has been recorded as finished (`trials` includes
    /// it): whether the search is over, in which case the study stops
    /// starting trials as [`crate::Study::stop`] does (Optuna's `after_trial`
    /// calling `study.stop()`, as its `BruteForceSampler` does). The default says no.
    fn exhausted(&self, trials: &[FrozenTrial], trial: &FrozenTrial) -> bool {
        let _ = (trials, trial);
        false
    }
    /// Whether the sampler can run a multi-objective study (it reads
    /// [`FrozenTrial::objective_values`] and [`SampleContext::directions`]);
    /// `false` by default, and a multi-objective study refuses to ask a
    /// trial of such a sampler rather than optimize its first objective only.
    fn supports_multi_objective(&self) -> bool {
        false
    }

    /// Called once a trial is finished (its state and values set), under
    /// the study's lock and before it is written to the storage, to record
    /// what the sampler needs in `trial.attrs` (Optuna's `after_trial`:
    /// NSGA-II's constraint values); the default does nothing.
    fn after_trial(&self, trials: &[FrozenTrial], trial: &mut FrozenTrial) -> Result<()> {
        let _ = (trials, trial);
        Ok(())
    }
}

/// A sampler with a seed of its own, made by [`Sampler::with_seed`].
#[derive(Debug, Clone)]
pub struct Seeded<S> {
    inner: S,
    seed: u64,
}

impl<S: Sampler> Sampler for Seeded<S> {
    fn sample(
        &self,
        ctx: &SampleContext<'_>,
        name: &str,
        distribution: &Distribution,
        rng: &mut ChaCha8Rng,
    ) -> Result<ParamValue> {
        self.inner.sample(ctx, name, distribution, rng)
    }

    fn sample_relative(
        &self,
        ctx: &SampleContext<'_>,
        rng: &mut ChaCha8Rng,
    ) -> Result<RelativeSample> {
        self.inner.sample_relative(ctx, rng)
    }

    fn seed(&self) -> Option<u64> {
        Some(self.seed)
    }

    fn before_trial(&self, trials: &[FrozenTrial], trial: &mut FrozenTrial) -> Result<()> {
        self.inner.before_trial(trials, trial)
    }

    fn exhausted(&self, trials: &[FrozenTrial], trial: &FrozenTrial) -> bool {
        self.inner.exhausted(trials, trial)
    }

    fn supports_multi_objective(&self) -> bool {
        self.inner.supports_multi_objective()
    }

    fn after_trial(&self, trials: &[FrozenTrial], trial: &mut FrozenTrial) -> Result<()> {
        self.inner.after_trial(trials, trial)
    }
}

impl<S: Sampler + ?Sized> Sampler for Box<S> {
    fn sample(
        &self,
        ctx: &SampleContext<'_>,
        name: &str,
        distribution: &Distribution,
        rng: &mut ChaCha8Rng,
    ) -> Result<ParamValue> {
        (**self).sample(ctx, name, distribution, rng)
    }

    fn sample_relative(
        &self,
        ctx: &SampleContext<'_>,
        rng: &mut ChaCha8Rng,
    ) -> Result<RelativeSample> {
        (**self).sample_relative(ctx, rng)
    }

    fn seed(&self) -> Option<u64> {
        (**self).seed()
    }

    fn before_trial(&self, trials: &[FrozenTrial], trial: &mut FrozenTrial) -> Result<()> {
        (**self).before_trial(trials, trial)
    }

    fn exhausted(&self, trials: &[FrozenTrial], trial: &FrozenTrial) -> bool {
        (**self).exhausted(trials, trial)
    }

    fn supports_multi_objective(&self) -> bool {
        (**self).supports_multi_objective()
    }

    fn after_trial(&self, trials: &[FrozenTrial], trial: &mut FrozenTrial) -> Result<()> {
        (**self).after_trial(trials, trial)
    }
}
