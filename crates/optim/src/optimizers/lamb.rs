//! `Lamb`, `Lars` and `NovoGrad`: optax's layer-wise optimizers, whose
//! scaling reads a whole tensor (its trust ratio, its second moment).

use crate::check;
use crate::error::{Result, non_negative};
use crate::optimizers::{OptimizerConfig, optimizer_constructors};
use crate::transform::{
    AddDecayedWeights, Chain, Masked, ScaleByLearningRate, ScaleByNovograd, ScaleByOptaxAdam,
    ScaleByTrustRatio, Trace, add_decayed_weights, chain, masked, scale_by_learning_rate,
    scale_by_novograd, scale_by_optax_adam, scale_by_trust_ratio, trace,
};
use descent_core::Selector;

/// optax `lamb` (You et al. 2020): `scale_by_adam` → `add_decayed_weights`
/// (on the parameters `mask` selects; absent when the decay is 0) →
/// `scale_by_trust_ratio` (per tensor, coefficient 1) → `scale_by_learning_rate`.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{Lamb, LambConfig, Selector};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 4, 1.0))?;
/// store.register("b", Tags::BIAS, DMatrix::from_element(1, 2, 1.0))?;
/// // Decay on the weights only, as optax's `mask`.
/// let cfg = LambConfig { lr: 0.01, weight_decay: 0.01, mask: Selector::tags(Tags::WEIGHT), ..LambConfig::default() };
/// let mut opt = cfg.build(&store)?;
/// store.grad_mut(w).fill(1.0);
/// opt.step(&mut store)?;
/// // The trust ratio makes a tensor's step lr·‖p‖ = 0.01·2: 0.01 per element.
/// assert!((store.value(w)[0] - 0.99).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Lamb;

/// Arguments of [`Lamb`]; `Default` is optax 0.2.8's (learning rate 1e-3).
#[derive(Clone, Debug, PartialEq)]
pub struct LambConfig {
    /// Learning rate (1e-3).
    pub lr: f64,
    /// β₁ (0.9).
    pub b1: f64,
    /// β₂ (0.999).
    pub b2: f64,
    /// ε outside the root (1e-6).
    pub eps: f64,
    /// ε inside the root (0).
    pub eps_root: f64,
    /// Decoupled weight decay, before the trust ratio (0).
    pub weight_decay: f64,
    /// The parameters the decay applies to (all; optax `mask`).
    pub mask: Selector,
}

impl Default for LambConfig {
    fn default() -> Self {
        LambConfig {
            lr: 1e-3,
            b1: 0.9,
            b2: 0.999,
            eps: 1e-6,
            eps_root: 0.0,
            weight_decay: 0.0,
            mask: Selector::All,
        }
    }
}

impl OptimizerConfig for LambConfig {
    type Transform = Chain<(
        ScaleByOptaxAdam,
        Option<Masked<AddDecayedWeights>>,
        ScaleByTrustRatio,
        ScaleByLearningRate,
    )>;

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<()> {
        check::optax_adam(self.lr, self.b1, self.b2, self.eps, self.eps_root)?;
        check::weight_decay(self.weight_decay)
    }

    fn transform(&self) -> Self::Transform {
        chain((
            scale_by_optax_adam(self.b1, self.b2, self.eps, self.eps_root, false),
            (self.weight_decay != 0.0)
                .then(|| masked(add_decayed_weights(self.weight_decay), self.mask.clone())),
            scale_by_trust_ratio(0.0, 1.0, 0.0),
            scale_by_learning_rate(),
        ))
    }
}

optimizer_constructors!(Lamb, LambConfig);

/// optax `lars` (You et al. 2017): `add_decayed_weights` (on
/// `weight_decay_mask`) → `scale_by_trust_ratio` (on `trust_ratio_mask`) →
/// `scale_by_learning_rate` → `trace` (momentum on the scaled step).
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{Lars, LarsConfig, Selector};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 4, 1.0))?;
/// store.register("b", Tags::BIAS, DMatrix::from_element(1, 2, 1.0))?;
/// // The usual setup: no decay and no trust ratio on biases and norms.
/// let weights = Selector::tags(Tags::BIAS | Tags::NORM).not();
/// let cfg = LarsConfig {
///     lr: 0.1,
///     weight_decay: 1e-4,
///     weight_decay_mask: weights.clone(),
///     trust_ratio_mask: weights,
///     ..LarsConfig::default()
/// };
/// let opt = cfg.build(&store)?;
/// assert_eq!(opt.momentum(), Some(0.9));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Lars;

/// Arguments of [`Lars`]; `Default` is optax 0.2.8's (learning rate 0.1).
#[derive(Clone, Debug, PartialEq)]
pub struct LarsConfig {
    /// Learning rate (0.1).
    pub lr: f64,
    /// Weight decay, added to the gradient before the trust ratio (0).
    pub weight_decay: f64,
    /// The parameters the decay applies to (all).
    pub weight_decay_mask: Selector,
    /// The trust ratio's coefficient η (0.001).
    pub trust_coefficient: f64,
    /// Added to the update's norm in the trust ratio (0).
    pub eps: f64,
    /// The parameters the trust ratio applies to (all).
    pub trust_ratio_mask: Selector,
    /// Momentum (0.9).
    pub momentum: f64,
    /// Nesterov momentum (false).
    pub nesterov: bool,
}

impl Default for LarsConfig {
    fn default() -> Self {
        LarsConfig {
            lr: 0.1,
            weight_decay: 0.0,
            weight_decay_mask: Selector::All,
            trust_coefficient: 0.001,
            eps: 0.0,
            trust_ratio_mask: Selector::All,
            momentum: 0.9,
            nesterov: false,
        }
    }
}

impl OptimizerConfig for LarsConfig {
    type Transform = Chain<(
        Option<Masked<AddDecayedWeights>>,
        Masked<ScaleByTrustRatio>,
        ScaleByLearningRate,
        Trace,
    )>;

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<()> {
        check::lr(self.lr)?;
        check::weight_decay(self.weight_decay)?;
        non_negative("trust_coefficient", self.trust_coefficient)?;
        check::eps_non_negative(self.eps)?;
        check::momentum(self.momentum)
    }

    fn transform(&self) -> Self::Transform {
        chain((
            (self.weight_decay != 0.0).then(|| {
                masked(
                    add_decayed_weights(self.weight_decay),
                    self.weight_decay_mask.clone(),
                )
            }),
            masked(
                scale_by_trust_ratio(0.0, self.trust_coefficient, self.eps),
                self.trust_ratio_mask.clone(),
            ),
            scale_by_learning_rate(),
            trace(self.momentum, 0.0, self.nesterov),
        ))
    }
}

optimizer_constructors!(Lars, LarsConfig);

/// optax `novograd` (Ginsburg et al. 2019): `scale_by_novograd` → `scale_by_learning_rate`.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{NovoGrad, NovoGradConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_row_slice(1, 2, &[1.0, 1.0]))?;
/// let mut opt = NovoGradConfig { lr: 0.1, eps: 0.0, ..NovoGradConfig::default() }.build(&store)?;
/// store.grad_mut(w).copy_from_slice(&[3.0, 4.0]);
/// opt.step(&mut store)?;
/// // The first step is the gradient over its tensor's norm.
/// assert!((store.value(w)[1] - (1.0 - 0.1 * 0.8)).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct NovoGrad;

/// Arguments of [`NovoGrad`]; `Default` is optax 0.2.8's (learning rate 1e-3).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NovoGradConfig {
    /// Learning rate (1e-3).
    pub lr: f64,
    /// β₁ (0.9).
    pub b1: f64,
    /// β₂ (0.25).
    pub b2: f64,
    /// ε outside the root (1e-6).
    pub eps: f64,
    /// ε inside the root (0).
    pub eps_root: f64,
    /// Weight decay, added to the normalised gradient (0).
    pub weight_decay: f64,
}

impl Default for NovoGradConfig {
    fn default() -> Self {
        NovoGradConfig {
            lr: 1e-3,
            b1: 0.9,
            b2: 0.25,
            eps: 1e-6,
            eps_root: 0.0,
            weight_decay: 0.0,
        }
    }
}

impl OptimizerConfig for NovoGradConfig {
    type Transform = Chain<(ScaleByNovograd, ScaleByLearningRate)>;

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<()> {
        check::optax_adam(self.lr, self.b1, self.b2, self.eps, self.eps_root)?;
        check::weight_decay(self.weight_decay)
    }

    fn transform(&self) -> Self::Transform {
        chain((
            scale_by_novograd(self.b1, self.b2, self.eps, self.eps_root, self.weight_decay),
            scale_by_learning_rate(),
        ))
    }
}

optimizer_constructors!(NovoGrad, NovoGradConfig);
