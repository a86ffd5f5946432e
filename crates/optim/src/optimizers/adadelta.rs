//! `Adadelta`: unit-correct updates from two running averages.

use crate::check;
use crate::error::{Result, closed_unit_interval};
use crate::optimizers::{Framed, OptimizerConfig, WeightDecay, framed, optimizer_constructors};
use crate::transform::{ScaleByAdadelta, scale_by_adadelta};

/// PyTorch `Adadelta` (its `lr` multiplies the update, 1.0 by default).
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{Adadelta, AdadeltaConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 3, 1.0))?;
/// let opt = AdadeltaConfig::default().build(&store)?;
/// assert_eq!(opt.lr(), 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Adadelta;

/// Arguments of [`Adadelta`]; `Default` is PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdadeltaConfig {
    /// Learning rate (1.0).
    pub lr: f64,
    /// ρ (0.9).
    pub rho: f64,
    /// ε (1e-6).
    pub eps: f64,
    /// Weight decay (none).
    pub weight_decay: WeightDecay,
    /// Ascend instead of descend (false).
    pub maximize: bool,
}

impl Default for AdadeltaConfig {
    fn default() -> Self {
        AdadeltaConfig {
            lr: 1.0,
            rho: 0.9,
            eps: 1e-6,
            weight_decay: WeightDecay::None,
            maximize: false,
        }
    }
}

impl OptimizerConfig for AdadeltaConfig {
    type Transform = Framed<ScaleByAdadelta>;

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<()> {
        check::lr(self.lr)?;
        closed_unit_interval("rho", self.rho)?;
        check::eps_positive(self.eps)?;
        self.weight_decay.validate()
    }

    fn transform(&self) -> Self::Transform {
        framed(
            self.maximize,
            self.weight_decay,
            scale_by_adadelta(self.rho, self.eps),
        )
    }
}

optimizer_constructors!(Adadelta, AdadeltaConfig);
