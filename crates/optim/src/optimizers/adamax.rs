//! `Adamax`: Adam with the infinity norm.

use crate::check;
use crate::error::Result;
use crate::optimizers::{Framed, OptimizerConfig, WeightDecay, framed, optimizer_constructors};
use crate::transform::{ScaleByAdamax, scale_by_adamax};

/// PyTorch `Adamax`.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{Adamax, AdamaxConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 3, 1.0))?;
/// let opt = AdamaxConfig::default().build(&store)?;
/// assert_eq!(opt.lr(), 2e-3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Adamax;

/// Arguments of [`Adamax`]; `Default` is PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamaxConfig {
    /// Learning rate (2e-3).
    pub lr: f64,
    /// (β₁, β₂) = (0.9, 0.999).
    pub betas: (f64, f64),
    /// ε (1e-8).
    pub eps: f64,
    /// Weight decay (none).
    pub weight_decay: WeightDecay,
    /// Ascend instead of descend (false).
    pub maximize: bool,
}

impl Default for AdamaxConfig {
    fn default() -> Self {
        AdamaxConfig {
            lr: 2e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: WeightDecay::None,
            maximize: false,
        }
    }
}

impl OptimizerConfig for AdamaxConfig {
    type Transform = Framed<ScaleByAdamax>;

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<()> {
        check::adam_family(self.lr, self.betas, Some(self.eps), self.weight_decay)
    }

    fn transform(&self) -> Self::Transform {
        let (b1, b2) = self.betas;
        framed(
            self.maximize,
            self.weight_decay,
            scale_by_adamax(b1, b2, self.eps),
        )
    }
}

optimizer_constructors!(Adamax, AdamaxConfig);
