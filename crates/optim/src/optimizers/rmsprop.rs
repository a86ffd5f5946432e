//! `RmsProp`: division by a running RMS, optionally centered, with optional momentum.

use crate::check;
use crate::error::{Result, closed_unit_interval};
use crate::optimizers::{Framed, OptimizerConfig, WeightDecay, framed, optimizer_constructors};
use crate::transform::{Chain, ScaleByRms, Trace, chain, scale_by_rms, trace};

/// PyTorch `RMSprop`.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{RmsProp, RmsPropConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 3, 1.0))?;
/// let opt = RmsPropConfig { centered: true, momentum: 0.9, ..RmsPropConfig::default() }.build(&store)?;
/// assert_eq!(opt.lr(), 1e-2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RmsProp;

/// Arguments of [`RmsProp`]; `Default` is PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsPropConfig {
    /// Learning rate (1e-2).
    pub lr: f64,
    /// α, the smoothing constant (0.99).
    pub alpha: f64,
    /// ε (1e-8).
    pub eps: f64,
    /// Weight decay (none).
    pub weight_decay: WeightDecay,
    /// Momentum (0).
    pub momentum: f64,
    /// Centered RMSprop (false).
    pub centered: bool,
    /// Ascend instead of descend (false).
    pub maximize: bool,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        RmsPropConfig {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: WeightDecay::None,
            momentum: 0.0,
            centered: false,
            maximize: false,
        }
    }
}

impl OptimizerConfig for RmsPropConfig {
    type Transform = Framed<Chain<(ScaleByRms, Option<Trace>)>>;

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<()> {
        check::lr(self.lr)?;
        closed_unit_interval("alpha", self.alpha)?;
        check::eps_positive(self.eps)?;
        check::momentum(self.momentum)?;
        self.weight_decay.validate()
    }

    fn transform(&self) -> Self::Transform {
        let rms = scale_by_rms(self.alpha, self.eps, self.centered);
        let momentum = (self.momentum > 0.0).then(|| trace(self.momentum, 0.0, false));
        framed(self.maximize, self.weight_decay, chain((rms, momentum)))
    }
}

optimizer_constructors!(RmsProp, RmsPropConfig);
