//! descent: the optimization and regularization toolkit of deep learning,
//! one small crate per idea.
//!
//! This facade re-exports the member crates:
//! - [`core`]: `Scalar`, `ParamStore`, `ParamId`, `Grads`, shared traits;
//! - [`autodiff`]: the tape, `Var` and its ops;
//! - [`nn`]: layers, initializers and PyTorch-compatible model state;
//! - [`optim`]: gradient transforms, optimizers built from them, clipping;
//! - [`schedule`]: learning-rate schedules;
//! - [`data`]: datasets, data loaders, generated sets and file loaders;
//! - [`augment`]: image and text augmentation;
//! - [`regularize`]: penalties, early stopping, constraints, gradient noise,
//!   the instability guard and sharpness measures;
//! - [`hpo`]: search spaces, samplers, pruners and studies that survive a crash.
//! - [`train`]: the training loop that composes them, and its checkpoints.
//!
//! [`Error`] holds any member crate's error (`From` for each), so `?` works
//! across crates in one function.
//!
//! # Entry points
//!
//! A training step is: a forward pass recorded on a `Tape`, `Tape::backward`
//! adding gradients into a `ParamStore`, an optimizer rewriting those
//! gradients into updates, the updates applied to the values. Each crate's
//! `lib.rs` docs (or, for xtask, `main.rs`) hold its code map.
//!
//! - `cargo test --workspace`: unit tests beside the code, contract and parity
//!   tests in `crates/<name>/tests/`, cross-crate tests in the root `tests/`;
//!   the PyTorch reference files are vendored in `tests/golden/`.
//! - `.ci/run`: fmt, clippy, the tests from a fresh clone with no `../shared`
//!   beside it (`.ci/self-contained.sh`), the shared-study tests
//!   (`.ci/hpo.sh`), the doc build (`.ci/docs.sh`), `reproduce --quick`, the
//!   examples (`.ci/examples.sh`), the playground in a headless browser
//!   (`.ci/playground.sh`), a short fuzz pass (`.ci/fuzz.sh`).
//! - `cargo xtask reproduce | bench | soak | fuzz | hpo | tidy` (`xtask/src/main.rs`).
//! - `cargo run --release -p descent-playground`: the playground on 127.0.0.1.
//! - `examples/*.rs` at the root (`cargo run --release --example NAME`):
//!   `mnist_mlp`, `cnn_augment`, `resume`, `digits_mlp`, each training
//!   through descent-train and printing its accuracy, and `hpo_worker`.
//!
//! # Across the crates
//!
//! - Dependency rule: `optim`, `schedule`, `regularize`, `augment`, `data`
//!   and `hpo` never depend on `autodiff`; only `nn` and `train` know the tape
//!   (and the dev-only `bench` and `xtask`); nobody but `xtask`, the dev-only
//!   `bench` and `fuzz`, the `playground` binary and this facade depends on
//!   `train`, and nothing depends on `playground`. The root `tests/tidy.rs`
//!   enforces it by reading every `Cargo.toml`.
//! - Errors: one `thiserror` enum per crate with structured fields,
//!   `#[non_exhaustive]`, a bad argument being core's `ArgError`; validation
//!   happens once at the boundary (`register`, `build`, `load`); the root
//!   `tests/invalid_args.rs` is one table of invalid arguments across every
//!   crate, each its typed error, never a panic.
//! - Determinism: randomness enters only through an explicit RNG; seeds are
//!   fixed in tests; results do not depend on the thread count
//!   (`descent_core::threads`).
//! - Files: every file descent writes goes through
//!   `descent_core::fs::write_atomic`.
//! - Testing: PyTorch parity is data-driven over every case of every golden
//!   file, dispatching on the case's kind and `hyper`, never its name; the
//!   root `tests/golden_training.rs` trains every `training.json` model end to
//!   end through the `Trainer`. Performance targets live in criterion
//!   benchmarks and `cargo xtask bench`, never in timed tests.

mod error;

pub use error::{Error, Result};

pub use descent_augment as augment;
pub use descent_autodiff as autodiff;
pub use descent_core as core;
pub use descent_data as data;
pub use descent_hpo as hpo;
pub use descent_nn as nn;
pub use descent_optim as optim;
pub use descent_regularize as regularize;
pub use descent_schedule as schedule;
pub use descent_train as train;

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
