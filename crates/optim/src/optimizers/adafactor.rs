//! `Adafactor`: factored second moments, relative step sizes.

use crate::check;
use crate::error::{Result, non_negative, positive};
use crate::optimizers::{OptimizerConfig, optimizer_constructors};
use crate::transform::{ScaleByAdafactor, scale_by_adafactor};
use descent_core::range::check;

/// PyTorch `Adafactor` (PyTorch 2.15's `torch.optim.Adafactor`); the update
/// rule is [`ScaleByAdafactor`]'s. Parameters with two or more rows keep
/// factored (row and column) second moments; one-row parameters (biases,
/// PyTorch's 1-d tensors) an element-wise one.
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{Adafactor, AdafactorConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(4, 3, 1.0))?;
/// let mut opt = AdafactorConfig::default().build(&store)?;
/// store.grad_mut(w).fill(0.5);
/// opt.step(&mut store)?;
/// // Step 1 moves each element by ρ·RMS(p) = min(lr, 1)·1 = 0.01.
/// assert!((store.value(w)[0] - 0.99).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Adafactor;

/// Arguments of [`Adafactor`]; `Default` is PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdafactorConfig {
    /// Learning rate: the cap of the relative step size ρ and the scale of
    /// the weight decay (1e-2).
    pub lr: f64,
    /// The exponent of β₂'s schedule, `1 − β₂,t = t^beta2_decay` (−0.8).
    pub beta2_decay: f64,
    /// (ε₁, ε₂) = (machine epsilon of the parameter type, 1e-3); `None` for
    /// ε₁ is PyTorch's `None`.
    pub eps: (Option<f64>, f64),
    /// d, the clipping threshold of the update's RMS (1).
    pub d: f64,
    /// Decoupled weight decay λ: `p ← p·(1 − lr·λ)` (0).
    pub weight_decay: f64,
    /// Ascend instead of descend (false).
    pub maximize: bool,
}

impl Default for AdafactorConfig {
    fn default() -> Self {
        AdafactorConfig {
            lr: 1e-2,
            beta2_decay: -0.8,
            eps: (None, 1e-3),
            d: 1.0,
            weight_decay: 0.0,
            maximize: false,
        }
    }
}

impl OptimizerConfig for AdafactorConfig {
    type Transform = ScaleByAdafactor;

    fn lr(&self) -> f64 {
        self.lr
    }

    /// PyTorch's checks (`lr ≥ 0`, `beta2_decay ≤ 0`, `eps ≥ 0`,
    /// `weight_decay ≥ 0`) and a positive `d`, which PyTorch leaves unchecked.
    fn validate(&self) -> Result<()> {
        check::lr(self.lr)?;
        let b = self.beta2_decay;
        check(
            "beta2_decay",
            b,
            b <= 0.0 && b.is_finite(),
            "a finite value <= 0",
        )?;
        if let Some(eps1) = self.eps.0 {
            non_negative("eps.0", eps1)?;
        }
        non_negative("eps.1", self.eps.1)?;
        positive("d", self.d)?;
        check::weight_decay(self.weight_decay)
    }

    fn transform(&self) -> Self::Transform {
        scale_by_adafactor(
            self.beta2_decay,
            self.eps,
            self.d,
            self.weight_decay,
            self.maximize,
        )
    }
}

optimizer_constructors!(Adafactor, AdafactorConfig);
