//! `Sophia`: optax's Sophia, with the Hessian-diagonal estimate supplied by
//! the training loop through a [`HessianFeed`].

use crate::ArgError;
use crate::check;
use crate::error::{Error, Result, non_negative, positive};
use crate::optimizers::{OptimizerConfig, optimizer_constructors};
use crate::transform::{
    AddDecayedWeights, Chain, HessianFeed, Masked, ScaleByLearningRate, ScaleBySophia,
    add_decayed_weights, chain, masked, scale_by_learning_rate, scale_by_sophia,
};
use descent_core::Selector;

/// optax `contrib.sophia` (Liu et al. 2023): `scale_by_sophia` →
/// `add_decayed_weights` (on `weight_decay_mask`; absent when 0) →
/// `scale_by_learning_rate`.
///
/// optax's default Hessian estimator is Hutchinson's, `r ⊙ (H r)` for a
/// Rademacher `r`, which needs the objective: here the caller computes it
/// (one Hessian-vector product, e.g. through the tape) before each step
/// [`SophiaConfig::wants_hessian`] names and hands it to the config's
/// [`HessianFeed`]. A step that wants one and finds none keeps the old
/// average and counts a miss in the state (`hessian_misses`).
///
/// # Examples
///
/// ```
/// use descent_core::{ParamStore, Tags};
/// use descent_optim::{Sophia, SophiaConfig};
/// use nalgebra::DMatrix;
///
/// // f(w) = ½·Σ aᵢwᵢ², whose Hessian diagonal is a.
/// let a = [1.0, 4.0];
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_row_slice(1, 2, &[1.0, 1.0]))?;
/// let cfg = SophiaConfig { lr: 0.1, update_interval: 1, ..SophiaConfig::default() };
/// let mut opt = cfg.clone().build(&store)?;
/// for _ in 0..50 {
///     let g = DMatrix::from_fn(1, 2, |_, j| a[j] * store.value(w)[j]);
///     store.grad_mut(w).copy_from(&g);
///     if cfg.wants_hessian(opt.steps()) {
///         cfg.hessian.provide(vec![a.to_vec()]);
///     }
///     opt.step(&mut store)?;
/// }
/// assert!(store.value(w).amax() < 0.1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Sophia;

/// Arguments of [`Sophia`]; `Default` is optax 0.2.8's (learning rate 1e-3)
/// with a fresh [`HessianFeed`].
#[derive(Clone, Debug, PartialEq)]
pub struct SophiaConfig {
    /// Learning rate (1e-3).
    pub lr: f64,
    /// β₁ (0.965).
    pub b1: f64,
    /// β₂ (0.99).
    pub b2: f64,
    /// ε (1e-8).
    pub eps: f64,
    /// Decoupled weight decay, scaled by the learning rate (1e-4).
    pub weight_decay: f64,
    /// The parameters the decay applies to (all).
    pub weight_decay_mask: Selector,
    /// γ (0.01).
    pub gamma: f64,
    /// Clip updates to ±this (1.0); `None`: no clipping.
    pub clip_threshold: Option<f64>,
    /// Steps between Hessian estimates (10).
    pub update_interval: u64,
    /// Where the caller hands the estimates.
    pub hessian: HessianFeed,
}

impl Default for SophiaConfig {
    fn default() -> Self {
        SophiaConfig {
            lr: 1e-3,
            b1: 0.965,
            b2: 0.99,
            eps: 1e-8,
            weight_decay: 1e-4,
            weight_decay_mask: Selector::All,
            gamma: 0.01,
            clip_threshold: Some(1.0),
            update_interval: 10,
            hessian: HessianFeed::new(),
        }
    }
}

impl SophiaConfig {
    /// True when the step after `step` completed steps (`Optimizer::steps`)
    /// uses a Hessian estimate: `step % update_interval == 0`.
    pub fn wants_hessian(&self, step: u64) -> bool {
        step.is_multiple_of(self.update_interval.max(1))
    }
}

impl OptimizerConfig for SophiaConfig {
    type Transform = Chain<(
        ScaleBySophia,
        Option<Masked<AddDecayedWeights>>,
        ScaleByLearningRate,
    )>;

    fn lr(&self) -> f64 {
        self.lr
    }

    fn validate(&self) -> Result<()> {
        check::lr(self.lr)?;
        check::b1_b2(self.b1, self.b2)?;
        check::eps_positive(self.eps)?;
        check::weight_decay(self.weight_decay)?;
        non_negative("gamma", self.gamma)?;
        if let Some(c) = self.clip_threshold {
            positive("clip_threshold", c)?;
        }
        if self.update_interval < 1 {
            return Err(Error::Arg(ArgError::new(
                "update_interval",
                0.0,
                "expected at least 1",
            )));
        }
        Ok(())
    }

    fn transform(&self) -> Self::Transform {
        chain((
            scale_by_sophia(
                self.b1,
                self.b2,
                self.eps,
                self.gamma,
                self.clip_threshold,
                self.update_interval,
                self.hessian.clone(),
            ),
            (self.weight_decay != 0.0).then(|| {
                masked(
                    add_decayed_weights(self.weight_decay),
                    self.weight_decay_mask.clone(),
                )
            }),
            scale_by_learning_rate(),
        ))
    }
}

optimizer_constructors!(Sophia, SophiaConfig);
