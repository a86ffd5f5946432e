//! Hyperparameter optimization for descent: search spaces, samplers, pruners
//! and studies that survive a crash, with Optuna's semantics.
//!
//! A [`Study`] asks its [`Sampler`] for a configuration, runs the objective —
//! a closure from a [`Trial`] to a metric — and records the result; the
//! objective may [`Trial::report`] intermediate values (validation loss per
//! epoch) and stop when [`Trial::should_prune`] says its [`Pruner`] gave up on it.
//! Every finished trial is written to the study's [`Storage`] (an
//! append-only, fsynced [`JournalStorage`] file by default when persisted)
//! before the next one starts, so a killed study resumes with no finished
//! trial lost or repeated.
//!
//! - Samplers: [`RandomSampler`] (the default), [`GridSampler`],
//!   [`SobolSampler`] (quasi-random), [`TpeSampler`], [`CmaEsSampler`]
//!   (with IPOP/BIPOP restarts), [`PartialFixedSampler`], [`BruteForceSampler`].
//! - Pruners: [`MedianPruner`], [`PercentilePruner`], [`PatientPruner`],
//!   [`ThresholdPruner`], [`WilcoxonPruner`] (with [`wilcoxon_signed_rank`]),
//!   [`SuccessiveHalvingPruner`] (= [`AshaPruner`]), [`HyperbandPruner`];
//!   [`successive_halving`] and [`hyperband`] give the papers' synchronous schedules.
//! - Importance: [`get_param_importances`] with [`FanovaImportanceEvaluator`]
//!   or [`PedAnovaImportanceEvaluator`].
//!
//! # Examples
//!
//! ```
//! use descent_hpo::{MedianConfig, MedianPruner, Study, StudyConfig, Trial};
//!
//! let study = Study::new(StudyConfig::default()).with_pruner(MedianPruner::new(MedianConfig::default())?);
//! study.optimize(
//!     |trial: &mut Trial| {
//!         let lr = trial.suggest_float_log("lr", 1e-4, 1.0)?;
//!         let mut loss = 1.0;
//!         for epoch in 0..20 {
//!             loss *= 1.0 - lr.min(0.5);
//!             trial.report(epoch, loss);
//!             if trial.should_prune() {
//!                 break;
//!             }
//!         }
//!         Ok::<_, descent_hpo::Error>(loss)
//!     },
//!     30,
//!     1,
//! )?;
//! assert!(study.best_trial()?.params.f64("lr")? > 0.1);
//! # Ok::<(), descent_hpo::Error>(())
//! ```

mod distribution;
mod error;
mod frozen;
mod importance;
mod multi;
pub mod pbt;
mod plan;
mod pruner;
mod resume;
mod sampler;
mod signed_rank;
mod space;
mod storage;
mod study;
mod table;
mod trial;
mod value;

/// Whether a study minimizes or maximizes its objective: descent-core's one
/// [`Direction`], shared with early stopping and schedules.
pub use descent_core::Direction;
pub use distribution::Distribution;
pub use error::{Error, Result};
pub use frozen::{FrozenTrial, TrialState};
pub use importance::{
    FanovaConfig, FanovaImportanceEvaluator, ImportanceEvaluator, ImportanceInput, ParamImportance,
    PedAnovaConfig, PedAnovaImportanceEvaluator, Target, get_param_importances,
};
pub use multi::{
    ObjectiveValue, constraint_violation, dominates, hypervolume, is_pareto_front,
    non_dominated_sort, to_losses,
};
pub use pbt::{Member, Mutation, Pbt, PbtConfig, PbtResult};
pub use plan::{Bracket, Rung, hyperband, successive_halving};
pub use pruner::{
    AshaPruner, HyperbandConfig, HyperbandPruner, MedianConfig, MedianPruner, NopPruner,
    PruneContext, Pruner, SuccessiveHalvingConfig, SuccessiveHalvingPruner,
};
pub use pruner::{
    PatientPruner, PercentileConfig, PercentilePruner, ThresholdConfig, ThresholdPruner,
    WilcoxonConfig, WilcoxonPruner,
};
pub use resume::{CHECKPOINT_ATTR, PAUSED_ATTR, RESUMED_FROM_ATTR, TrialCheckpoint};
pub use sampler::{
    BruteForceSampler, CmaEsConfig, CmaEsSampler, PartialFixedSampler, RestartStrategy,
};
pub use sampler::{
    ConstraintsFn, Crossover, GENERATION_KEY, Gamma, GridSampler, NsgaIIConfig, NsgaIISampler,
    RandomSampler, RelativeSample, SampleContext, Sampler, Seeded, SobolSampler, TpeConfig,
    TpeSampler, Weights,
};
pub use signed_rank::{Alternative, wilcoxon_signed_rank};
pub use space::{Condition, SearchSpace};
pub use storage::{
    JournalStorage, LoadWarning, Loaded, MemoryStorage, OPTUNA_ALEMBIC_REVISION,
    OPTUNA_SCHEMA_VERSION, RdbConfig, RdbStorage, RetryConfig, Storage, copy_study,
};
pub use study::{Callback, OptimizeOptions, Study, StudyConfig};
pub use trial::Trial;
#[allow(deprecated)]
pub use value::Config;
pub use value::{ParamValue, ParamValues};

/// The README, whose example runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
