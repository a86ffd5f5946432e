//! descent: the optimization and regularization toolkit of deep learning,
//! one small crate per idea.
//!
//! This facade re-exports the member crates:
//! - [`core`]: `Scalar`, `ParamStore`, `ParamId`, `Grads`, shared traits;
//! - [`autodiff`]: the tape, `Var` and its ops;
//! - [`optim`]: gradient transforms, optimizers built from them, clipping.

pub use descent_autodiff as autodiff;
pub use descent_core as core;
pub use descent_optim as optim;
