//! LinearLR and ConstantLR: a factor on the base learning rate that changes
//! for `total_iters` steps and then stays.

use crate::Result;
use crate::args::{self, deserialize_via_new};
use crate::error::{positive_count, unit_interval};
use descent_core::Schedule;
use serde::Serialize;

/// Moves the factor linearly from `start_factor` to `end_factor` over
/// `total_iters` steps, then keeps `end_factor` (PyTorch `LinearLR`); the
/// usual linear warm-up.
///
/// # Examples
///
/// ```
/// use descent_core::Schedule;
/// use descent_schedule::LinearLr;
///
/// let warmup = LinearLr::new(0.1, 0.25, 1.0, 3)?;
/// let lrs = warmup.lrs(5);
/// assert_eq!(lrs[0], 0.025);
/// assert!((lrs[1] - 0.05).abs() < 1e-16);
/// assert_eq!(lrs[3..], [0.1, 0.1]);
/// # Ok::<(), descent_schedule::Error>(())
/// ```
#[doc(alias = "LinearLR")]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinearLr {
    base_lr: f64,
    start_factor: f64,
    end_factor: f64,
    total_iters: u64,
}

impl LinearLr {
    /// Checks, as PyTorch does, `start_factor ∈ (0, 1]` and `end_factor ∈ [0, 1]`,
    /// and also `total_iters ≥ 1` (PyTorch's closed form divides by it).
    /// PyTorch's defaults are `1/3`, `1.0` and `5`.
    pub fn new(base_lr: f64, start_factor: f64, end_factor: f64, total_iters: u64) -> Result<Self> {
        Ok(LinearLr {
            base_lr: args::base_lr(base_lr)?,
            start_factor: unit_interval("start_factor", start_factor, "(0, 1]")?,
            end_factor: unit_interval("end_factor", end_factor, "[0, 1]")?,
            total_iters: positive_count("total_iters", total_iters)?,
        })
    }
}

deserialize_via_new!(LinearLr { base_lr: f64, start_factor: f64, end_factor: f64, total_iters: u64 }
    => LinearLr::new);

impl Schedule for LinearLr {
    fn lr(&self, step: u64) -> f64 {
        let done = step.min(self.total_iters) as f64;
        self.base_lr
            * (self.start_factor
                + (self.end_factor - self.start_factor) * done / self.total_iters as f64)
    }
}

/// Multiplies the learning rate by `factor` for the first `total_iters`
/// steps, then uses `base_lr` (PyTorch `ConstantLR`).
///
/// # Examples
///
/// ```
/// use descent_core::Schedule;
/// use descent_schedule::ConstantLr;
///
/// let s = ConstantLr::new(0.1, 0.5, 2)?;
/// assert_eq!(s.lrs(4), vec![0.05, 0.05, 0.1, 0.1]);
/// # Ok::<(), descent_schedule::Error>(())
/// ```
#[doc(alias = "ConstantLR")]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConstantLr {
    base_lr: f64,
    factor: f64,
    total_iters: u64,
}

impl ConstantLr {
    /// Checks `factor ∈ [0, 1]` (PyTorch's defaults: `1/3` and `5`).
    /// `total_iters = 0` means the factor is never applied.
    pub fn new(base_lr: f64, factor: f64, total_iters: u64) -> Result<Self> {
        Ok(ConstantLr {
            base_lr: args::base_lr(base_lr)?,
            factor: unit_interval("factor", factor, "[0, 1]")?,
            total_iters,
        })
    }
}

deserialize_via_new!(ConstantLr { base_lr: f64, factor: f64, total_iters: u64 } => ConstantLr::new);

impl Schedule for ConstantLr {
    fn lr(&self, step: u64) -> f64 {
        let done = if step >= self.total_iters { 1.0 } else { 0.0 };
        self.base_lr * (self.factor + done * (1.0 - self.factor))
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
        fn linear_lr_is_monotone_and_ends_at_end_factor(
            base in 0.0..10.0f64, start in 1e-3..=1.0f64, end in 0.0..=1.0f64, n in 1u64..50,
        ) {
            let s = LinearLr::new(base, start, end, n).unwrap();
            let lrs = s.lrs(n + 10);
            let up = end >= start;
            let monotone = |w: &[f64]| match up {
                true => w[1] >= w[0] - 1e-15,
                false => w[1] <= w[0] + 1e-15,
            };
            prop_assert!(lrs.windows(2).all(monotone));
            prop_assert!((lrs[n as usize + 5] - base * end).abs() <= 1e-15 * base.max(1.0));
        }

        #[test]
        fn constant_lr_is_non_decreasing(base in 0.0..10.0f64, f in 0.0..=1.0f64, n in 0u64..20) {
            let lrs = ConstantLr::new(base, f, n).unwrap().lrs(30);
            prop_assert!(lrs.windows(2).all(|w| w[1] >= w[0]));
            prop_assert_eq!(lrs[29], base);
        }
    }

    #[test]
    fn factors_outside_the_unit_interval_are_rejected() {
        assert!(matches!(
            LinearLr::new(0.1, 0.0, 1.0, 5),
            Err(crate::Error::Arg(ArgError { name: "start_factor", reason, .. })) if reason == "must lie in (0, 1]"
        ));
        assert!(matches!(
            ConstantLr::new(0.1, 1.5, 5),
            Err(crate::Error::Arg(ArgError { name: "factor", reason, .. })) if reason.starts_with("must lie in")
        ));
        assert!(matches!(
            LinearLr::new(0.1, 0.5, 1.0, 0),
            Err(crate::Error::Arg(ArgError { name: "total_iters", reason, .. })) if reason == "must be positive"
        ));
    }
}
