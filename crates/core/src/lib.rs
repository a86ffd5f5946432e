//! Vocabulary shared by every descent crate.
//!
//! `descent-core` holds the types every other crate speaks in and nothing else:
//!
//! - [`Scalar`]: `f32` or `f64`; everything numeric in descent is generic over it.
//! - [`ParamStore`]: every trainable tensor's value and gradient under a dense,
//!   deterministic [`ParamId`], with a dotted name (`block1.fc.weight`) and [`Tags`].
//! - [`Params`] and [`Grads`]: the two halves of a store, which optimizers borrow separately.
//! - [`GradientTransform`] and [`Schedule`]: the traits optimizers and learning-rate
//!   schedules implement.
//! - [`Error`]: the typed errors of this crate; [`ArgError`]: the one shape of
//!   "bad argument" (name, value, reason) every crate's error wraps as its
//!   `Arg` variant; [`range`]: the hyperparameter range checks returning it; [`threads`]: how many
//!   threads parallel kernels may use (`DESCENT_NUM_THREADS`, `set_num_threads`).
//! - [`ImageShape`] (channels, height, width) and [`Direction`] (minimize or
//!   maximize a metric): facts several crates speak of, given one type here;
//!   likewise [`Selector`], which parameters a group, mask, penalty or
//!   constraint applies to.
//! - [`Parallelism`] (threads, minimum work per thread): how a kernel cuts
//!   its work across threads, for the optimizers' walk and batch augmentation.
//! - [`fs::write_atomic`]: the one way descent puts a file in place (unique
//!   temporary name, fsync, rename, fsync of the directory).
//!
//! # Code map
//!
//! - `scalar.rs`: [`Scalar`]; `param.rs`: [`ParamId`], [`Tags`], [`ParamMeta`],
//!   [`Params`] and [`ParamStore`] (= `Params` + `Grads`; `split_mut` lends both
//!   halves, which is what an optimizer step needs); `grads.rs`: [`Grads`].
//! - `traits.rs`: [`GradientTransform`], [`Schedule`] and [`StepCtx`], what an
//!   optimizer fills in each step (step count, absolute lr, lr multiplier, and
//!   the driven hyperparameters); it is `#[non_exhaustive]`, built with `new`
//!   and `with_*`, so further hyperparameters enter the same way.
//! - `shape.rs`: [`ImageShape`] (the tape, the data sets and augmentation);
//!   `direction.rs`: [`Direction`] (early stopping, plateau schedules,
//!   checkpoint policies and studies; reads PyTorch's `min`/`max` and Optuna's
//!   spellings); `select.rs`: [`Selector`].
//! - `arg.rs`: [`ArgError`]; `range.rs`: the range checks; `error.rs`: [`Error`].
//! - `fs.rs`: the one atomic write ([`fs::write_atomic`]).
//! - `threads.rs`: the one thread setting that GEMM, elementwise loops,
//!   optimizer walks and batch augmentation all read, and descent's pool
//!   ([`threads::install`]); the root `tests/thread_budget.rs` counts the busy
//!   threads in `/proc`.
//!
//! Dependencies: nalgebra, thiserror, rand_core, serde and rayon-core (for the
//! pool of [`threads::install`]) only, checked by the root tidy test.
//!
//! # Examples
//!
//! ```
//! use descent_core::{ParamStore, Tags};
//! use nalgebra::DMatrix;
//!
//! let mut store = ParamStore::<f64>::new();
//! let w = store.register("fc.weight", Tags::WEIGHT, DMatrix::zeros(3, 2))?;
//! let b = store.register("fc.bias", Tags::BIAS, DMatrix::zeros(1, 3))?;
//! assert_eq!(store.id("fc.bias"), Some(b));
//! assert_eq!(store.value(w).shape(), (3, 2));
//! # Ok::<(), descent_core::Error>(())
//! ```

mod arg;
mod direction;
mod error;
pub mod fs;
mod grads;
mod parallelism;
mod param;
pub mod range;
mod scalar;
mod select;
mod shape;
pub mod threads;
mod traits;

pub use arg::ArgError;
pub use direction::Direction;
pub use error::{Error, Result};
pub use grads::Grads;
pub use parallelism::Parallelism;
pub use param::{ParamId, ParamMeta, ParamStore, Params, Tags};
pub use scalar::Scalar;
pub use select::Selector;
pub use shape::ImageShape;
pub use traits::{GradientTransform, Schedule, StepCtx};

/// Re-export of the matrix library descent is built on.
pub use nalgebra;
/// Re-export of the RNG traits through which all randomness enters descent.
pub use rand_core;

/// The README, whose example runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
