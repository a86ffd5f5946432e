//! `NAdam`: Adam with Nesterov momentum.

use crate::check;
use crate::error::{Result, non_negative};
use crate::optimizers::{Framed, OptimizerConfig, WeightDecay, framed, optimizer_constructors};
use crate::transform::{ScaleByNadam, scale_by_nadam};

/// PyTorch `NAdam` (`decoupled_weight_decay=True` is `WeightDecay::Decoupled`).
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{NAdam, NAdamConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 3, 1.0))?;
/// let opt = NAdamConfig::default().build(&store)?;
/// assert_eq!(opt.lr(), 2e-3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct NAdam;

/// Arguments of [`NAdam`]; `Default` is PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NAdamConfig {
    /// Learning rate (2e-3).
    pub lr: f64,
    /// (β₁, β₂) = (0.9, 0.999).
    pub betas: (f64, f64),
    /// ε (1e-8).
    pub eps: f64,
    /// Weight decay (none).
    pub weight_decay: WeightDecay,
    /// ψ, the momentum decay (4e-3).
    pub momentum_decay: f64,
    /// Ascend instead of descend (false).
    pub maximize: bool,
}

impl Default for NAdamConfig {
    fn default() -> Self {
        NAdamConfig {
            lr: 2e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: WeightDecay::None,
            momentum_decay: 4e-3,
            maximize: false,
        }
    }
}

impl OptimizerConfig for NAdamConfig {
    type Transform = Framed<ScaleByNadam>;

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<()> {
        check::adam_family(self.lr, self.betas, Some(self.eps), self.weight_decay)?;
        Ok(non_negative("momentum_decay", self.momentum_decay)?)
    }

    fn transform(&self) -> Self::Transform {
        let (b1, b2) = self.betas;
        let core = scale_by_nadam(b1, b2, self.eps, self.momentum_decay);
        framed(self.maximize, self.weight_decay, core)
    }
}

optimizer_constructors!(NAdam, NAdamConfig);
