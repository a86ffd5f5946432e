//! `Sgd`: gradient descent with optional momentum (heavy ball or Nesterov).

use crate::error::{Error, Result, closed_unit_interval, non_negative};
use crate::optimizers::{Framed, OptimizerConfig, WeightDecay, framed, optimizer_constructors};
use crate::transform::{Trace, trace};

/// PyTorch `SGD`. Full-batch gradient descent and mini-batch SGD are this
/// optimizer fed full or partial batches.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{Sgd, SgdConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 1, 1.0))?;
/// let mut opt = Sgd::new(&store, SgdConfig { lr: 0.1, momentum: 0.9, ..SgdConfig::default() })?;
/// store.grad_mut(w).fill(2.0);
/// opt.step(&mut store)?;
/// assert!((store.value(w)[0] - 0.8).abs() < 1e-15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Sgd;

/// Arguments of [`Sgd`]; `Default` is PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate (1e-3).
    pub lr: f64,
    /// Momentum factor (0: no momentum buffer).
    pub momentum: f64,
    /// Dampening of new gradients in the momentum buffer (0).
    pub dampening: f64,
    /// Weight decay (none; PyTorch's `weight_decay=λ` is `WeightDecay::L2(λ)`).
    pub weight_decay: WeightDecay,
    /// Nesterov momentum (false).
    pub nesterov: bool,
    /// Ascend instead of descend (false).
    pub maximize: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: WeightDecay::None,
            nesterov: false,
            maximize: false,
        }
    }
}

impl OptimizerConfig for SgdConfig {
    type Transform = Framed<Option<Trace>>;

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<()> {
        non_negative("lr", self.lr)?;
        non_negative("momentum", self.momentum)?;
        closed_unit_interval("dampening", self.dampening)?;
        self.weight_decay.validate()?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(Error::NesterovRequiresMomentum {
                momentum: self.momentum,
                dampening: self.dampening,
            });
        }
        Ok(())
    }

    fn transform(&self) -> Self::Transform {
        let momentum =
            (self.momentum > 0.0).then(|| trace(self.momentum, self.dampening, self.nesterov));
        framed(self.maximize, self.weight_decay, momentum)
    }
}

optimizer_constructors!(Sgd, SgdConfig);
