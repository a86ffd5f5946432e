//! Step decays: StepLR and MultiStepLR.

use crate::Result;
use crate::args::{self, deserialize_via_new};
use crate::error::{non_decreasing, non_negative, positive_count};
use descent_core::Schedule;
use serde::Serialize;

/// Multiplies the learning rate by `gamma` every `step_size` steps
/// (PyTorch `StepLR`): `lr(t) = base_lr · gamma^⌊t / step_size⌋`.
///
/// # Examples
///
/// ```
/// use descent_core::Schedule;
/// use descent_schedule::StepLr;
///
/// let s = StepLr::new(0.1, 3, 0.5)?;
/// assert_eq!(s.lrs(7), vec![0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]);
/// # Ok::<(), descent_schedule::Error>(())
/// ```
#[doc(alias = "StepLR")]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepLr {
    base_lr: f64,
    step_size: u64,
    gamma: f64,
}

impl StepLr {
    /// Checks `step_size ≥ 1` and `gamma ≥ 0` (PyTorch's default gamma is 0.1).
    pub fn new(base_lr: f64, step_size: u64, gamma: f64) -> Result<Self> {
        Ok(StepLr {
            base_lr: args::base_lr(base_lr)?,
            step_size: positive_count("step_size", step_size)?,
            gamma: non_negative("gamma", gamma)?,
        })
    }
}

deserialize_via_new!(StepLr { base_lr: f64, step_size: u64, gamma: f64 } => StepLr::new);

impl Schedule for StepLr {
    fn lr(&self, step: u64) -> f64 {
        self.base_lr * self.gamma.powf((step / self.step_size) as f64)
    }
}

/// Multiplies the learning rate by `gamma` at each milestone (PyTorch
/// `MultiStepLR`); a milestone listed twice multiplies twice.
///
/// # Examples
///
/// ```
/// use descent_core::Schedule;
/// use descent_schedule::MultiStepLr;
///
/// let s = MultiStepLr::new(1.0, vec![2, 4, 4], 0.5)?;
/// assert_eq!(s.lrs(6), vec![1.0, 1.0, 0.5, 0.5, 0.125, 0.125]);
/// assert!(MultiStepLr::new(1.0, vec![4, 2], 0.5).is_err()); // out of order
/// # Ok::<(), descent_schedule::Error>(())
/// ```
#[doc(alias = "MultiStepLR")]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MultiStepLr {
    base_lr: f64,
    milestones: Vec<u64>,
    gamma: f64,
}

impl MultiStepLr {
    /// Checks that `milestones` never decrease and `gamma ≥ 0`.
    pub fn new(base_lr: f64, milestones: Vec<u64>, gamma: f64) -> Result<Self> {
        non_decreasing("milestones", &milestones)?;
        Ok(MultiStepLr {
            base_lr: args::base_lr(base_lr)?,
            milestones,
            gamma: non_negative("gamma", gamma)?,
        })
    }
}

deserialize_via_new!(MultiStepLr { base_lr: f64, milestones: Vec<u64>, gamma: f64 } => MultiStepLr::new);

impl Schedule for MultiStepLr {
    fn lr(&self, step: u64) -> f64 {
        let passed = self.milestones.partition_point(|&m| m <= step);
        self.base_lr * self.gamma.powf(passed as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ArgError;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn step_lr_is_non_increasing_for_gamma_at_most_one(
            base in 0.0..10.0f64, size in 1u64..20, gamma in 0.0..=1.0f64,
        ) {
            let lrs = StepLr::new(base, size, gamma).unwrap().lrs(100);
            prop_assert!(lrs.windows(2).all(|w| w[1] <= w[0]));
        }

        #[test]
        fn multi_step_lr_is_non_increasing_for_gamma_at_most_one(
            base in 0.0..10.0f64, mut milestones in prop::collection::vec(0u64..80, 0..6),
            gamma in 0.0..=1.0f64,
        ) {
            milestones.sort_unstable();
            let s = MultiStepLr::new(base, milestones.clone(), gamma).unwrap();
            let lrs = s.lrs(100);
            prop_assert!(lrs.windows(2).all(|w| w[1] <= w[0]));
            let expected = base * gamma.powi(milestones.len() as i32);
            prop_assert!((s.lr(100) - expected).abs() <= 1e-12 * base);
        }
    }

    #[test]
    fn invalid_arguments_are_typed_errors() {
        assert!(matches!(
            StepLr::new(0.1, 0, 0.5),
            Err(crate::Error::Arg(ArgError { name: "step_size", reason, .. })) if reason == "must be positive"
        ));
        assert!(matches!(
            MultiStepLr::new(0.1, vec![3, 5, 4], 0.5),
            Err(crate::Error::OutOfOrder {
                name: "milestones",
                index: 2,
                value: 4,
                previous: 5
            })
        ));
        assert!(matches!(
            StepLr::new(-0.1, 1, 0.5),
            Err(crate::Error::Arg(ArgError { name: "base_lr", reason, .. })) if reason == "must not be negative"
        ));
    }

    #[test]
    fn deserialization_revalidates() {
        let s = MultiStepLr::new(0.1, vec![1, 2], 0.5).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<MultiStepLr>(&json).unwrap(), s);
        let bad = r#"{"base_lr":0.1,"milestones":[2,1],"gamma":0.5}"#;
        assert!(serde_json::from_str::<MultiStepLr>(bad).is_err());
    }
}
