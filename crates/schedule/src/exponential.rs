//! ExponentialLR.

use crate::Result;
use crate::args::{self, deserialize_via_new};
use crate::error::non_negative;
use descent_core::Schedule;
use serde::Serialize;

/// Multiplies the learning rate by `gamma` every step (PyTorch
/// `ExponentialLR`): `lr(t) = base_lr · gammaᵗ`.
///
/// # Examples
///
/// ```
/// use descent_core::Schedule;
/// use descent_schedule::ExponentialLr;
///
/// let s = ExponentialLr::new(1.0, 0.5)?;
/// assert_eq!(s.lrs(4), vec![1.0, 0.5, 0.25, 0.125]);
/// # Ok::<(), descent_schedule::Error>(())
/// ```
#[doc(alias = "ExponentialLR")]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExponentialLr {
    base_lr: f64,
    gamma: f64,
}

impl ExponentialLr {
    /// Checks `gamma ≥ 0`.
    pub fn new(base_lr: f64, gamma: f64) -> Result<Self> {
        Ok(ExponentialLr {
            base_lr: args::base_lr(base_lr)?,
            gamma: non_negative("gamma", gamma)?,
        })
    }
}

deserialize_via_new!(ExponentialLr { base_lr: f64, gamma: f64 } => ExponentialLr::new);

impl Schedule for ExponentialLr {
    fn lr(&self, step: u64) -> f64 {
        self.base_lr * self.gamma.powf(step as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn exponential_lr_is_non_increasing_for_gamma_at_most_one(
            base in 0.0..10.0f64, gamma in 0.0..=1.0f64,
        ) {
            let lrs = ExponentialLr::new(base, gamma).unwrap().lrs(200);
            prop_assert!(lrs.windows(2).all(|w| w[1] <= w[0]));
        }
    }
}
