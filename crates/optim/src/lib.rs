//! Optimizers as chains of small gradient transforms, in the optax style,
//! with PyTorch's names, defaults and update rules.
//!
//! - [`transform`]: the stages (`scale_by_adam`, `trace`, `add_decayed_weights`,
//!   `clip_by_global_norm`, `scale_by_learning_rate`, `masked`, ...) and [`transform::chain`].
//! - [`Optimizer`]: parameter groups, each a chain with its state and learning
//!   rate, stepped over a `ParamStore`; state saves and restores through serde.
//!   A group's rate is an [`LrSource`]: a value, a schedule of absolute rates
//!   (any `descent-schedule` schedule, used as it is), or a plateau schedule;
//!   one optional multiplier (η_t) scales every group's rate. A group's
//!   momentum (`momentum` or β₁) is settable, saved and schedulable on the
//!   running optimizer ([`HyperSource`]; OneCycleLR's momentum cycling).
//! - PyTorch-named constructors that only assemble chains: [`Sgd`], [`Adagrad`],
//!   [`RmsProp`], [`Adam`], [`AdamW`], [`NAdam`], [`RAdam`], [`Adamax`],
//!   [`Adadelta`], and [`Lion`]; [`WeightDecay`] is the one decay abstraction they share.
//! - PyTorch 2.15's newer optimizers: [`Rprop`], [`Asgd`] (its average through
//!   [`Optimizer::eval_params`]), [`Adafactor`] and [`Muon`] (matrices; with
//!   AdamW for the rest through [`Muon::with_adamw`]), and [`Lbfgs`], which
//!   is closure-based (each step re-evaluates the loss and gradient).
//! - [`clip_grad_norm`] and [`clip_grad_value`]: PyTorch's free clipping functions.
//! - [`Sam`]: sharpness-aware minimization around any optimizer (Foret et al. 2021).
//! - [`ParamGroups`]: group policies (no decay on biases and norms, timm's
//!   layer-wise lr decay, a schedule per group) and the [`WeightDecayReport`].
//!
//! # One pass over memory
//!
//! A stage is written as a kernel over one block of one tensor
//! ([`BlockTransform`]). A chain pushes each block of [`BLOCK`] (512) elements through
//! all its stages and into the parameter while it is in cache, so chained
//! Adam reads `p, g, m, v` and writes `p, m, v` once, the bandwidth floor.
//! Above a size threshold ([`Parallelism`]) the blocks are split into
//! pieces run on descent's thread pool. A stage that needs a global reduction of its input
//! (clipping by global norm) costs one extra read of the gradients; placed
//! after other stages, it makes the chain apply those first into a workspace.
//! Every stage also implements core's `GradientTransform`, which rewrites
//! gradients in place, so transforms compose with code outside this crate.
//!
//! # Code map
//!
//! Start with `transform.rs` (what a stage is), then `walk.rs` (how a step
//! runs) and `optimizer.rs` (what a user holds).
//!
//! - `transform.rs`: [`BlockTransform`]; `transform/<stage>.rs` one stage each
//!   (`scale_by_adam`, `trace`, `scale_by_rms`, `add_decayed_weights`,
//!   `clip_by_global_norm`, `masked`, ...); `transform/chain.rs` fuses a tuple
//!   of stages; `transform/stage.rs` is the short way to write one
//!   (`ElementRule`, `ElementStage`, `map_elements`); `transform/unfused.rs`
//!   lets any core `GradientTransform` with serializable state in.
//! - Wrappers: `transform/{multi_steps,apply_if_finite,adaptive_grad_clip}.rs`
//!   (optax), `transform/{lookahead,schedule_free}.rs` (around a whole inner
//!   chain, keeping a second set of weights).
//! - optax 0.2.8's stages: `transform/{optax_adam,optax_rms,yogi,novograd,trust_ratio,prodigy,sophia}.rs`
//!   (each keeps its per-element math in one function), sharing
//!   `transform/per_tensor.rs`; their optimizers, assembled as optax's aliases
//!   chain them with optax's names and defaults, are
//!   `optimizers/{adabelief,lamb,schedule_free,prodigy,sophia}.rs`
//!   (`AdaBelief`, `Yogi`, `OptaxAdam`; `Lamb`, `Lars`, `NovoGrad`;
//!   `Lookahead`, `ScheduleFreeSgd`, `ScheduleFreeAdamW`; `Prodigy`; `Sophia`).
//! - PyTorch 2.15's newer stages: `transform/{rprop,asgd,adafactor,muon}.rs`;
//!   `lbfgs.rs` (+ `lbfgs/line_search.rs`) is L-BFGS outside the chain machinery.
//! - `walk.rs`: the only code that walks a store (block size, threading, and
//!   the timings behind them); `buf.rs`: the per-parameter state buffers.
//! - `optimizer.rs`: [`Optimizer`] (groups, the lr multiplier, `step`);
//!   `optimizer/source.rs` ([`LrSource`], [`HyperSource`]),
//!   `optimizer/momentum.rs`, `optimizer/hyper.rs` (driven hyperparameters),
//!   `optimizer/state.rs` (serde save/restore), `optimizer/runner.rs` (a chain
//!   bound to its state behind a trait object).
//! - `optimizers.rs` + `optimizers/*.rs`: the PyTorch-named configs
//!   (`SgdConfig`, `AdamWConfig`, ...), which validate arguments and assemble
//!   chains through one `framed` function, with no update math.
//! - `clip.rs`, `sam.rs`, `groups.rs` (+ `groups/report.rs`), `float.rs`
//!   (lossless serde of state floats), `error.rs`.
//!
//! Dependencies: `descent-core`, and `descent-schedule` only for the plateau
//! schedule a group's rate may follow; never the tape.
//!
//! Testing: golden parity in `tests/parity.rs` (PyTorch files) and
//! `tests/parity_optax.rs` (optax), the contract table in `tests/contract.rs`,
//! schedules driving a running SGD in `tests/scheduled_golden.rs`, argument
//! checks in `tests/optax_args.rs`; properties sit beside the code they protect.
//!
//! # Examples
//!
//! ```
//! use descent_core::{ParamStore, Tags};
//! use descent_optim::{AdamW, AdamWConfig, Selector};
//! use nalgebra::DMatrix;
//!
//! let mut store = ParamStore::<f32>::new();
//! let w = store.register("fc.weight", Tags::WEIGHT, DMatrix::from_element(4, 3, 0.5))?;
//! let b = store.register("fc.bias", Tags::BIAS, DMatrix::from_element(1, 4, 0.5))?;
//! // No weight decay on biases and norm parameters.
//! let decay = AdamWConfig { lr: 1e-2, ..AdamWConfig::default() };
//! let no_decay = AdamWConfig { weight_decay: descent_optim::WeightDecay::None, ..decay };
//! let mut opt = AdamW::with_groups(&store, &[
//!     (Selector::tags(Tags::BIAS | Tags::NORM), no_decay),
//!     (Selector::All, decay),
//! ])?;
//! opt.step(&mut store)?; // zero gradients: only the decay moves the weights
//! assert!(store.value(w)[0] < 0.5);
//! assert_eq!(store.value(b)[0], 0.5);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod buf;
mod check;
mod clip;
mod error;
mod float;
mod groups;
mod lbfgs;
mod optimizer;
pub mod optimizers;
mod sam;
pub mod transform;
mod walk;

#[cfg(test)]
mod testing;

/// The old name of [`SplitAt`] (renamed so that `Split` is only
/// `descent_data`'s train/test split); kept for one release.
pub use buf::SplitAt as Split;
pub use buf::{Bufs, SplitAt};
pub use clip::{clip_grad_norm, clip_grad_value};
pub use descent_core::ArgError;
/// Selecting parameters by tag or name pattern (defined in `descent-core`).
pub use descent_core::Selector;
pub use error::{Error, Result};
pub use groups::{
    DecayConfig, DecayKind, DecayWarning, GroupReport, ParamGroup, ParamGroups, WeightDecayReport,
};
pub use lbfgs::{Lbfgs, LbfgsConfig, LbfgsState, LbfgsStep, LineSearch};
pub use optimizer::{
    GroupState, HyperSource, HyperState, LrSource, LrState, Optimizer, OptimizerBuilder,
    OptimizerState, SharedSchedule,
};
pub use optimizers::{
    AdaBelief, AdaBeliefConfig, Lamb, LambConfig, Lars, LarsConfig, Lookahead, LookaheadConfig,
    NovoGrad, NovoGradConfig, OptaxAdam, OptaxAdamConfig, Prodigy, ProdigyConfig,
    ScheduleFreeAdamW, ScheduleFreeAdamWConfig, ScheduleFreeSgd, ScheduleFreeSgdConfig, Sophia,
    SophiaConfig, Yogi, YogiConfig,
};
pub use optimizers::{
    Adadelta, AdadeltaConfig, Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, AdamWConfig, Adamax,
    AdamaxConfig, Lion, LionConfig, NAdam, NAdamConfig, OptimizerConfig, RAdam, RAdamConfig,
    RmsProp, RmsPropConfig, Sgd, SgdConfig, WeightDecay,
};
pub use optimizers::{
    Adafactor, AdafactorConfig, Asgd, AsgdConfig, Muon, MuonConfig, Rprop, RpropConfig,
};
pub use sam::{Sam, SamConfig, SamPerturbation};
pub use transform::{BlockTransform, Hyper, Mask, MomentumKind, OptionalState, Tensors};
pub use walk::{BLOCK, MIN_ELEMS_PER_THREAD, Parallelism, grad_norm};

/// The README, whose example runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
