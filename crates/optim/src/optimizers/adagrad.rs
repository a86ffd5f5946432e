//! `Adagrad`: per-coordinate rates from the summed squared gradients.

use crate::check;
use crate::error::{Result, non_negative};
use crate::optimizers::{Framed, OptimizerConfig, WeightDecay, framed, optimizer_constructors};
use crate::transform::{ScaleByAdagrad, scale_by_adagrad};

/// PyTorch `Adagrad`.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{Adagrad, AdagradConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 3, 1.0))?;
/// let opt = AdagradConfig::default().build(&store)?;
/// assert_eq!(opt.lr(), 1e-2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Adagrad;

/// Arguments of [`Adagrad`]; `Default` is PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdagradConfig {
    /// Learning rate (1e-2).
    pub lr: f64,
    /// Rate decay per step (0).
    pub lr_decay: f64,
    /// Weight decay (none).
    pub weight_decay: WeightDecay,
    /// Starting value of the accumulator (0).
    pub initial_accumulator_value: f64,
    /// ε (1e-10).
    pub eps: f64,
    /// Ascend instead of descend (false).
    pub maximize: bool,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        AdagradConfig {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: WeightDecay::None,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            maximize: false,
        }
    }
}

impl OptimizerConfig for AdagradConfig {
    type Transform = Framed<ScaleByAdagrad>;

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<()> {
        check::lr(self.lr)?;
        non_negative("lr_decay", self.lr_decay)?;
        non_negative("initial_accumulator_value", self.initial_accumulator_value)?;
        check::eps_positive(self.eps)?;
        self.weight_decay.validate()
    }

    fn transform(&self) -> Self::Transform {
        let core = scale_by_adagrad(self.lr_decay, self.initial_accumulator_value, self.eps);
        framed(self.maximize, self.weight_decay, core)
    }
}

optimizer_constructors!(Adagrad, AdagradConfig);
