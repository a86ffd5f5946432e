//! Linear warm-up, then cosine decay: the schedule most runs want.

use crate::ArgError;
use crate::args::{self, deserialize_via_new};
use crate::cosine::cosine;
use crate::error::{finite, unit_interval};
use crate::{Error, Result};
use descent_core::Schedule;
use serde::Serialize;

/// Linear warm-up from `start_factor · base_lr` to `base_lr` over
/// `warmup_steps`, then half a cosine down to `eta_min` at `total_steps`,
/// where it stays.
///
/// Up to `total_steps` it equals PyTorch's
/// `SequentialLR([LinearLR(start_factor, 1.0, warmup_steps), CosineAnnealingLR(total_steps − warmup_steps, eta_min)], [warmup_steps])`;
/// unlike `CosineAnnealingLR` it is clamped afterwards. The defaults are
/// `start_factor = 0` (the first step has lr 0, as in most warm-up recipes)
/// and `eta_min = 0`.
///
/// # Examples
///
/// ```
/// use descent_core::Schedule;
/// use descent_schedule::WarmupCosine;
///
/// let s = WarmupCosine::new(0.1, 10, 110)?.with_eta_min(1e-3)?;
/// assert_eq!(s.lr(0), 0.0);
/// assert!((s.lr(5) - 0.05).abs() < 1e-17);
/// assert_eq!(s.lr(10), 0.1);
/// assert_eq!(s.lr(110), 1e-3);
/// assert_eq!(s.lr(1000), 1e-3);
/// # Ok::<(), descent_schedule::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WarmupCosine {
    base_lr: f64,
    warmup_steps: u64,
    total_steps: u64,
    start_factor: f64,
    eta_min: f64,
}

impl WarmupCosine {
    /// Checks `total_steps > warmup_steps`; `warmup_steps` may be 0.
    pub fn new(base_lr: f64, warmup_steps: u64, total_steps: u64) -> Result<Self> {
        if total_steps <= warmup_steps {
            return Err(Error::Arg(ArgError::new(
                "total_steps",
                total_steps,
                format!("must be at least {}", warmup_steps + 1),
            )));
        }
        Ok(WarmupCosine {
            base_lr: args::base_lr(base_lr)?,
            warmup_steps,
            total_steps,
            start_factor: 0.0,
            eta_min: 0.0,
        })
    }

    /// Starts the warm-up at `start_factor · base_lr`, with `start_factor ∈ [0, 1]`.
    pub fn with_start_factor(mut self, start_factor: f64) -> Result<Self> {
        self.start_factor = unit_interval("start_factor", start_factor, "[0, 1]")?;
        Ok(self)
    }

    /// Ends the cosine at `eta_min` instead of 0.
    pub fn with_eta_min(mut self, eta_min: f64) -> Result<Self> {
        self.eta_min = finite("eta_min", eta_min)?;
        Ok(self)
    }
}

deserialize_via_new!(WarmupCosine { base_lr: f64, warmup_steps: u64, total_steps: u64, start_factor: f64, eta_min: f64 }
=> |b, w, t, s, e| -> Result<WarmupCosine> {
    WarmupCosine::new(b, w, t)?.with_start_factor(s)?.with_eta_min(e)
});

impl Schedule for WarmupCosine {
    fn lr(&self, step: u64) -> f64 {
        if step < self.warmup_steps {
            // LinearLr's arithmetic, so the two agree bit for bit.
            let f = self.start_factor;
            self.base_lr * (f + (1.0 - f) * step as f64 / self.warmup_steps as f64)
        } else if step >= self.total_steps {
            self.eta_min
        } else {
            let t = (step - self.warmup_steps) as f64;
            let period = (self.total_steps - self.warmup_steps) as f64;
            cosine(self.base_lr, self.eta_min, t, period)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CosineAnnealingLr, DynSchedule, LinearLr, SequentialLr};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn warmup_cosine_equals_sequential_linear_then_cosine(
            base in 1e-4..1.0f64, warmup in 1u64..50, len in 1u64..200,
            start_factor in 1e-3..=1.0f64, eta_frac in 0.0..1.0f64,
        ) {
            let total = warmup + len;
            let eta_min = base * eta_frac;
            let s = WarmupCosine::new(base, warmup, total).unwrap()
                .with_start_factor(start_factor).unwrap()
                .with_eta_min(eta_min).unwrap();
            let reference = SequentialLr::new(vec![
                DynSchedule::new(LinearLr::new(base, start_factor, 1.0, warmup).unwrap()),
                DynSchedule::new(CosineAnnealingLr::new(base, len, eta_min).unwrap()),
            ], vec![warmup]).unwrap();
            for step in 0..=total {
                prop_assert_eq!(s.lr(step), reference.lr(step), "step {}", step);
            }
            prop_assert_eq!(s.lr(total + 1 + len), eta_min);
        }
    }

    #[test]
    fn total_steps_must_exceed_warmup() {
        assert_eq!(
            WarmupCosine::new(0.1, 10, 10),
            Err(Error::Arg(ArgError::new(
                "total_steps",
                10,
                "must be at least 11"
            )))
        );
    }
}
