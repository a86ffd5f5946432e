//! CosineAnnealingLR.

use crate::Result;
use crate::args::{self, deserialize_via_new};
use crate::error::{finite, positive_count};
use descent_core::Schedule;
use serde::Serialize;
use std::f64::consts::PI;

/// Half a cosine from `base_lr` down to `eta_min` over `t_max` steps (PyTorch
/// `CosineAnnealingLR`, closed form):
/// `lr(t) = eta_min + (base_lr − eta_min) · (1 + cos(π t / t_max)) / 2`.
///
/// As in PyTorch, it is not clamped after `t_max`: the cosine continues and
/// climbs back to `base_lr` at `2 t_max`. For a schedule that stops at the
/// bottom, see [`WarmupCosine`](crate::WarmupCosine).
///
/// # Examples
///
/// ```
/// use descent_core::Schedule;
/// use descent_schedule::CosineAnnealingLr;
///
/// let s = CosineAnnealingLr::new(0.1, 10, 0.0)?;
/// assert_eq!(s.lr(0), 0.1);
/// assert!((s.lr(5) - 0.05).abs() < 1e-15);
/// assert_eq!(s.lr(10), 0.0);
/// assert!((s.lr(20) - 0.1).abs() < 1e-15); // not clamped
/// # Ok::<(), descent_schedule::Error>(())
/// ```
#[doc(alias = "CosineAnnealingLR")]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CosineAnnealingLr {
    base_lr: f64,
    t_max: u64,
    eta_min: f64,
}

impl CosineAnnealingLr {
    /// Checks `t_max ≥ 1` and a finite `eta_min` (PyTorch's default is 0).
    pub fn new(base_lr: f64, t_max: u64, eta_min: f64) -> Result<Self> {
        Ok(CosineAnnealingLr {
            base_lr: args::base_lr(base_lr)?,
            t_max: positive_count("t_max", t_max)?,
            eta_min: finite("eta_min", eta_min)?,
        })
    }
}

deserialize_via_new!(CosineAnnealingLr { base_lr: f64, t_max: u64, eta_min: f64 } => CosineAnnealingLr::new);

impl Schedule for CosineAnnealingLr {
    fn lr(&self, step: u64) -> f64 {
        cosine(self.base_lr, self.eta_min, step as f64, self.t_max as f64)
    }
}

/// `eta_min + (base − eta_min)(1 + cos(π t / period)) / 2`, evaluated in
/// PyTorch's order of operations, then kept between `eta_min` and `base`,
/// which rounding could otherwise overshoot by an ulp. At `t = 0` it is
/// exactly `base`, as PyTorch returns at step 0 and at a restart.
pub(crate) fn cosine(base: f64, eta_min: f64, t: f64, period: f64) -> f64 {
    if t == 0.0 {
        return base;
    }
    // PyTorch's order, π·t / T; near f64::MAX π·t overflows, so divide first.
    let phase = if (PI * t).is_finite() {
        PI * t / period
    } else {
        PI * (t / period)
    };
    let lr = eta_min + (base - eta_min) * (1.0 + phase.cos()) / 2.0;
    lr.clamp(eta_min.min(base), eta_min.max(base))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ArgError;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn cosine_stays_within_eta_min_and_base_lr_up_to_t_max(
            base in 0.0..10.0f64, frac in 0.0..=1.0f64, t_max in 1u64..500,
        ) {
            let eta_min = base * frac;
            let s = CosineAnnealingLr::new(base, t_max, eta_min).unwrap();
            for lr in s.lrs(t_max + 1) {
                prop_assert!(lr >= eta_min && lr <= base, "{lr} outside [{eta_min}, {base}]");
            }
            prop_assert_eq!(s.lr(0), base);
        }
    }

    #[test]
    fn t_max_zero_is_rejected() {
        assert_eq!(
            CosineAnnealingLr::new(0.1, 0, 0.0),
            Err(crate::Error::Arg(ArgError::new(
                "t_max",
                0.0,
                "must be positive"
            )))
        );
    }
}
