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
//!
//! [`Error`] holds any member crate's error (`From` for each), so `?` works
//! across crates in one function.

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
