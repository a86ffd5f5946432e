//! SWALR: anneal to the constant learning rate of stochastic weight averaging.

use crate::args::{self, deserialize_via_new};
use crate::error::non_negative;
use crate::{AnnealStrategy, DynSchedule, Result, SequentialLr};
use descent_core::Schedule;
use serde::Serialize;
use std::f64::consts::PI;

/// Anneals from `base_lr` to `swa_lr` over `anneal_epochs` steps, then holds
/// `swa_lr` (PyTorch `torch.optim.swa_utils.SWALR`, closed form):
/// `lr(k) = swa_lr·α + base_lr·(1 − α)` with `α = f(min(1, k′ / max(1, E)))`,
/// `E = anneal_epochs`, `k′ = k` (`max(1, k)` when `E = 0`, so every value is
/// `swa_lr`), `f(t) = (1 − cos πt)/2` for [`AnnealStrategy::Cos`] and
/// `f(t) = t` for [`AnnealStrategy::Linear`]. PyTorch computes the same
/// values recursively from the optimizer's rate; they agree to about 1e-17.
///
/// A step is one call of PyTorch's `scheduler.step()`: an epoch in the SWA
/// recipe, an optimizer step when an optimizer drives it. To switch to SWALR
/// at `swa_start` after another schedule, as the recipe does, use
/// [`Swalr::after`].
///
/// # Examples
///
/// ```
/// use descent_core::Schedule;
/// use descent_schedule::{AnnealStrategy, Swalr};
///
/// let s = Swalr::new(0.1, 0.01, 10, AnnealStrategy::Cos)?;
/// assert_eq!(s.lr(0), 0.1);
/// assert!((s.lr(5) - 0.055).abs() < 1e-15);
/// assert_eq!(s.lr(10), 0.01);
/// assert_eq!(s.lr(1000), 0.01);
/// # Ok::<(), descent_schedule::Error>(())
/// ```
#[doc(alias = "SWALR")]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Swalr {
    base_lr: f64,
    swa_lr: f64,
    anneal_epochs: u64,
    anneal_strategy: AnnealStrategy,
}

impl Swalr {
    /// Checks `base_lr` and `swa_lr` (finite, not negative). PyTorch's
    /// defaults are `anneal_epochs = 10` and [`AnnealStrategy::Cos`].
    pub fn new(
        base_lr: f64,
        swa_lr: f64,
        anneal_epochs: u64,
        anneal_strategy: AnnealStrategy,
    ) -> Result<Self> {
        Ok(Swalr {
            base_lr: args::base_lr(base_lr)?,
            swa_lr: non_negative("swa_lr", swa_lr)?,
            anneal_epochs,
            anneal_strategy,
        })
    }

    /// `schedule` until step `swa_start`, then SWALR from the rate
    /// `schedule` had reached (its `lr(swa_start)`), as the SWA recipe
    /// switches schedulers: [`SequentialLr`] with one milestone.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_core::Schedule;
    /// use descent_schedule::{AnnealStrategy, CosineAnnealingLr, Swalr};
    ///
    /// let cosine = CosineAnnealingLr::new(0.1, 100, 0.0)?;
    /// let s = Swalr::after(cosine, 50, 0.02, 5, AnnealStrategy::Linear)?;
    /// assert!((s.lr(50) - 0.05).abs() < 1e-15); // where the cosine was
    /// assert!((s.lr(55) - 0.02).abs() < 1e-15);
    /// # Ok::<(), descent_schedule::Error>(())
    /// ```
    pub fn after(
        schedule: impl Schedule + Send + Sync + 'static,
        swa_start: u64,
        swa_lr: f64,
        anneal_epochs: u64,
        anneal_strategy: AnnealStrategy,
    ) -> Result<SequentialLr<DynSchedule>> {
        let base = schedule.lr(swa_start);
        let swalr = Swalr::new(base, swa_lr, anneal_epochs, anneal_strategy)?;
        SequentialLr::new(
            vec![DynSchedule::new(schedule), DynSchedule::new(swalr)],
            vec![swa_start],
        )
    }

    /// The rate held after annealing.
    pub fn swa_lr(&self) -> f64 {
        self.swa_lr
    }
}

deserialize_via_new!(Swalr { base_lr: f64, swa_lr: f64, anneal_epochs: u64, anneal_strategy: AnnealStrategy } => Swalr::new);

impl Schedule for Swalr {
    fn lr(&self, step: u64) -> f64 {
        let e = self.anneal_epochs;
        let k = if e == 0 { step.max(1) } else { step };
        let t = (k as f64 / e.max(1) as f64).min(1.0);
        let alpha = match self.anneal_strategy {
            AnnealStrategy::Cos => (1.0 - (PI * t).cos()) / 2.0,
            AnnealStrategy::Linear => t,
        };
        if alpha == 1.0 {
            return self.swa_lr;
        }
        self.swa_lr * alpha + self.base_lr * (1.0 - alpha)
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
        fn swalr_moves_monotonically_from_base_to_swa_lr_then_holds(
            base in 0.0..1.0f64, swa in 0.0..1.0f64, e in 0u64..40, cos in any::<bool>(),
        ) {
            let strategy = if cos { AnnealStrategy::Cos } else { AnnealStrategy::Linear };
            let s = Swalr::new(base, swa, e, strategy).unwrap();
            let lrs = s.lrs(e + 5);
            let (lo, hi) = (base.min(swa), base.max(swa));
            for w in lrs.windows(2) {
                prop_assert!(w[0] >= lo - 1e-15 && w[0] <= hi + 1e-15);
                let step = w[1] - w[0];
                prop_assert!(step * (swa - base) >= -1e-15, "not monotone: {w:?}");
            }
            prop_assert_eq!(s.lr(e), swa);
            prop_assert_eq!(s.lr(e + 100), swa);
        }
    }

    #[test]
    fn a_negative_swa_lr_is_rejected_and_serde_round_trips() {
        assert!(matches!(
            Swalr::new(0.1, -1.0, 5, AnnealStrategy::Cos),
            Err(crate::Error::Arg(ArgError { name: "swa_lr", reason, .. })) if reason == "must not be negative"
        ));
        let s = Swalr::new(0.1, 0.05, 5, AnnealStrategy::Linear).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Swalr>(&json).unwrap(), s);
        let bad = json.replace("0.05", "-0.05");
        assert!(serde_json::from_str::<Swalr>(&bad).is_err());
    }
}
