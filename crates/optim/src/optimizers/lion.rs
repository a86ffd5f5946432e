//! `Lion`: signed momentum updates (Chen et al., 2023).

use crate::check;
use crate::error::Result;
use crate::optimizers::{Framed, OptimizerConfig, WeightDecay, framed, optimizer_constructors};
use crate::transform::{ScaleByLion, scale_by_lion};

/// Lion (not in PyTorch; optax `lion` and the paper). Weight decay, when
/// wanted, is usually `WeightDecay::Decoupled`.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{Lion, LionConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 1, 1.0))?;
/// let mut opt = LionConfig::default().build(&store)?;
/// store.grad_mut(w).fill(123.0);
/// opt.step(&mut store)?; // the step is lr · sign(...), whatever the gradient's size
/// assert!((store.value(w)[0] - (1.0 - 1e-4)).abs() < 1e-15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Lion;

/// Arguments of [`Lion`]; `Default` is the paper's (and lion-pytorch's).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LionConfig {
    /// Learning rate (1e-4).
    pub lr: f64,
    /// (β₁, β₂) = (0.9, 0.99).
    pub betas: (f64, f64),
    /// Weight decay (none).
    pub weight_decay: WeightDecay,
    /// Ascend instead of descend (false).
    pub maximize: bool,
}

impl Default for LionConfig {
    fn default() -> Self {
        LionConfig {
            lr: 1e-4,
            betas: (0.9, 0.99),
            weight_decay: WeightDecay::None,
            maximize: false,
        }
    }
}

impl OptimizerConfig for LionConfig {
    type Transform = Framed<ScaleByLion>;

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<()> {
        check::adam_family(self.lr, self.betas, None, self.weight_decay)
    }

    fn transform(&self) -> Self::Transform {
        let (b1, b2) = self.betas;
        framed(self.maximize, self.weight_decay, scale_by_lion(b1, b2))
    }
}

optimizer_constructors!(Lion, LionConfig);
