//! LambdaLR: a closure as the multiplier.

use crate::Result;
use crate::args;
use descent_core::Schedule;
use std::fmt;

/// The base learning rate times a closure of the step (PyTorch `LambdaLR`):
/// `lr(t) = base_lr · lr_lambda(t)`.
///
/// A closure cannot be serialized, so neither can `LambdaLr`; for a
/// resumable run, save the step and rebuild the closure. (A bare
/// `Fn(u64) -> f64` is already a [`Schedule`]; `LambdaLr` keeps PyTorch's
/// split between base lr and factor.)
///
/// # Examples
///
/// ```
/// use descent_core::Schedule;
/// use descent_schedule::LambdaLr;
///
/// let s = LambdaLr::new(0.1, |step| 1.0 / (1.0 + step as f64))?;
/// assert_eq!(s.lrs(3), vec![0.1, 0.05, 0.1 / 3.0]);
/// # Ok::<(), descent_schedule::Error>(())
/// ```
#[doc(alias = "LambdaLR")]
#[derive(Clone)]
pub struct LambdaLr<F> {
    base_lr: f64,
    lr_lambda: F,
}

impl<F: Fn(u64) -> f64> LambdaLr<F> {
    /// Checks the base learning rate; the closure is trusted.
    pub fn new(base_lr: f64, lr_lambda: F) -> Result<Self> {
        Ok(LambdaLr {
            base_lr: args::base_lr(base_lr)?,
            lr_lambda,
        })
    }
}

impl<F: Fn(u64) -> f64> Schedule for LambdaLr<F> {
    fn lr(&self, step: u64) -> f64 {
        self.base_lr * (self.lr_lambda)(step)
    }
}

impl<F> fmt::Debug for LambdaLr<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LambdaLr")
            .field("base_lr", &self.base_lr)
            .finish_non_exhaustive()
    }
}
