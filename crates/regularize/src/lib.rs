//! Regularization for descent: everything that keeps a network from fitting
//! its training set too well, or from falling off a cliff while it trains.
//!
//! - [`Penalty`] ([`L2`], [`L1`], [`ElasticNet`]): loss terms whose gradients
//!   are added into a `ParamStore`, on [`weights_only`] by default.
//! - [`EarlyStopping`]: Keras's callback, with a [`Snapshot`] of the best
//!   epoch's parameters and (opaque, generic) buffers.
//! - [`MaxNorm`]: the per-unit max-norm constraint used with dropout.
//! - [`GradientNoise`]: annealed Gaussian gradient noise.
//! - [`InstabilityGuard`]: rolls a run back to its last good state when the
//!   loss spikes, lowering the learning rate in a replayable `ManualSchedule`.
//! - [`epsilon_sharpness`] and [`top_hessian_eigenvalue`]: the flat-versus-sharp
//!   minima measures of Keskar et al. (2017).
//!
//! Not here: dropout, batch norm and Gaussian-noise layers (`descent-nn`),
//! decoupled weight decay (`descent-optim`), and label smoothing, which
//! `descent-autodiff`'s `cross_entropy` already offers as
//! `CrossEntropyConfig::label_smoothing`.
//!
//! This crate never sees the tape: sharpness measures take the loss and its
//! gradient as a closure over the `ParamStore`.
//!
//! # Code map
//!
//! - `penalty.rs`: [`Penalty`] (per-tensor value and gradient, a selector, and
//!   provided `value` / `add_grad` that walk the store) and [`weights_only`]
//!   (weights, not norm parameters, never biases); `penalty/norms.rs`: `L2`
//!   (λ/2·‖w‖²), `L1` (subgradient 0 at 0), `ElasticNet`.
//! - `snapshot.rs`: [`Snapshot<S, B>`](Snapshot): every parameter value plus an
//!   opaque `B: Clone` buffers value (batch-norm statistics from `nn`),
//!   retaken in place.
//! - `early_stopping.rs`: Keras 3's `EarlyStopping` plus a stop on a
//!   non-finite metric, with `state`/`load_state` for its resumable counters;
//!   its scripted-sequence tests are in `early_stopping/tests.rs`.
//! - `max_norm.rs` (`torch.renorm` on the rows of `[out, in]` weights) and
//!   `noise.rs` (σ²_t = η/(1+t)^γ) act on the store after or before a step.
//! - `guard.rs` + `guard/window.rs`: [`InstabilityGuard`].
//! - `sharpness.rs` (ε-sharpness by projected sign ascent in Keskar's box) and
//!   `sharpness/hessian.rs` (power iteration on central-difference
//!   Hessian-vector products).
//!
//! Dependencies: core, optim (only for the guard's `Optimizer` and
//! `OptimizerState`), schedule (for `ManualSchedule`), nalgebra, rand,
//! rand_distr, thiserror, serde; never the tape: losses enter as numbers or
//! closures over a `ParamStore`, buffers as an opaque `B: Clone`, and
//! randomness (gradient noise, the start of the ascent and of the power
//! iteration) only from the RNG passed in.
//!
//! Testing: properties beside each component (penalty gradients, max-norm
//! bounds, early stopping against a closed form on random metric sequences,
//! power iteration on random quadratics with known spectra); the guard is
//! tested on a streamed linear regression with corrupt batches
//! (`guard/tests.rs`).
//!
//! # Examples
//!
//! ```
//! use descent_core::{ParamStore, Tags};
//! use descent_regularize::{L2, MaxNorm, Penalty};
//! use nalgebra::DMatrix;
//!
//! let mut store = ParamStore::<f32>::new();
//! let w = store.register("fc.weight", Tags::WEIGHT, DMatrix::from_element(2, 3, 2.0))?;
//! let data_loss = 0.0; // from a forward and backward pass
//! let loss = data_loss + L2::new(1e-2)?.add_grad(&mut store);
//! assert!(loss > 0.0 && store.grad(w)[0] > 0.0);
//! // ... optimizer step, then the constraint:
//! MaxNorm::new(1.0)?.apply(store.params_mut());
//! assert!(store.value(w).row(0).norm() <= 1.0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod early_stopping;
mod error;
mod guard;
mod max_norm;
mod noise;
mod penalty;
mod sharpness;
mod snapshot;

pub use descent_core::ArgError;
pub use descent_core::Direction;
pub use early_stopping::{
    Decision, EarlyStopping, EarlyStoppingConfig, EarlyStoppingState, StopReason,
};
pub use error::{Error, Result};
pub use guard::{
    GoodRecord, GuardAction, GuardConfig, GuardEvent, GuardRecord, Instability, InstabilityGuard,
    WindowStatistic,
};
pub use max_norm::MaxNorm;
pub use noise::{GradientNoise, GradientNoiseConfig};
pub use penalty::{ElasticNet, L1, L2, Penalty, weights_only};
pub use sharpness::{
    PowerIterationConfig, Sharpness, SharpnessConfig, TopEigen, epsilon_sharpness,
    top_hessian_eigenvalue,
};
pub use snapshot::Snapshot;

/// The README, whose example runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
