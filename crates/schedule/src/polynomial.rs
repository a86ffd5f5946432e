//! PolynomialLR.

use crate::Result;
use crate::args::{self, deserialize_via_new};
use crate::error::{non_negative, positive_count};
use descent_core::Schedule;
use serde::Serialize;

/// Decays to zero over `total_iters` steps as a polynomial (PyTorch
/// `PolynomialLR`): `lr(t) = base_lr · (1 − min(t, total_iters) / total_iters)^power`.
///
/// # Examples
///
/// ```
/// use descent_core::Schedule;
/// use descent_schedule::PolynomialLr;
///
/// let s = PolynomialLr::new(1.0, 4, 2.0)?;
/// assert_eq!(s.lrs(6), vec![1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]);
/// # Ok::<(), descent_schedule::Error>(())
/// ```
#[doc(alias = "PolynomialLR")]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolynomialLr {
    base_lr: f64,
    total_iters: u64,
    power: f64,
}

impl PolynomialLr {
    /// Checks `total_iters ≥ 1` and `power ≥ 0` (PyTorch's defaults: 5 and 1.0).
    pub fn new(base_lr: f64, total_iters: u64, power: f64) -> Result<Self> {
        Ok(PolynomialLr {
            base_lr: args::base_lr(base_lr)?,
            total_iters: positive_count("total_iters", total_iters)?,
            power: non_negative("power", power)?,
        })
    }
}

deserialize_via_new!(PolynomialLr { base_lr: f64, total_iters: u64, power: f64 } => PolynomialLr::new);

impl Schedule for PolynomialLr {
    fn lr(&self, step: u64) -> f64 {
        let done = step.min(self.total_iters) as f64 / self.total_iters as f64;
        self.base_lr * (1.0 - done).powf(self.power)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn polynomial_lr_is_non_increasing(base in 0.0..10.0f64, n in 1u64..50, power in 0.0..5.0f64) {
            let lrs = PolynomialLr::new(base, n, power).unwrap().lrs(n + 5);
            prop_assert!(lrs.windows(2).all(|w| w[1] <= w[0]));
        }
    }
}
