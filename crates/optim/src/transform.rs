//! Gradient transforms: the small stages optimizers are chained from.
//!
//! Each stage implements [`BlockTransform`]: `init` builds its state,
//! `prepare` does the once-per-step scalar work (step counters, bias
//! corrections, a global norm) and `apply_block` is the element-wise kernel
//! on one cache-sized block. The walker in `walk` pushes every block of every
//! tensor through all stages of a [`chain`] and into the parameter while it is
//! in cache, so a chained Adam reads and writes memory once.
//!
//! Every stage also implements core's [`GradientTransform`](descent_core::GradientTransform)
//! (rewrite the gradients in place), so it composes with transforms written elsewhere.
//!
//! The methods of [`BlockTransform`]: `init_masked` (state and buffers only for
//! the selected parameters), `prepare` (once-per-step scalars), `views`
//! (per-tensor state views), `apply_block` (the element-wise kernel on one
//! block) and `momentum` (the stage's [`MomentumKind`] — SGD/RMSprop
//! `momentum` or Adam-family β₁ — and configured value, if it has one).
//! Stages that reduce their input first (`clip_by_global_norm`,
//! `adaptive_grad_clip`), wrappers (`masked`, `multi_steps`,
//! `apply_if_finite`) and chains implement `BlockTransform` directly; the
//! others are written through `stage`'s short forms.
//!
//! Invariant: a step reads each gradient, moment and parameter once and
//! writes each moment and parameter once; a stage needing a global reduction
//! of its input (clip by norm) adds one read of it.
//! Invariant: a stage whose `prepare` reduces over a whole tensor or group
//! (trust ratio, NovoGrad, Prodigy) says so with `reads_input`, so a chain
//! applies the stages before it first; its `views` must stay endless, since a
//! chain zips every stage's views before later stages have prepared.
//! Invariant: `BlockTransform::eval_params` (default: none; forwarded by
//! `Option`, `chain` and `masked`) lets a stage keep a point to evaluate the
//! model at other than the iterate (ASGD's average `ax`, schedule-free's `x`,
//! Lookahead's slow weights); wrappers forward it to their inner chain.

mod adadelta;
mod adafactor;
mod adagrad;
mod adam;
mod adamax;
mod adaptive_grad_clip;
mod apply_if_finite;
mod asgd;
mod chain;
mod clip;
mod decay;
mod lion;
mod lookahead;
mod masked;
mod multi_steps;
mod muon;
mod nadam;
mod novograd;
mod optax_adam;
mod optax_rms;
mod per_tensor;
mod prodigy;
mod radam;
mod rms;
mod rprop;
mod scale;
mod schedule_free;
mod sophia;
mod stage;
mod trace;
mod trust_ratio;
mod unfused;
mod yogi;

pub use adadelta::{ScaleByAdadelta, ScaleByAdadeltaState, scale_by_adadelta};
pub use adafactor::{ScaleByAdafactor, ScaleByAdafactorState, scale_by_adafactor};
pub use adagrad::{ScaleByAdagrad, ScaleByAdagradState, scale_by_adagrad};
pub use adam::{ScaleByAdam, ScaleByAdamState, scale_by_adam};
pub use adamax::{ScaleByAdamax, ScaleByAdamaxState, scale_by_adamax};
pub use adaptive_grad_clip::{
    AdaptiveGradClip, AdaptiveGradClipState, UnitFactors, adaptive_grad_clip,
};
pub use apply_if_finite::{ApplyIfFinite, ApplyIfFiniteState, apply_if_finite};
pub use asgd::{ScaleByAsgd, ScaleByAsgdState, scale_by_asgd};
pub use chain::{Chain, ChainState, chain};
pub(crate) use clip::clip_coef;
pub use clip::{
    ClipByGlobalNorm, ClipByGlobalNormState, ClipByValue, NormType, clip_by_global_norm,
    clip_by_value, global_norm,
};
pub use decay::{
    AddDecayedWeights, AddL1Decay, AddScheduledWeightDecay, add_decayed_weights, add_l1_decay,
    add_scheduled_weight_decay,
};
pub use lion::{ScaleByLion, ScaleByLionState, scale_by_lion};
pub use lookahead::{Lookahead, LookaheadCoefs, LookaheadState, lookahead};
pub use masked::{Masked, MaskedState, masked};
pub use multi_steps::{MultiSteps, MultiStepsCoefs, MultiStepsState, multi_steps};
pub use muon::{AdjustLr, ScaleByMuon, ScaleByMuonState, scale_by_muon};
pub use nadam::{ScaleByNadam, ScaleByNadamState, scale_by_nadam};
pub use novograd::{ScaleByNovograd, ScaleByNovogradState, scale_by_novograd};
pub use optax_adam::{
    ScaleByBelief, ScaleByMomentsState, ScaleByOptaxAdam, scale_by_belief, scale_by_optax_adam,
};
pub use optax_rms::{ScaleByOptaxRms, ScaleByOptaxRmsState, scale_by_optax_rms};
pub use per_tensor::{Each, PerTensor};
pub use prodigy::{ScaleByProdigy, ScaleByProdigyState, scale_by_prodigy};
pub use radam::{ScaleByRadam, ScaleByRadamState, scale_by_radam};
pub use rms::{ScaleByRms, ScaleByRmsState, scale_by_rms};
pub use rprop::{ScaleByRprop, ScaleByRpropState, scale_by_rprop};
pub use scale::{
    Scale, ScaleByLearningRate, ScaleBySchedule, scale, scale_by_learning_rate, scale_by_schedule,
};
pub use schedule_free::{ScheduleFree, ScheduleFreeCoefs, ScheduleFreeState, schedule_free};
pub use sophia::{
    Estimate, HessianFeed, ScaleBySophia, ScaleBySophiaState, SophiaCoefs, scale_by_sophia,
};
pub use stage::{ElementRule, ElementStage, Lanes, MapElements, map_elements};
pub use trace::{Trace, TraceState, trace};
pub use trust_ratio::{ScaleByTrustRatio, ScaleByTrustRatioState, scale_by_trust_ratio};
pub use unfused::{Unfused, UnfusedState, unfused};
pub use yogi::{ScaleByYogi, ScaleByYogiState, scale_by_yogi};

use crate::buf::SplitAt;
use descent_core::{Grads, ParamId, Params, Scalar, StepCtx};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The incoming updates a stage's `prepare` may read: the store's gradients,
/// or a chain's workspace when earlier stages had to be applied first.
#[derive(Clone, Copy, Debug)]
pub enum Tensors<'a, S: Scalar> {
    /// The gradients of a store.
    Grads(&'a Grads<S>),
    /// One buffer per parameter.
    Bufs(&'a [Vec<S>]),
}

impl<'a, S: Scalar> Tensors<'a, S> {
    /// The elements of `id`, column-major.
    pub fn get(&self, id: ParamId) -> &'a [S] {
        match self {
            Tensors::Grads(g) => g.get(id).as_slice(),
            Tensors::Bufs(b) => &b[id.index()],
        }
    }
}

/// Which parameters a transform applies to: all of them, or those whose flag
/// (indexed by `ParamId`) is set.
#[derive(Clone, Copy, Debug)]
pub struct Mask<'a>(Option<&'a [bool]>);

impl<'a> Mask<'a> {
    /// Every parameter.
    pub const ALL: Mask<'static> = Mask(None);

    /// The parameters whose flag is set.
    pub fn new(flags: &'a [bool]) -> Self {
        Mask(Some(flags))
    }

    /// True when `id` is selected.
    pub fn contains(&self, id: ParamId) -> bool {
        self.0.is_none_or(|f| f[id.index()])
    }
}

/// Which hyperparameter a stage's momentum is, as PyTorch names it: the one
/// a momentum schedule drives (PyTorch's `OneCycleLR` and `CyclicLR` write
/// `betas[0]` when an optimizer has `betas`, else `momentum`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MomentumKind {
    /// SGD's and RMSprop's `momentum`: finite and at least 0.
    Momentum,
    /// Adam-family `betas[0]`: in `[0, 1)`.
    Beta1,
}

impl MomentumKind {
    /// The hyperparameter's PyTorch name (`momentum`, `betas.0`).
    pub fn name(self) -> &'static str {
        match self {
            MomentumKind::Momentum => "momentum",
            MomentumKind::Beta1 => "betas.0",
        }
    }

    /// Checks `value` against this hyperparameter's range.
    pub fn check(self, value: f64) -> crate::Result<f64> {
        match self {
            MomentumKind::Momentum => crate::check::momentum(value)?,
            MomentumKind::Beta1 => crate::check::beta(self.name(), value)?,
        }
        Ok(value)
    }
}

/// A hyperparameter an optimizer can drive on a running chain, per group
/// (optax `inject_hyperparams`): read, set, scheduled and saved through
/// [`Optimizer::hyperparam`](crate::Optimizer::hyperparam) and its siblings,
/// it reaches the stages once per step through [`StepCtx`].
///
/// # Examples
///
/// ```
/// use descent_optim::transform::Hyper;
///
/// assert_eq!("betas.1".parse::<Hyper>()?, Hyper::Beta2);
/// assert_eq!(Hyper::WeightDecay.name(), "weight_decay");
/// assert!("beta3".parse::<Hyper>().is_err());
/// # Ok::<(), descent_optim::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hyper {
    /// The learning rate (`lr`): the group's [`LrSource`](crate::LrSource).
    Lr,
    /// SGD's and RMSprop's `momentum` or Adam-family β₁ (`betas.0`): the
    /// chain's first momentum stage ([`MomentumKind`] says which).
    Momentum,
    /// Adam-family β₂ (`betas.1`).
    Beta2,
    /// ε (`eps`).
    Eps,
    /// The weight-decay coefficient λ (`weight_decay`), of whichever decay
    /// stage the chain has (L2, L1 or decoupled).
    WeightDecay,
}

impl Hyper {
    /// Every hyperparameter, in this order.
    pub const ALL: [Hyper; 5] = [
        Hyper::Lr,
        Hyper::Momentum,
        Hyper::Beta2,
        Hyper::Eps,
        Hyper::WeightDecay,
    ];

    /// Its PyTorch name (`lr`, `momentum`, `betas.1`, `eps`, `weight_decay`;
    /// an Adam-family momentum is also `betas.0`).
    pub fn name(self) -> &'static str {
        match self {
            Hyper::Lr => "lr",
            Hyper::Momentum => "momentum",
            Hyper::Beta2 => "betas.1",
            Hyper::Eps => "eps",
            Hyper::WeightDecay => "weight_decay",
        }
    }

    /// The value an Adam-family stage declares for `self`: its β₂ and ε
    /// (its β₁ is the momentum, declared through `BlockTransform::momentum`).
    pub(crate) fn beta2_eps(self, b2: f64, eps: f64) -> Option<f64> {
        match self {
            Hyper::Beta2 => Some(b2),
            Hyper::Eps => Some(eps),
            _ => None,
        }
    }

    /// Checks `value` against the hyperparameter's range (the momentum
    /// against its [`MomentumKind`]'s, by the optimizer).
    pub(crate) fn check(self, value: f64) -> crate::Result<f64> {
        match self {
            Hyper::Lr => crate::check::lr(value)?,
            Hyper::WeightDecay => crate::check::weight_decay(value)?,
            Hyper::Momentum => crate::check::momentum(value)?,
            Hyper::Beta2 => crate::check::beta(self.name(), value)?,
            Hyper::Eps => crate::check::eps_positive(value)?,
        }
        Ok(value)
    }
}

impl std::str::FromStr for Hyper {
    type Err = crate::Error;

    /// PyTorch's names, plus `beta1`/`beta2` and optax's `learning_rate`.
    fn from_str(name: &str) -> crate::Result<Hyper> {
        match name {
            "lr" | "learning_rate" => Ok(Hyper::Lr),
            "momentum" | "betas.0" | "beta1" | "b1" => Ok(Hyper::Momentum),
            "betas.1" | "beta2" | "b2" => Ok(Hyper::Beta2),
            "eps" => Ok(Hyper::Eps),
            "weight_decay" => Ok(Hyper::WeightDecay),
            _ => Err(crate::Error::UnknownHyperparam {
                name: name.to_string(),
            }),
        }
    }
}

/// The context one stage of a chain sees: each hyperparameter the optimizer
/// drives goes to the first stage that has it (taken from `pending`), and no
/// other stage sees it.
pub(crate) fn route<S: Scalar, T: BlockTransform<S>>(
    stage: &T,
    pending: &mut StepCtx,
    ctx: &StepCtx,
) -> StepCtx {
    let mut out = *ctx;
    let has = |key| stage.hyperparam(key).is_some();
    out.momentum = match stage.momentum() {
        Some(_) => pending.momentum.take(),
        None => None,
    };
    out.beta2 = if has(Hyper::Beta2) {
        pending.beta2.take()
    } else {
        None
    };
    out.eps = if has(Hyper::Eps) {
        pending.eps.take()
    } else {
        None
    };
    out.weight_decay = match has(Hyper::WeightDecay) {
        true => pending.weight_decay.take(),
        false => None,
    };
    out
}

/// A gradient transform written as a per-block kernel, so a [`chain`] of
/// them runs in one pass over memory.
///
/// Contract: `views` yields one view per parameter in id order (it may be
/// endless for stateless stages); the walker calls `apply_block` only for
/// parameters in the mask given to `init`, with `u` (the update, rewritten in
/// place), `p` (the parameter) and the view all cut to the same block.
pub trait BlockTransform<S: Scalar>: Send + Sync {
    /// Per-run state; serializable so a run can stop and resume exactly.
    type State: Send + Serialize + DeserializeOwned;
    /// Scalars computed once per step by `prepare` (bias corrections, a clip factor).
    type Coefs: Copy + Send + Sync;
    /// The element-wise state of one tensor, or of a block of it.
    type View<'a>: SplitAt + Send;

    /// Fresh state, keeping element-wise buffers only where `mask` is true.
    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State;

    /// Checks that this stage supports every parameter `mask` selects
    /// (Muon: matrices only); the optimizer's builder calls it before
    /// `init_masked`, so an unsupported parameter is a typed error at
    /// construction, never a panic in a step. The default accepts all.
    fn check_params(&self, _params: &Params<S>, _mask: Mask<'_>) -> crate::Result<()> {
        Ok(())
    }

    /// True when `prepare` reads the incoming updates (a global reduction),
    /// so every earlier stage must be applied in full first.
    fn reads_input(&self) -> bool {
        false
    }

    /// Once-per-step work before any element is touched; `input` holds this
    /// stage's incoming updates, `mask` the parameters it is applied to.
    fn prepare(
        &self,
        state: &mut Self::State,
        input: Tensors<'_, S>,
        params: &Params<S>,
        mask: Mask<'_>,
        ctx: &StepCtx,
    ) -> Self::Coefs;

    /// One view per parameter, in id order.
    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>>;

    /// The element-wise kernel: rewrites the block `u` of updates in place.
    fn apply_block(&self, coefs: &Self::Coefs, view: &mut Self::View<'_>, u: &mut [S], p: &[S]);

    /// True when this stage leaves updates unchanged (an absent optional stage).
    fn is_identity(&self) -> bool {
        false
    }

    /// The stage's momentum hyperparameter and its configured value, if it
    /// has one. `prepare` then reads `ctx.momentum` when it is set, so a
    /// running optimizer can change it (once per step, not per element).
    fn momentum(&self) -> Option<(MomentumKind, f64)> {
        None
    }

    /// Rewrites `params` (a copy of the parameters this stage steps) into the
    /// point where the model is to be evaluated, when the stage keeps one
    /// apart from the point where gradients are taken (schedule-free's `x`,
    /// Lookahead's slow weights); only parameters in `mask` are touched. The
    /// default leaves them unchanged. See [`Optimizer::eval_params`](crate::Optimizer::eval_params).
    fn eval_params(&self, state: &Self::State, params: &mut Params<S>, mask: Mask<'_>) {
        let _ = (state, params, mask);
    }

    /// The stage's configured value of `key` when it has that
    /// hyperparameter and reads it from the [`StepCtx`] (`ctx.beta2`,
    /// `ctx.eps`, `ctx.weight_decay`) in `prepare`, so an optimizer can drive
    /// it; `None` otherwise (the default). The momentum is [`momentum`](Self::momentum)'s.
    fn hyperparam(&self, key: Hyper) -> Option<f64> {
        let _ = key;
        None
    }

    /// [`apply_block`](Self::apply_block) with the incoming updates read from
    /// `src` instead of `u` (whose contents on entry are unspecified). Stages
    /// that stream state through memory override it, so the first stage of a
    /// chain reads the gradient in the same pass as its state.
    #[inline(always)]
    fn apply_block_from(
        &self,
        coefs: &Self::Coefs,
        view: &mut Self::View<'_>,
        src: &[S],
        u: &mut [S],
        p: &[S],
    ) {
        u.copy_from_slice(src);
        self.apply_block(coefs, view, u, p);
    }
}

/// The state of an optional stage. (Not `Option`: serde writes `Some(())`
/// and `None` alike, so a stateless stage would vanish on restore.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum OptionalState<T> {
    /// The stage is absent.
    Absent,
    /// The stage's state.
    Present(T),
}

/// `None` is the identity, so optional stages (momentum only when
/// `momentum > 0`, weight decay only when asked) keep one chain type.
impl<S: Scalar, T: BlockTransform<S>> BlockTransform<S> for Option<T> {
    type State = OptionalState<T::State>;
    type Coefs = Option<T::Coefs>;
    type View<'a> = Option<T::View<'a>>;

    fn init_masked(&self, params: &Params<S>, mask: Mask<'_>) -> Self::State {
        match self {
            Some(t) => OptionalState::Present(t.init_masked(params, mask)),
            None => OptionalState::Absent,
        }
    }

    fn reads_input(&self) -> bool {
        self.as_ref().is_some_and(|t| t.reads_input())
    }

    fn check_params(&self, params: &Params<S>, mask: Mask<'_>) -> crate::Result<()> {
        self.as_ref()
            .map_or(Ok(()), |t| t.check_params(params, mask))
    }

    fn prepare(
        &self,
        state: &mut Self::State,
        input: Tensors<'_, S>,
        params: &Params<S>,
        mask: Mask<'_>,
        ctx: &StepCtx,
    ) -> Self::Coefs {
        match (self, state) {
            (Some(t), OptionalState::Present(s)) => Some(t.prepare(s, input, params, mask, ctx)),
            _ => None,
        }
    }

    fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
        let inner = match (self, state) {
            (Some(t), OptionalState::Present(s)) => Some(t.views(s)),
            _ => None,
        };
        inner
            .into_iter()
            .flatten()
            .map(Some)
            .chain(std::iter::repeat_with(|| None))
    }

    #[inline(always)]
    fn apply_block(&self, coefs: &Self::Coefs, view: &mut Self::View<'_>, u: &mut [S], p: &[S]) {
        if let (Some(t), Some(c), Some(v)) = (self, coefs, view) {
            t.apply_block(c, v, u, p);
        }
    }

    fn is_identity(&self) -> bool {
        self.as_ref().is_none_or(|t| t.is_identity())
    }

    fn momentum(&self) -> Option<(MomentumKind, f64)> {
        self.as_ref().and_then(|t| t.momentum())
    }

    fn eval_params(&self, state: &Self::State, params: &mut Params<S>, mask: Mask<'_>) {
        if let (Some(t), OptionalState::Present(s)) = (self, state) {
            t.eval_params(s, params, mask);
        }
    }

    fn hyperparam(&self, key: Hyper) -> Option<f64> {
        self.as_ref().and_then(|t| t.hyperparam(key))
    }

    #[inline(always)]
    fn apply_block_from(
        &self,
        coefs: &Self::Coefs,
        view: &mut Self::View<'_>,
        src: &[S],
        u: &mut [S],
        p: &[S],
    ) {
        match (self, coefs, view) {
            (Some(t), Some(c), Some(v)) => t.apply_block_from(c, v, src, u, p),
            _ => u.copy_from_slice(src),
        }
    }
}

/// Implements core's `GradientTransform` for a `BlockTransform` by walking
/// the store in place (orphan rules forbid a blanket impl).
macro_rules! gradient_transform_via_blocks {
    ($ty:ty $(, $g:ident : [$($b:tt)*])*) => {
        impl<S: descent_core::Scalar $(, $g: $($b)*)*> descent_core::GradientTransform<S> for $ty {
            type State = <$ty as $crate::BlockTransform<S>>::State;

            fn init(&self, params: &descent_core::Params<S>) -> Self::State {
                $crate::BlockTransform::init_masked(self, params, $crate::transform::Mask::ALL)
            }

            fn update(
                &self,
                grads: &mut descent_core::Grads<S>,
                state: &mut Self::State,
                params: &descent_core::Params<S>,
                ctx: &descent_core::StepCtx,
            ) {
                $crate::walk::update_in_place(self, grads, state, params, ctx);
            }
        }
    };
}
pub(crate) use gradient_transform_via_blocks;

/// Inside a wrapper's `BlockTransform` impl: the named methods forwarded to
/// the wrapped transform `self.inner` (`eval_params` with its state
/// `state.inner`), for a wrapper that changes none of them.
macro_rules! forward_to_inner {
    ($($method:ident),+ $(,)?) => { $( forward_to_inner!(@ $method); )+ };
    (@check_params) => {
        fn check_params(
            &self,
            params: &descent_core::Params<S>,
            mask: $crate::transform::Mask<'_>,
        ) -> $crate::Result<()> {
            self.inner.check_params(params, mask)
        }
    };
    (@eval_params) => {
        fn eval_params(
            &self,
            state: &Self::State,
            params: &mut descent_core::Params<S>,
            mask: $crate::transform::Mask<'_>,
        ) {
            self.inner.eval_params(&state.inner, params, mask);
        }
    };
    (@momentum) => {
        fn momentum(&self) -> Option<($crate::transform::MomentumKind, f64)> {
            self.inner.momentum()
        }
    };
    (@hyperparam) => {
        fn hyperparam(&self, key: $crate::transform::Hyper) -> Option<f64> {
            self.inner.hyperparam(key)
        }
    };
}
pub(crate) use forward_to_inner;

/// Inside the `BlockTransform` impl of a stage that computes each tensor's
/// whole update in `prepare` (into `state.update`, one `Vec` per tensor):
/// the views are those buffers, and every block copies its part out.
macro_rules! copy_prepared_update {
    () => {
        fn views<'a>(&self, state: &'a mut Self::State) -> impl Iterator<Item = Self::View<'a>> {
            state.update.iter_mut().map(Vec::as_mut_slice)
        }

        #[inline(always)]
        fn apply_block(&self, _: &(), update: &mut Self::View<'_>, u: &mut [S], _p: &[S]) {
            u.copy_from_slice(update);
        }

        #[inline(always)]
        fn apply_block_from(
            &self,
            _: &(),
            update: &mut Self::View<'_>,
            _src: &[S],
            u: &mut [S],
            _p: &[S],
        ) {
            u.copy_from_slice(update);
        }
    };
}
pub(crate) use copy_prepared_update;
