//! `Lookahead`, `ScheduleFreeSgd` and `ScheduleFreeAdamW`: optax's wrappers
//! that keep a second set of weights (slow weights, the average `x`), which
//! [`Optimizer::eval_params`](crate::Optimizer::eval_params) writes out.

use crate::ArgError;
use crate::check;
use crate::error::{Error, Result, closed_unit_interval, non_negative};
use crate::optimizer::Optimizer;
use crate::optimizers::{OptimizerConfig, optimizer_constructors, with_groups};
use crate::transform::{
    AddDecayedWeights, BlockTransform, Chain, Lookahead as LookaheadStage, ScaleByLearningRate,
    ScaleByOptaxRms, ScheduleFree, add_decayed_weights, chain, lookahead, scale_by_learning_rate,
    scale_by_optax_rms, schedule_free,
};
use descent_core::Selector;
use descent_core::{Params, Scalar};

/// optax `lookahead` (Zhang et al. 2019) around a fast optimizer given by
/// its config (any of this crate's, e.g. [`OptaxAdamConfig`](crate::OptaxAdamConfig)).
///
/// The store holds the fast weights; [`Optimizer::eval_params`] gives the
/// slow ones. See [`lookahead`] for the rule.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{Lookahead, LookaheadConfig, OptaxAdamConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 2, 1.0))?;
/// let fast = OptaxAdamConfig { lr: 0.1, ..OptaxAdamConfig::default() };
/// let mut opt = Lookahead::new(&store, LookaheadConfig::new(fast, 2, 0.5))?;
/// store.grad_mut(w).fill(1.0);
/// opt.step(&mut store)?; // fast: 1 − 0.1
/// opt.step(&mut store)?; // fast: 1 − 0.2, then slow ← 1 + 0.5·(0.8 − 1), fast ← slow
/// let mut slow = store.params().clone();
/// opt.eval_params(&mut slow)?;
/// assert!((slow.value(w)[0] - 0.9).abs() < 1e-6);
/// assert!((store.value(w)[0] - slow.value(w)[0]).abs() < 1e-15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Lookahead;

/// Arguments of [`Lookahead`]: the fast optimizer and optax's three.
#[derive(Clone, Debug, PartialEq)]
pub struct LookaheadConfig<C> {
    /// The fast optimizer (its learning rate is the optimizer's).
    pub fast: C,
    /// k, steps between synchronisations (at least 1).
    pub sync_period: u64,
    /// α ∈ [0, 1], the slow weights' step towards the fast ones.
    pub slow_step_size: f64,
    /// Reset the fast optimizer's state at each synchronisation (false).
    pub reset_state: bool,
}

impl<C> LookaheadConfig<C> {
    /// `fast` with period `sync_period` and step `slow_step_size`, no reset.
    pub fn new(fast: C, sync_period: u64, slow_step_size: f64) -> Self {
        LookaheadConfig {
            fast,
            sync_period,
            slow_step_size,
            reset_state: false,
        }
    }
}

impl<C: OptimizerConfig> OptimizerConfig for LookaheadConfig<C> {
    type Transform = LookaheadStage<C::Transform>;

    fn lr(&self) -> f64 {
        self.fast.lr()
    }

    fn validate(&self) -> Result<()> {
        self.fast.validate()?;
        if self.sync_period < 1 {
            return Err(Error::Arg(ArgError::new(
                "sync_period",
                self.sync_period as f64,
                "expected at least 1",
            )));
        }
        Ok(closed_unit_interval("slow_step_size", self.slow_step_size)?)
    }

    fn transform(&self) -> Self::Transform {
        lookahead(
            self.fast.transform(),
            self.sync_period,
            self.slow_step_size,
            self.reset_state,
        )
    }
}

// `Lookahead::new` returns the assembled `Optimizer` (see `optimizer_constructors`).
#[allow(clippy::new_ret_no_self)]
impl Lookahead {
    /// One group over every parameter (`params` is usually `&store`).
    pub fn new<S: Scalar, C: OptimizerConfig>(
        params: &Params<S>,
        config: LookaheadConfig<C>,
    ) -> Result<Optimizer<S>>
    where
        C::Transform: BlockTransform<S>,
    {
        Self::with_groups(params, &[(Selector::All, config)])
    }

    /// Several groups, each with its own arguments; each parameter goes to
    /// the first group that selects it.
    pub fn with_groups<S: Scalar, C: OptimizerConfig>(
        params: &Params<S>,
        groups: &[(Selector, LookaheadConfig<C>)],
    ) -> Result<Optimizer<S>>
    where
        C::Transform: BlockTransform<S>,
    {
        with_groups(params, groups)
    }
}

/// Checks schedule-free's shared arguments.
fn check_schedule_free(lr: f64, b1: f64, weight_lr_power: f64, warmup: Option<u64>) -> Result<()> {
    check::lr(lr)?;
    check::schedule_free_b1(b1)?;
    non_negative("weight_lr_power", weight_lr_power)?;
    if warmup == Some(0) {
        return Err(Error::Arg(ArgError::new(
            "warmup_steps",
            0.0,
            "expected at least 1, or none",
        )));
    }
    Ok(())
}

/// optax `contrib.schedule_free_sgd` (Defazio et al. 2024): [`schedule_free`]
/// around SGD (`add_decayed_weights` when `weight_decay` is set →
/// `scale_by_learning_rate`). Evaluate at [`Optimizer::eval_params`].
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{ScheduleFreeSgd, ScheduleFreeSgdConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 2, 1.0))?;
/// let cfg = ScheduleFreeSgdConfig { warmup_steps: Some(100), ..ScheduleFreeSgdConfig::default() };
/// let opt = cfg.build(&store)?;
/// assert_eq!(opt.lr(), 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ScheduleFreeSgd;

/// Arguments of [`ScheduleFreeSgd`]; `Default` is optax 0.2.8's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScheduleFreeSgdConfig {
    /// Learning rate, the warmup's peak (1.0).
    pub lr: f64,
    /// Linear warmup from 0 over this many steps (none).
    pub warmup_steps: Option<u64>,
    /// β₁ ∈ (0, 1] (0.9).
    pub b1: f64,
    /// Weight decay, added to the gradient (none).
    pub weight_decay: Option<f64>,
    /// Power of the rate in the averaging weights (2).
    pub weight_lr_power: f64,
}

impl Default for ScheduleFreeSgdConfig {
    fn default() -> Self {
        ScheduleFreeSgdConfig {
            lr: 1.0,
            warmup_steps: None,
            b1: 0.9,
            weight_decay: None,
            weight_lr_power: 2.0,
        }
    }
}

impl OptimizerConfig for ScheduleFreeSgdConfig {
    type Transform = ScheduleFree<Chain<(Option<AddDecayedWeights>, ScaleByLearningRate)>>;

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<()> {
        check_schedule_free(self.lr, self.b1, self.weight_lr_power, self.warmup_steps)?;
        if let Some(wd) = self.weight_decay {
            check::weight_decay(wd)?;
        }
        Ok(())
    }

    fn transform(&self) -> Self::Transform {
        schedule_free(
            chain((
                self.weight_decay.map(add_decayed_weights),
                scale_by_learning_rate(),
            )),
            self.b1,
            self.weight_lr_power,
            self.warmup_steps,
        )
    }
}

optimizer_constructors!(ScheduleFreeSgd, ScheduleFreeSgdConfig);

/// optax `contrib.schedule_free_adamw` (Defazio et al. 2024): [`schedule_free`]
/// around Adam without first moment (`scale_by_rms` with bias correction, ε
/// outside the root → `add_decayed_weights` → `scale_by_learning_rate`).
/// Evaluate at [`Optimizer::eval_params`].
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{ScheduleFreeAdamW, ScheduleFreeAdamWConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 2, 1.0))?;
/// let opt = ScheduleFreeAdamWConfig::default().build(&store)?;
/// assert_eq!(opt.lr(), 0.0025);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ScheduleFreeAdamW;

/// Arguments of [`ScheduleFreeAdamW`]; `Default` is optax 0.2.8's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScheduleFreeAdamWConfig {
    /// Learning rate, the warmup's peak (0.0025).
    pub lr: f64,
    /// Linear warmup from 0 over this many steps (none).
    pub warmup_steps: Option<u64>,
    /// β₁ ∈ (0, 1] (0.9).
    pub b1: f64,
    /// β₂ (0.999).
    pub b2: f64,
    /// ε outside the root (1e-8).
    pub eps: f64,
    /// Decoupled weight decay, scaled by the learning rate (0).
    pub weight_decay: f64,
    /// Power of the rate in the averaging weights (2).
    pub weight_lr_power: f64,
}

impl Default for ScheduleFreeAdamWConfig {
    fn default() -> Self {
        ScheduleFreeAdamWConfig {
            lr: 0.0025,
            warmup_steps: None,
            b1: 0.9,
            b2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            weight_lr_power: 2.0,
        }
    }
}

impl OptimizerConfig for ScheduleFreeAdamWConfig {
    type Transform = ScheduleFree<
        Chain<(
            ScaleByOptaxRms,
            Option<AddDecayedWeights>,
            ScaleByLearningRate,
        )>,
    >;

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<()> {
        check_schedule_free(self.lr, self.b1, self.weight_lr_power, self.warmup_steps)?;
        check::beta("b2", self.b2)?;
        check::eps_non_negative(self.eps)?;
        check::weight_decay(self.weight_decay)
    }

    fn transform(&self) -> Self::Transform {
        schedule_free(
            chain((
                scale_by_optax_rms(self.b2, self.eps, 0.0, false, true),
                (self.weight_decay != 0.0).then(|| add_decayed_weights(self.weight_decay)),
                scale_by_learning_rate(),
            )),
            self.b1,
            self.weight_lr_power,
            self.warmup_steps,
        )
    }
}

optimizer_constructors!(ScheduleFreeAdamW, ScheduleFreeAdamWConfig);
