//! Learning-rate schedules for descent.
//!
//! A schedule is a pure function of the step: it implements
//! [`descent_core::Schedule`] (`fn lr(&self, step: u64) -> f64`, plus
//! `lrs(n)` to sample ahead for plots), so an optimizer takes any of them
//! (`descent_optim::Optimizer::set_lr_schedule`), and resuming a run means
//! restoring a step count. Every schedule is given its base learning rate,
//! so `lr(step)` is the actual learning rate, not a factor, and the
//! optimizer uses it as it is. Only [`ReduceLrOnPlateau`] keeps state: it observes a metric
//! through the separate [`MetricSchedule`] trait.
//!
//! PyTorch's schedulers, with their names in Rust case, arguments and
//! semantics (closed forms, which agree with PyTorch's recursive updates to
//! about 1e-14):
//!
//! | PyTorch | here |
//! |---|---|
//! | `StepLR`, `MultiStepLR`, `ExponentialLR` | [`StepLr`], [`MultiStepLr`], [`ExponentialLr`] |
//! | `CosineAnnealingLR`, `CosineAnnealingWarmRestarts` | [`CosineAnnealingLr`], [`CosineAnnealingWarmRestarts`] |
//! | `LinearLR`, `ConstantLR`, `PolynomialLR` | [`LinearLr`], [`ConstantLr`], [`PolynomialLr`] |
//! | `OneCycleLR`, `CyclicLR` (with momentum cycling) | [`OneCycleLr`], [`CyclicLr`] ([`MomentumSchedule`]) |
//! | `LambdaLR` | [`LambdaLr`] |
//! | `SequentialLR`, `ChainedScheduler` | [`SequentialLr`], [`ChainedScheduler`] |
//! | `ReduceLROnPlateau` | [`ReduceLrOnPlateau`] |
//! | `swa_utils.SWALR` | [`Swalr`] ([`Swalr::after`] switches to it at `swa_start`) |
//!
//! And two of our own: [`WarmupCosine`], linear warm-up then cosine decay,
//! and [`ManualSchedule`], a list of hand-made `(step, lr or multiplier)`
//! changes that can be appended to during a run and replayed exactly.
//!
//! Invalid arguments are rejected at construction with a typed [`Error`].
//! Schedules serialize as their constructor arguments (serde), and
//! deserialization runs the same checks; [`LambdaLr`] and [`DynSchedule`]
//! hold closures or trait objects and do not serialize.
//!
//! # Code map
//!
//! One PyTorch scheduler (or pair) per file: `step.rs` (StepLr, MultiStepLr),
//! `exponential.rs`, `cosine.rs`, `warm_restarts.rs`, `linear.rs` (LinearLr,
//! ConstantLr), `polynomial.rs`, `one_cycle.rs`, `cyclic.rs`, `lambda.rs`,
//! `sequential.rs` (SequentialLr, ChainedScheduler, whose parts are factors
//! built over a base lr of 1), `plateau.rs` (ReduceLrOnPlateau, whose mode is
//! core's `Direction`; an optimizer holds it in its saved state through
//! `set_lr_plateau`), `swalr.rs` (SWALR in closed form); our own
//! `warmup_cosine.rs` and `manual.rs`. Beside them: `traits.rs`
//! (MomentumSchedule, MomentumOf, MetricSchedule, DynSchedule), `stepper.rs`
//! (schedule + step count), `args.rs` (deserialize through `new`), `error.rs`.
//!
//! Momentum cycling (OneCycleLr, CyclicLr) is a second output,
//! [`MomentumSchedule::momentum`]; the optimizer decides whether it drives
//! `momentum` or β₁ (`Optimizer::set_lr_and_momentum_schedule`, or
//! `set_momentum_schedule` with [`MomentumOf`]).
//!
//! Testing: a property test beside each property (bounds in `cosine.rs`, the
//! cosine exactly `base_lr` at step 0 and at every restart, ...);
//! `tests/golden.rs` (PyTorch 2.15 at relative 1e-10; the worst closed-form
//! difference seen on the golden files is 5e-16) and `tests/contract.rs` (the
//! common suite over every schedule). Exact JSON replay relies on
//! `serde_json`'s `float_roundtrip` feature (its default float parsing is
//! best-effort); the tests enable it.
//!
//! # Examples
//!
//! ```
//! use descent_core::Schedule;
//! use descent_schedule::WarmupCosine;
//!
//! let schedule = WarmupCosine::new(3e-4, 100, 10_000)?;
//! let lrs = schedule.lrs(10_000); // for a plot
//! assert_eq!(lrs[100], 3e-4);
//! # Ok::<(), descent_schedule::Error>(())
//! ```

mod args;
mod cosine;
mod cyclic;
mod error;
mod exponential;
mod lambda;
mod linear;
mod manual;
mod one_cycle;
mod plateau;
mod polynomial;
mod sequential;
mod step;
mod stepper;
mod swalr;
mod traits;
mod warm_restarts;
mod warmup_cosine;

pub use cosine::CosineAnnealingLr;
pub use cyclic::{CyclicLr, CyclicLrConfig, CyclicMode};
pub use descent_core::ArgError;
pub use descent_core::Direction;
#[allow(deprecated)]
pub use error::ScheduleError;
pub use error::{Error, Result};
pub use exponential::ExponentialLr;
pub use lambda::LambdaLr;
pub use linear::{ConstantLr, LinearLr};
pub use manual::{Change, ChangePoint, ManualSchedule};
pub use one_cycle::{AnnealStrategy, OneCycleLr, OneCycleLrConfig};
pub use plateau::{PlateauState, ReduceLrOnPlateau, ReduceLrOnPlateauConfig, ThresholdMode};
pub use polynomial::PolynomialLr;
pub use sequential::{ChainedScheduler, SequentialLr};
pub use step::{MultiStepLr, StepLr};
pub use stepper::Stepper;
pub use swalr::Swalr;
pub use traits::{DynSchedule, MetricSchedule, MomentumOf, MomentumSchedule};
pub use warm_restarts::CosineAnnealingWarmRestarts;
pub use warmup_cosine::WarmupCosine;

/// Re-export of the trait every schedule here implements.
pub use descent_core::Schedule;

/// The README, whose example runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
