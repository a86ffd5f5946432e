//! `Asgd`: averaged SGD, with its average as the evaluation parameters.

use crate::check;
use crate::error::{Result, non_negative};
use crate::optimizers::{OptimizerConfig, optimizer_constructors};
use crate::transform::{
    AddDecayedWeights, Chain, Scale, ScaleByAsgd, add_decayed_weights, chain, scale, scale_by_asgd,
};
use descent_core::range::check;

/// PyTorch `ASGD` (PyTorch 2.15). The averaged parameters PyTorch keeps as
/// `optimizer.state[p]["ax"]` are what
/// [`Optimizer::eval_params`](crate::Optimizer::eval_params) returns.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{Asgd, AsgdConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 1, 1.0))?;
/// // Average from the first step on.
/// let mut opt = AsgdConfig { lr: 0.1, lambd: 0.0, t0: 0.0, ..AsgdConfig::default() }.build(&store)?;
/// for _ in 0..4 {
///     store.grad_mut(w).fill(1.0);
///     opt.step(&mut store)?;
/// }
/// assert!((store.value(w)[0] - 0.6).abs() < 1e-12);
/// // ax: a copy through step t₀ + 2 (μ_k = 1/max(1, k − 1 − t₀)), then the
/// // running mean of the iterates from that step on.
/// let mut ax = store.params().clone();
/// opt.eval_params(&mut ax)?;
/// assert!((ax.value(w)[0] - (0.8 + 0.7 + 0.6) / 3.0).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Asgd;

/// Arguments of [`Asgd`]; `Default` is PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AsgdConfig {
    /// Learning rate (1e-2).
    pub lr: f64,
    /// λ, the decay term (1e-4).
    pub lambd: f64,
    /// α, the power of the rate's decay (0.75).
    pub alpha: f64,
    /// t₀, the step after which averaging starts (1e6).
    pub t0: f64,
    /// L2 weight decay added to the gradient (0).
    pub weight_decay: f64,
    /// Ascend instead of descend (false).
    pub maximize: bool,
}

impl Default for AsgdConfig {
    fn default() -> Self {
        AsgdConfig {
            lr: 1e-2,
            lambd: 1e-4,
            alpha: 0.75,
            t0: 1e6,
            weight_decay: 0.0,
            maximize: false,
        }
    }
}

impl OptimizerConfig for AsgdConfig {
    type Transform = Chain<(Option<Scale>, Option<AddDecayedWeights>, ScaleByAsgd)>;

    fn lr(&self) -> f64 {
        self.lr
    }

    /// PyTorch's checks (`lr ≥ 0`, `weight_decay ≥ 0`) and finite, non-negative
    /// `lambd` and `alpha` and a finite `t0`, which PyTorch leaves unchecked.
    fn validate(&self) -> Result<()> {
        check::lr(self.lr)?;
        non_negative("lambd", self.lambd)?;
        non_negative("alpha", self.alpha)?;
        check("t0", self.t0, self.t0.is_finite(), "a finite value")?;
        check::weight_decay(self.weight_decay)
    }

    fn transform(&self) -> Self::Transform {
        chain((
            self.maximize.then(|| scale(-1.0)),
            (self.weight_decay != 0.0).then(|| add_decayed_weights(self.weight_decay)),
            scale_by_asgd(self.lambd, self.alpha, self.t0),
        ))
    }
}

optimizer_constructors!(Asgd, AsgdConfig);
