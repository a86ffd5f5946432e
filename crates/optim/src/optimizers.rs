//! PyTorch-named optimizers: each config validates PyTorch's arguments and
//! assembles a chain; none contains update math.
//!
//! Every chain has the same frame, built by one function for all of them:
//!
//! ```text
//! [scale(-1) if maximize] → [L2 / L1 term] → core stage(s) → [decoupled decay]
//!     → scale_by_learning_rate → [schedule-scaled decoupled decay]
//! ```
//!
//! where the bracketed stages are present according to `maximize` and the
//! [`WeightDecay`] chosen.

mod adabelief;
mod adadelta;
mod adafactor;
mod adagrad;
mod adam;
mod adamax;
mod asgd;
mod lamb;
mod lion;
mod muon;
mod nadam;
mod prodigy;
mod radam;
mod rmsprop;
mod rprop;
mod schedule_free;
mod sgd;
mod sophia;

pub use adabelief::{AdaBelief, AdaBeliefConfig, OptaxAdam, OptaxAdamConfig, Yogi, YogiConfig};
pub use adadelta::{Adadelta, AdadeltaConfig};
pub use adafactor::{Adafactor, AdafactorConfig};
pub use adagrad::{Adagrad, AdagradConfig};
pub use adam::{Adam, AdamConfig, AdamW, AdamWConfig};
pub use adamax::{Adamax, AdamaxConfig};
pub use asgd::{Asgd, AsgdConfig};
pub use lamb::{Lamb, LambConfig, Lars, LarsConfig, NovoGrad, NovoGradConfig};
pub use lion::{Lion, LionConfig};
pub use muon::{Muon, MuonConfig};
pub use nadam::{NAdam, NAdamConfig};
pub use prodigy::{Prodigy, ProdigyConfig};
pub use radam::{RAdam, RAdamConfig};
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use rprop::{Rprop, RpropConfig};
pub use schedule_free::{
    Lookahead, LookaheadConfig, ScheduleFreeAdamW, ScheduleFreeAdamWConfig, ScheduleFreeSgd,
    ScheduleFreeSgdConfig,
};
pub use sgd::{Sgd, SgdConfig};
pub use sophia::{Sophia, SophiaConfig};

use crate::check;
use crate::error::Result;
use crate::optimizer::Optimizer;
use crate::transform::{
    AddDecayedWeights, AddL1Decay, AddScheduledWeightDecay, BlockTransform, Chain, Scale,
    ScaleByLearningRate, add_decayed_weights, add_l1_decay, add_scheduled_weight_decay, chain,
    scale, scale_by_learning_rate,
};
use descent_core::Selector;
use descent_core::{Params, Scalar};
use serde::{Deserialize, Serialize};

/// The one weight-decay abstraction shared by every optimizer.
///
/// # Examples
///
/// ```
/// use descent_optim::WeightDecay;
///
/// // PyTorch's `Adam(weight_decay=0.01)` and `AdamW(weight_decay=0.01)`:
/// let adam = WeightDecay::L2(0.01);
/// let adamw = WeightDecay::Decoupled(0.01);
/// assert_ne!(adam, adamw);
/// assert_eq!(WeightDecay::default(), WeightDecay::None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum WeightDecay {
    /// No decay.
    #[default]
    None,
    /// `λ·p` added to the gradient before the optimizer's own scaling
    /// (PyTorch's `weight_decay` for SGD, Adam, RMSprop, ...).
    L2(f64),
    /// Decoupled and scaled by the learning rate: `p ← p − lr·λ·p` (PyTorch AdamW).
    Decoupled(f64),
    /// Decoupled and scaled only by the multiplier η_t:
    /// `p ← p − η_t·λ·p` (Loshchilov & Hutter's original AdamW). η_t is the
    /// optimizer's learning-rate multiplier ([`Optimizer::set_lr_multiplier`],
    /// 1 without one): for their form give the rate as a value α and the
    /// schedule as a multiplier, so the step is `α·η_t`; an absolute-rate
    /// schedule (`set_lr_schedule`) leaves η_t at 1.
    DecoupledSchedule(f64),
    /// `λ·sign(p)` added to the gradient, the subgradient of `λ‖p‖₁` (0 at 0).
    L1(f64),
}

impl WeightDecay {
    /// Checks the coefficient is finite and non-negative.
    pub fn validate(&self) -> Result<()> {
        match *self {
            WeightDecay::None => Ok(()),
            WeightDecay::L2(l)
            | WeightDecay::Decoupled(l)
            | WeightDecay::DecoupledSchedule(l)
            | WeightDecay::L1(l) => check::weight_decay(l),
        }
    }

    /// PyTorch's `weight_decay`/`decoupled_weight_decay` pair (0 means none).
    pub fn from_torch(weight_decay: f64, decoupled: bool) -> WeightDecay {
        match (weight_decay == 0.0, decoupled) {
            (true, _) => WeightDecay::None,
            (false, false) => WeightDecay::L2(weight_decay),
            (false, true) => WeightDecay::Decoupled(weight_decay),
        }
    }
}

/// The chain every PyTorch-named optimizer assembles around its core stage `I`.
pub type Framed<I> = Chain<(
    Option<Scale>,
    Option<AddDecayedWeights>,
    Option<AddL1Decay>,
    I,
    Option<AddDecayedWeights>,
    ScaleByLearningRate,
    Option<AddScheduledWeightDecay>,
)>;

/// Frames a core stage with maximization, weight decay and the learning rate.
pub fn framed<I>(maximize: bool, decay: WeightDecay, core: I) -> Framed<I> {
    let (l2, l1, dec, sched) = match decay {
        WeightDecay::None => (None, None, None, None),
        WeightDecay::L2(l) => (Some(l), None, None, None),
        WeightDecay::L1(l) => (None, Some(l), None, None),
        WeightDecay::Decoupled(l) => (None, None, Some(l), None),
        WeightDecay::DecoupledSchedule(l) => (None, None, None, Some(l)),
    };
    chain((
        maximize.then(|| scale(-1.0)),
        l2.map(add_decayed_weights),
        l1.map(add_l1_decay),
        core,
        dec.map(add_decayed_weights),
        scale_by_learning_rate(),
        sched.map(add_scheduled_weight_decay),
    ))
}

/// A PyTorch-style optimizer configuration: validated arguments that assemble a chain.
pub trait OptimizerConfig: Clone {
    /// The chain this configuration assembles.
    type Transform: Send + Sync + 'static;

    /// The learning rate.
    fn lr(&self) -> f64;

    /// Checks every argument against PyTorch's (and a few stricter) ranges.
    fn validate(&self) -> Result<()>;

    /// The chain, without the learning rate's value (read from the optimizer).
    fn transform(&self) -> Self::Transform;
}

/// Builds an optimizer with one group per `(selector, config)`; each
/// parameter goes to the first group that selects it.
pub fn with_groups<S: Scalar, C: OptimizerConfig>(
    params: &Params<S>,
    groups: &[(Selector, C)],
) -> Result<Optimizer<S>>
where
    C::Transform: BlockTransform<S>,
{
    let mut builder = Optimizer::builder(params);
    for (selector, cfg) in groups {
        cfg.validate()?;
        builder = builder.group(selector, cfg.lr(), cfg.transform())?;
    }
    builder.build()
}

/// Declares the `new` and `with_groups` constructors of a PyTorch-named
/// optimizer, and its config's `build` (the same optimizer, read as
/// `AdamConfig { .. }.build(&store)`).
macro_rules! optimizer_constructors {
    ($name:ident, $cfg:ident) => {
        // `Sgd::new` returns the assembled `Optimizer`, not an `Sgd`: the
        // PyTorch-named types are only constructors (STYLE: they assemble chains).
        #[allow(clippy::new_ret_no_self)]
        impl $name {
            /// One group over every parameter (`params` is usually `&store`).
            ///
            /// Deprecated: the config builds its optimizer,
            #[doc = concat!("`", stringify!($cfg), " { .. }.build(&store)`.")]
            #[deprecated(note = "use the config's build: `FooConfig { .. }.build(&store)` for `Foo::new(&store, FooConfig { .. })`")]
            pub fn new<S: descent_core::Scalar>(
                params: &descent_core::Params<S>,
                config: $cfg,
            ) -> $crate::Result<$crate::Optimizer<S>> {
                config.build(params)
            }

            /// Several groups, each with its own arguments; each parameter
            /// goes to the first group that selects it.
            pub fn with_groups<S: descent_core::Scalar>(
                params: &descent_core::Params<S>,
                groups: &[($crate::Selector, $cfg)],
            ) -> $crate::Result<$crate::Optimizer<S>> {
                $crate::optimizers::with_groups(params, groups)
            }
        }

        impl $cfg {
            #[doc = concat!(
                        "The optimizer these arguments describe, one group over every parameter: ",
                        "the same as [`", stringify!($name), "::with_groups`] with one group ",
                        "selecting every parameter."
                    )]
            pub fn build<S: descent_core::Scalar>(
                self,
                params: &descent_core::Params<S>,
            ) -> $crate::Result<$crate::Optimizer<S>> {
                $name::with_groups(params, &[($crate::Selector::All, self)])
            }
        }
    };
}
pub(crate) use optimizer_constructors;
