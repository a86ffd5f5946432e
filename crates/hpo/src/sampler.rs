//! The `Sampler` trait: how a trial's next value is drawn.

mod grid;
mod random;
mod sobol;
mod tpe;

pub use grid::GridSampler;
pub use random::RandomSampler;
pub use sobol::SobolSampler;
pub use tpe::{TpeConfig, TpeSampler};

use crate::{Direction, Distribution, FrozenTrial, ParamValue, Result};
use rand_chacha::ChaCha8Rng;

/// What a sampler may look at when it draws a value.
#[derive(Debug, Clone, Copy)]
pub struct SampleContext<'a> {
    /// The study's trials: finished ones and those running, in number order.
    pub trials: &'a [FrozenTrial],
    /// The trial being sampled, as recorded so far (its attrs, its params).
    pub trial: &'a FrozenTrial,
    /// The study's direction.
    pub direction: Direction,
    /// The study's seed.
    pub seed: u64,
}

/// Draws hyperparameter values (Optuna's `BaseSampler`, independent sampling).
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

    /// Called once when a trial starts, under the study's lock, to record
    /// bookkeeping in `trial.attrs` (a grid point, say); the default does nothing.
    fn before_trial(&self, trials: &[FrozenTrial], trial: &mut FrozenTrial) -> Result<()> {
        let _ = (trials, trial);
        Ok(())
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

    fn before_trial(&self, trials: &[FrozenTrial], trial: &mut FrozenTrial) -> Result<()> {
        (**self).before_trial(trials, trial)
    }
}
