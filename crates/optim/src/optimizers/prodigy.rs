//! `Prodigy`: optax's learning-rate-free Adam.

use crate::check;
use crate::error::{Result, non_negative, positive};
use crate::optimizers::{OptimizerConfig, optimizer_constructors};
use crate::transform::{ScaleByProdigy, scale_by_prodigy};

/// optax `contrib.prodigy` (Mishchenko & Defazio 2023): one stage,
/// [`scale_by_prodigy`], whose output is the update (the learning rate, 1 by
/// default, multiplies the estimated step size d). The estimate is the
/// state's `estim_lr` ([`Optimizer::state`](crate::Optimizer::state)).
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{Prodigy, ProdigyConfig};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 2, 1.0))?;
/// let mut opt = ProdigyConfig { estim_lr0: 1e-3, ..ProdigyConfig::default() }.build(&store)?;
/// for _ in 0..20 {
///     let g = store.value(w).map(|p| 2.0 * p); // d/dw of w²
///     store.grad_mut(w).copy_from(&g);
///     opt.step(&mut store)?;
/// }
/// // The estimate d has grown from 1e-3 towards the distance to the minimum.
/// let d = opt.state().groups[0].state["estim_lr"].as_f64().unwrap();
/// assert!(d > 1e-2, "{d}");
/// assert!(store.value(w)[0] < 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Prodigy;

/// Arguments of [`Prodigy`]; `Default` is optax 0.2.8's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProdigyConfig {
    /// Learning rate, a multiplier of the estimate (1.0).
    pub lr: f64,
    /// (β₁, β₂) = (0.9, 0.999).
    pub betas: (f64, f64),
    /// β₃ (none: √β₂).
    pub beta3: Option<f64>,
    /// ε (1e-8).
    pub eps: f64,
    /// d₀, the initial estimate (1e-6).
    pub estim_lr0: f64,
    /// The estimate's multiplier (1.0).
    pub estim_lr_coef: f64,
    /// Decoupled weight decay (0).
    pub weight_decay: f64,
    /// Leave the learning rate out of the denominator's sum (false).
    pub safeguard_warmup: bool,
}

impl Default for ProdigyConfig {
    fn default() -> Self {
        ProdigyConfig {
            lr: 1.0,
            betas: (0.9, 0.999),
            beta3: None,
            eps: 1e-8,
            estim_lr0: 1e-6,
            estim_lr_coef: 1.0,
            weight_decay: 0.0,
            safeguard_warmup: false,
        }
    }
}

impl OptimizerConfig for ProdigyConfig {
    type Transform = ScaleByProdigy;

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<()> {
        check::lr(self.lr)?;
        check::betas(self.betas)?;
        if let Some(b3) = self.beta3 {
            check::beta("beta3", b3)?;
        }
        check::eps_non_negative(self.eps)?;
        positive("estim_lr0", self.estim_lr0)?;
        non_negative("estim_lr_coef", self.estim_lr_coef)?;
        check::weight_decay(self.weight_decay)
    }

    fn transform(&self) -> Self::Transform {
        scale_by_prodigy(
            self.betas,
            self.beta3,
            self.eps,
            self.estim_lr0,
            self.estim_lr_coef,
            self.weight_decay,
            self.safeguard_warmup,
        )
    }
}

optimizer_constructors!(Prodigy, ProdigyConfig);
