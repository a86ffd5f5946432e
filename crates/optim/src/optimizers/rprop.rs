//! `Rprop`: resilient backpropagation, per-element step sizes.

use crate::check;
use crate::error::{Result, non_negative};
use crate::optimizers::{OptimizerConfig, optimizer_constructors};
use crate::transform::{Chain, Scale, ScaleByRprop, chain, scale, scale_by_rprop};
use descent_core::range::check;

/// PyTorch `Rprop` (PyTorch 2.15).
///
/// The learning rate is each element's initial step size; PyTorch reads it
/// once, when the state is created on the first step, and so does this
/// optimizer: a rate set or scheduled later has no effect.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{Rprop, RpropConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 1, 1.0))?;
/// let mut opt = RpropConfig::default().build(&store)?;
/// store.grad_mut(w).fill(123.0);
/// opt.step(&mut store)?; // the first step is lr · sign(g), whatever its size
/// store.grad_mut(w).fill(5.0);
/// opt.step(&mut store)?; // same sign: the step grows by η₊ = 1.2
/// assert!((store.value(w)[0] - (1.0 - 0.01 - 0.012)).abs() < 1e-15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Rprop;

/// Arguments of [`Rprop`]; `Default` is PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RpropConfig {
    /// Learning rate: every element's first step size (1e-2).
    pub lr: f64,
    /// (η₋, η₊): the step-size factors on a sign flip and on a kept sign, (0.5, 1.2).
    pub etas: (f64, f64),
    /// (min, max) step sizes, (1e-6, 50).
    pub step_sizes: (f64, f64),
    /// Ascend instead of descend (false).
    pub maximize: bool,
}

impl Default for RpropConfig {
    fn default() -> Self {
        RpropConfig {
            lr: 1e-2,
            etas: (0.5, 1.2),
            step_sizes: (1e-6, 50.0),
            maximize: false,
        }
    }
}

impl OptimizerConfig for RpropConfig {
    type Transform = Chain<(Option<Scale>, ScaleByRprop)>;

    fn lr(&self) -> f64 {
        self.lr
    }

    /// PyTorch's checks (`lr ≥ 0`, `0 < η₋ < 1 < η₊`) and finite step-size
    /// bounds with `0 ≤ min ≤ max`, which PyTorch leaves unchecked.
    fn validate(&self) -> Result<()> {
        check::lr(self.lr)?;
        let (minus, plus) = self.etas;
        check("etas.0", minus, minus > 0.0 && minus < 1.0, "(0, 1)")?;
        check(
            "etas.1",
            plus,
            plus > 1.0 && plus.is_finite(),
            "a finite value > 1",
        )?;
        let (lo, hi) = self.step_sizes;
        non_negative("step_sizes.0", lo)?;
        check(
            "step_sizes.1",
            hi,
            hi >= lo && hi.is_finite(),
            "a finite value >= step_sizes.0",
        )?;
        Ok(())
    }

    fn transform(&self) -> Self::Transform {
        chain((
            self.maximize.then(|| scale(-1.0)),
            scale_by_rprop(self.etas, self.step_sizes),
        ))
    }
}

optimizer_constructors!(Rprop, RpropConfig);
