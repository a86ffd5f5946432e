//! `AdaBelief`, `Yogi` and optax's `adam`: the optax Adam family, each its
//! scaling stage then the learning rate.

use crate::check;
use crate::error::Result;
use crate::optimizers::{OptimizerConfig, optimizer_constructors};
use crate::transform::{
    Chain, ScaleByBelief, ScaleByLearningRate, ScaleByOptaxAdam, ScaleByYogi, chain,
    scale_by_belief, scale_by_learning_rate, scale_by_optax_adam, scale_by_yogi,
};

/// optax `adabelief` (Zhuang et al. 2020): `scale_by_belief` → `scale_by_learning_rate`.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{AdaBelief, AdaBeliefConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 3, 1.0))?;
/// let mut opt = AdaBeliefConfig { lr: 0.1, ..AdaBeliefConfig::default() }.build(&store)?;
/// store.grad_mut(w).fill(1.0);
/// opt.step(&mut store)?;
/// assert!(store.value(w)[0] < 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct AdaBelief;

/// Arguments of [`AdaBelief`]; `Default` is optax 0.2.8's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdaBeliefConfig {
    /// Learning rate (optax `learning_rate`; 1e-3, the paper's, as optax has no default).
    pub lr: f64,
    /// β₁ (0.9).
    pub b1: f64,
    /// β₂ (0.999).
    pub b2: f64,
    /// ε outside the root (1e-16).
    pub eps: f64,
    /// ε_root, added to the second moment (1e-16).
    pub eps_root: f64,
    /// Nesterov's first moment (false).
    pub nesterov: bool,
}

impl Default for AdaBeliefConfig {
    fn default() -> Self {
        AdaBeliefConfig {
            lr: 1e-3,
            b1: 0.9,
            b2: 0.999,
            eps: 1e-16,
            eps_root: 1e-16,
            nesterov: false,
        }
    }
}

impl OptimizerConfig for AdaBeliefConfig {
    type Transform = Chain<(ScaleByBelief, ScaleByLearningRate)>;

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<()> {
        check::optax_adam(self.lr, self.b1, self.b2, self.eps, self.eps_root)
    }

    fn transform(&self) -> Self::Transform {
        chain((
            scale_by_belief(self.b1, self.b2, self.eps, self.eps_root, self.nesterov),
            scale_by_learning_rate(),
        ))
    }
}

optimizer_constructors!(AdaBelief, AdaBeliefConfig);

/// optax `yogi` (Zaheer et al. 2018): `scale_by_yogi` (moments starting at
/// 1e-6, ε_root 0) → `scale_by_learning_rate`.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{Yogi, YogiConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 3, 1.0))?;
/// let opt = YogiConfig::default().build(&store)?;
/// assert_eq!(opt.lr(), 1e-2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Yogi;

/// Arguments of [`Yogi`]; `Default` is optax 0.2.8's (learning rate: the paper's 1e-2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct YogiConfig {
    /// Learning rate (1e-2).
    pub lr: f64,
    /// β₁ (0.9).
    pub b1: f64,
    /// β₂ (0.999).
    pub b2: f64,
    /// ε (1e-3).
    pub eps: f64,
}

impl Default for YogiConfig {
    fn default() -> Self {
        YogiConfig {
            lr: 1e-2,
            b1: 0.9,
            b2: 0.999,
            eps: 1e-3,
        }
    }
}

impl OptimizerConfig for YogiConfig {
    type Transform = Chain<(ScaleByYogi, ScaleByLearningRate)>;

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<()> {
        check::lr(self.lr)?;
        check::b1_b2(self.b1, self.b2)?;
        check::eps_non_negative(self.eps)
    }

    fn transform(&self) -> Self::Transform {
        chain((
            scale_by_yogi(self.b1, self.b2, self.eps, 0.0, 1e-6),
            scale_by_learning_rate(),
        ))
    }
}

optimizer_constructors!(Yogi, YogiConfig);

/// optax `adam`: `scale_by_adam` with `eps_root` and Nesterov →
/// `scale_by_learning_rate`. PyTorch's [`Adam`](crate::Adam) is the same
/// rule with ε_root = 0 up to rounding; use this one for optax's `eps_root`
/// or `nesterov`, or as the fast optimizer of optax's `lookahead`.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{OptaxAdam, OptaxAdamConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 3, 1.0))?;
/// let opt = OptaxAdamConfig { nesterov: true, ..OptaxAdamConfig::default() }.build(&store)?;
/// assert_eq!(opt.lr(), 1e-3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct OptaxAdam;

/// Arguments of [`OptaxAdam`]; `Default` is optax 0.2.8's (learning rate 1e-3).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OptaxAdamConfig {
    /// Learning rate (1e-3).
    pub lr: f64,
    /// β₁ (0.9).
    pub b1: f64,
    /// β₂ (0.999).
    pub b2: f64,
    /// ε outside the root (1e-8).
    pub eps: f64,
    /// ε inside the root (0).
    pub eps_root: f64,
    /// Nesterov's first moment (false).
    pub nesterov: bool,
}

impl Default for OptaxAdamConfig {
    fn default() -> Self {
        OptaxAdamConfig {
            lr: 1e-3,
            b1: 0.9,
            b2: 0.999,
            eps: 1e-8,
            eps_root: 0.0,
            nesterov: false,
        }
    }
}

impl OptimizerConfig for OptaxAdamConfig {
    type Transform = Chain<(ScaleByOptaxAdam, ScaleByLearningRate)>;

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<()> {
        check::optax_adam(self.lr, self.b1, self.b2, self.eps, self.eps_root)
    }

    fn transform(&self) -> Self::Transform {
        chain((
            scale_by_optax_adam(self.b1, self.b2, self.eps, self.eps_root, self.nesterov),
            scale_by_learning_rate(),
        ))
    }
}

optimizer_constructors!(OptaxAdam, OptaxAdamConfig);
