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
//! # Code map
//!
//! Start with `study.rs` and `trial.rs` (what an objective sees), then
//! `sampler.rs`, `pruner.rs` and `storage.rs` (the three things a study is
//! made of).
//!
//! - `study.rs`: [`Study`] (a sampler, a pruner, a `Storage` and, behind one
//!   mutex, every trial by number; `ask`/`tell`, `optimize` on scoped threads
//!   plus a heartbeat thread when the storage wants one, `optimize_with` and
//!   `optimize_local` sharing one loop, `stop`, `best_trial`,
//!   `load_or_create(url, name, config)`); `table.rs`: `results_table`.
//! - `trial.rs`: [`Trial`]; `frozen.rs`: [`FrozenTrial`], the record samplers,
//!   pruners and storages see.
//! - `distribution.rs`: float, int and categorical distributions, checked once
//!   by `check` (low ≤ high, as Optuna), with the `from_unit`/`to_unit` maps
//!   from `[0, 1)` every sampler uses; `value.rs`: `ParamValues` (formerly
//!   `Config`); `space.rs`: `SearchSpace`, with conditions.
//! - `sampler/*.rs`: random, grid (claims the lowest unclaimed grid point in
//!   the trial's attrs), sobol (point `n` of `sobol_burley`'s Owen-scrambled
//!   sequence), tpe (+ `tpe/parzen.rs`, Optuna's `_ParzenEstimator`, and
//!   `tpe/truncnorm.rs`, a port of `_truncnorm.py`), cmaes (+ `cmaes/cma.rs`,
//!   the `cmaes` library's update; rebuilt by replaying the `cma:tell`
//!   attributes of complete trials), nsgaii (+ `nsgaii/crossover.rs`: uniform,
//!   SBX, BLX-α, SPX, UNDX, VSBX), partial_fixed, brute_force.
//! - `pruner/*.rs`: median (wrapping percentile), percentile, patient,
//!   threshold, wilcoxon (with `signed_rank.rs`, SciPy's
//!   `wilcoxon(zero_method="zsplit")`), halving (= ASHA), hyperband (ASHA
//!   brackets, trials spread by Hyperband's `n_s`); `plan.rs`: the papers'
//!   synchronous schedules.
//! - `storage.rs`: `Storage`, `MemoryStorage`, `copy_study`;
//!   `storage/journal.rs`: `JournalStorage`; `storage/rdb.rs` + `rdb/`:
//!   `RdbStorage` (`schema.rs` the tables, `ops.rs` the statements, `conn.rs`
//!   the connection, `codec.rs` Optuna's `distribution_json` and value
//!   columns, `population.rs` shared PBT).
//! - `multi.rs` + `multi/hypervolume.rs`: objective values, domination,
//!   constrained non-dominated sort, exact hypervolume (2-D sort, 3-D, WFG).
//! - `importance.rs` + `importance/{forest,fanova_tree,fanova,ped_anova}.rs`:
//!   a CART forest with scikit-learn's defaults, Optuna's fANOVA tree
//!   decomposition, PED-ANOVA.
//! - `pbt.rs` + `pbt/{explore,pool,shared}.rs`: population-based training;
//!   `resume.rs`: paused and resumed trials.
//!
//! Dependencies: `descent-core` (its `Direction`, re-exported), rand,
//! rand_chacha, thiserror, serde, serde_json, libm (erf/erfc for TPE's
//! truncated normals), `sobol_burley`, `indicatif`, and for the database
//! storage rusqlite (bundled SQLite), postgres and chrono; never the tape.
//!
//! Testing: properties and rules beside the code (bounds and round trips, a
//! KS test of log-uniform sampling, grid coverage, Sobol stratification,
//! Optuna's median and ASHA rules, Hyperband's Table 1, overflow-free
//! extremes). In `tests/`: `kill_resume.rs` SIGKILLs a child study and
//! resumes it; `journal_disk_full.rs` fills the disk with `RLIMIT_FSIZE`;
//! `rdb_workers.rs` runs 4 worker processes × 50 trials on SQLite and
//! PostgreSQL; `rdb_faults.rs` covers heartbeats, retries and a cut
//! PostgreSQL connection; `optuna_interop.rs` reads, continues and draws
//! studies with real Python Optuna; `.ci/hpo.sh` starts PostgreSQL and Optuna
//! for these and runs `cargo xtask soak hpo --kills 50` on both databases.
//! Every pruner decision in `tests/fixtures/optuna_pruners.json` equals Optuna
//! 5.0.0's, and the fixture is regenerated only by `tests/optuna_ref/pruners.py`;
//! TPE's Parzen estimator is checked against Optuna 5.0.0's `log_pdf` (values
//! printed by `tests/optuna_ref/parzen_logpdf.py`); CMA-ES against
//! `tests/cmaes_reference.json`. `examples/tpe_bench.{rs,py}` benchmark TPE
//! against Python Optuna (not in CI).
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
