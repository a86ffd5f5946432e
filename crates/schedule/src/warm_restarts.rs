//! CosineAnnealingWarmRestarts (SGDR).

use crate::ArgError;
use crate::args::{self, deserialize_via_new};
use crate::cosine::cosine;
use crate::error::{finite, positive_count};
use crate::{Error, Result};
use descent_core::Schedule;
use serde::Serialize;

/// Cosine annealing that restarts at `base_lr` (PyTorch
/// `CosineAnnealingWarmRestarts`, SGDR): the first cycle lasts `t_0` steps
/// and each next cycle `t_mult` times longer.
///
/// [`lr_at_epoch`](Self::lr_at_epoch) takes fractional epochs, as PyTorch's
/// `scheduler.step(epoch + i / iters)` does.
///
/// # Examples
///
/// ```
/// use descent_core::Schedule;
/// use descent_schedule::CosineAnnealingWarmRestarts;
///
/// let s = CosineAnnealingWarmRestarts::new(0.1, 2, 2, 0.0)?;
/// // Cycles start at steps 0, 2, 6, 14, ...
/// for restart in [0, 2, 6, 14] {
///     assert_eq!(s.lr(restart), 0.1);
/// }
/// assert!((s.lr(1) - 0.05).abs() < 1e-15);
/// assert!((s.lr_at_epoch(2.5)? - s.lr_at_epoch(0.25)?).abs() < 1e-15); // same phase, second cycle
/// # Ok::<(), descent_schedule::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CosineAnnealingWarmRestarts {
    base_lr: f64,
    t_0: u64,
    t_mult: u64,
    eta_min: f64,
}

impl CosineAnnealingWarmRestarts {
    /// Checks `t_0 ≥ 1`, `t_mult ≥ 1` and a finite `eta_min` (PyTorch's
    /// defaults: `t_mult = 1`, `eta_min = 0`).
    pub fn new(base_lr: f64, t_0: u64, t_mult: u64, eta_min: f64) -> Result<Self> {
        Ok(CosineAnnealingWarmRestarts {
            base_lr: args::base_lr(base_lr)?,
            t_0: positive_count("t_0", t_0)?,
            t_mult: positive_count("t_mult", t_mult)?,
            eta_min: finite("eta_min", eta_min)?,
        })
    }

    /// The learning rate at a fractional `epoch`; a NaN or infinite epoch is
    /// [`Error::NonFinite`] and a negative one [`Error::Negative`] (PyTorch
    /// raises on a negative epoch too).
    ///
    /// The cycle is found by summing cycle lengths, so every restart gives
    /// exactly `base_lr`, where PyTorch's logarithm can land one ulp short.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_schedule::{ArgError, CosineAnnealingWarmRestarts, Error};
    ///
    /// let s = CosineAnnealingWarmRestarts::new(0.1, 2, 2, 0.0)?;
    /// assert_eq!(s.lr_at_epoch(6.0)?, 0.1);
    /// assert!(matches!(s.lr_at_epoch(f64::INFINITY), Err(Error::Arg(ArgError { name: "epoch", reason, .. })) if reason == "must be finite"));
    /// assert!(matches!(s.lr_at_epoch(-1.0), Err(Error::Arg(ArgError { name: "epoch", reason, .. })) if reason == "must not be negative"));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn lr_at_epoch(&self, epoch: f64) -> Result<f64> {
        let epoch = finite("epoch", epoch)?;
        if epoch < 0.0 {
            return Err(Error::Arg(ArgError::new(
                "epoch",
                epoch,
                "must not be negative",
            )));
        }
        Ok(self.lr_at(epoch))
    }

    /// The rate at a finite, non-negative epoch.
    fn lr_at(&self, epoch: f64) -> f64 {
        let (t_cur, t_i) = self.position(epoch);
        cosine(self.base_lr, self.eta_min, t_cur, t_i)
    }

    /// `(T_cur, T_i)`: the time since the last restart and the current
    /// cycle's length. `epoch` is finite, so the loop ends: cycle lengths grow
    /// geometrically and reach `epoch` (or infinity) within about 1100 cycles.
    fn position(&self, epoch: f64) -> (f64, f64) {
        let t_0 = self.t_0 as f64;
        if self.t_mult == 1 {
            return (epoch % t_0, t_0);
        }
        let (mut start, mut t_i) = (0.0, t_0);
        while epoch >= start + t_i {
            start += t_i;
            t_i *= self.t_mult as f64;
        }
        (epoch - start, t_i)
    }
}

deserialize_via_new!(CosineAnnealingWarmRestarts { base_lr: f64, t_0: u64, t_mult: u64, eta_min: f64 }
    => CosineAnnealingWarmRestarts::new);

impl Schedule for CosineAnnealingWarmRestarts {
    fn lr(&self, step: u64) -> f64 {
        self.lr_at(step as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn warm_restarts_return_to_base_lr_at_every_restart(
            base in 1e-4..10.0f64, frac in 0.0..1.0f64, t_0 in 1u64..20, t_mult in 1u64..4,
        ) {
            let s = CosineAnnealingWarmRestarts::new(base, t_0, t_mult, base * frac).unwrap();
            let (mut restart, mut len, mut prev_len) = (0u64, t_0, 0u64);
            while restart < 5000 {
                prop_assert_eq!(s.lr(restart), base);
                if prev_len > 1 && frac < 0.99 {
                    // The step before a restart is the bottom of the previous cycle.
                    prop_assert!(s.lr(restart - 1) < s.lr(restart));
                }
                restart += len;
                prev_len = len;
                len *= t_mult;
            }
        }

        #[test]
        fn fractional_epochs_lie_between_their_integer_neighbours_within_a_cycle(
            t_0 in 2u64..20, e in 0.0..1.0f64,
        ) {
            let s = CosineAnnealingWarmRestarts::new(1.0, t_0, 1, 0.0).unwrap();
            let x = s.lr_at_epoch(e).unwrap();
            prop_assert!(x <= s.lr(0) && x >= s.lr(1));
        }
    }

    #[test]
    fn non_finite_and_negative_epochs_are_typed_errors_and_huge_ones_end() {
        for t_mult in [1, 2, 3] {
            let s = CosineAnnealingWarmRestarts::new(0.1, 3, t_mult, 0.01).unwrap();
            for e in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
                assert!(
                    matches!(
                        s.lr_at_epoch(e),
                        Err(Error::Arg(ArgError { name: "epoch", reason, .. })) if reason == "must be finite"
                    ),
                    "{e}"
                );
            }
            assert!(matches!(
                s.lr_at_epoch(-0.5),
                Err(Error::Arg(ArgError { name: "epoch", reason, .. })) if reason == "must not be negative"
            ));
            for e in [f64::MAX, 1e300, 2f64.powi(64)] {
                let lr = s.lr_at_epoch(e).unwrap();
                assert!((0.01..=0.1).contains(&lr), "{lr} at {e}");
            }
            let lr = s.lr(u64::MAX);
            assert!((0.01..=0.1).contains(&lr), "{lr}");
        }
    }

    #[test]
    fn t_0_zero_is_a_typed_error() {
        assert_eq!(
            CosineAnnealingWarmRestarts::new(0.1, 0, 1, 0.0),
            Err(crate::Error::Arg(ArgError::new(
                "t_0",
                0.0,
                "must be positive"
            )))
        );
        assert!(matches!(
            CosineAnnealingWarmRestarts::new(0.1, 1, 0, 0.0),
            Err(crate::Error::Arg(ArgError { name: "t_mult", reason, .. })) if reason == "must be positive"
        ));
    }
}
