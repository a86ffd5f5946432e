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
