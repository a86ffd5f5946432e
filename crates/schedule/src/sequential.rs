//! SequentialLR and ChainedScheduler: schedules built from schedules.

use crate::args;
use crate::error::non_decreasing;
use crate::{DynSchedule, Error, Result};
use descent_core::Schedule;
use serde::{Deserialize, Serialize};

/// Runs `schedulers[i]` between milestones `i − 1` and `i` (PyTorch
/// `SequentialLR`); each one restarts from its own step 0 at its milestone.
///
/// Every part is a full schedule with its own base lr (usually the same).
/// `lr(0)` is the first part's `lr(0)`, as PyTorch leaves it after
/// construction. A milestone repeated skips the schedule between the copies.
///
/// `S` is any schedule type; the default, [`DynSchedule`], mixes types.
/// `SequentialLr<S>` serializes when `S` does.
///
/// # Examples
///
/// ```
/// use descent_core::Schedule;
/// use descent_schedule::{CosineAnnealingLr, DynSchedule, LinearLr, SequentialLr};
///
/// let warmup = LinearLr::new(0.1, 0.1, 1.0, 5)?;
/// let cosine = CosineAnnealingLr::new(0.1, 25, 0.0)?;
/// let s = SequentialLr::new(vec![DynSchedule::new(warmup), DynSchedule::new(cosine)], vec![5])?;
/// assert!((s.lr(0) - 0.01).abs() < 1e-17);
/// assert_eq!(s.lr(5), 0.1); // the cosine's own step 0
/// assert_eq!(s.lr(30), 0.0);
/// # Ok::<(), descent_schedule::Error>(())
/// ```
#[doc(alias = "SequentialLR")]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SequentialLr<S = DynSchedule> {
    schedulers: Vec<S>,
    milestones: Vec<u64>,
}

impl<S: Schedule> SequentialLr<S> {
    /// Checks that there is at least one schedule, one milestone fewer than
    /// schedules, and that milestones never decrease.
    pub fn new(schedulers: Vec<S>, milestones: Vec<u64>) -> Result<Self> {
        if schedulers.is_empty() {
            return Err(Error::Empty { name: "schedulers" });
        }
        if milestones.len() != schedulers.len() - 1 {
            return Err(Error::LengthMismatch {
                name: "milestones",
                expected: schedulers.len() - 1,
                got: milestones.len(),
            });
        }
        non_decreasing("milestones", &milestones)?;
        Ok(SequentialLr {
            schedulers,
            milestones,
        })
    }

    /// The schedule in force at `step` and the step at which it started.
    pub fn part_at(&self, step: u64) -> (&S, u64) {
        let idx = self.milestones.partition_point(|&m| m <= step);
        let start = if idx == 0 {
            0
        } else {
            self.milestones[idx - 1]
        };
        (&self.schedulers[idx], start)
    }
}

impl<S: Schedule> Schedule for SequentialLr<S> {
    fn lr(&self, step: u64) -> f64 {
        let (part, start) = self.part_at(step);
        part.lr(step - start)
    }
}

impl<'de, S: Schedule + Deserialize<'de>> Deserialize<'de> for SequentialLr<S> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw<S> {
            schedulers: Vec<S>,
            milestones: Vec<u64>,
        }
        let raw = Raw::<S>::deserialize(d)?;
        Self::new(raw.schedulers, raw.milestones).map_err(serde::de::Error::custom)
    }
}

/// Multiplies the factors of several schedules at every step (PyTorch
/// `ChainedScheduler`): `lr(t) = base_lr · Π schedulers[i].lr(t)`.
///
/// Each part gives a *factor*: build it with a base lr of 1.0. This equals
/// PyTorch's chaining for every multiplicative scheduler (StepLR,
/// MultiStepLR, ExponentialLR, LinearLR, ConstantLR, PolynomialLR,
/// CosineAnnealingLR with `eta_min = 0`, LambdaLR); PyTorch's recursive
/// update treats a non-zero `eta_min` as an additive term instead.
///
/// # Examples
///
/// ```
/// use descent_core::Schedule;
/// use descent_schedule::{ChainedScheduler, ConstantLr, DynSchedule, ExponentialLr};
///
/// let parts = vec![
///     DynSchedule::new(ConstantLr::new(1.0, 0.2, 4)?),
///     DynSchedule::new(ExponentialLr::new(1.0, 0.9)?),
/// ];
/// let s = ChainedScheduler::new(0.1, parts)?;
/// assert!((s.lr(3) - 0.1 * 0.2 * 0.729).abs() < 1e-17);
/// assert!((s.lr(4) - 0.1 * 0.6561).abs() < 1e-17);
/// # Ok::<(), descent_schedule::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChainedScheduler<S = DynSchedule> {
    base_lr: f64,
    schedulers: Vec<S>,
}

impl<S: Schedule> ChainedScheduler<S> {
    /// Checks the base lr and that there is at least one factor.
    pub fn new(base_lr: f64, schedulers: Vec<S>) -> Result<Self> {
        if schedulers.is_empty() {
            return Err(Error::Empty { name: "schedulers" });
        }
        Ok(ChainedScheduler {
            base_lr: args::base_lr(base_lr)?,
            schedulers,
        })
    }
}

impl<S: Schedule> Schedule for ChainedScheduler<S> {
    fn lr(&self, step: u64) -> f64 {
        self.schedulers
            .iter()
            .fold(self.base_lr, |lr, s| lr * s.lr(step))
    }
}

impl<'de, S: Schedule + Deserialize<'de>> Deserialize<'de> for ChainedScheduler<S> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw<S> {
            base_lr: f64,
            schedulers: Vec<S>,
        }
        let raw = Raw::<S>::deserialize(d)?;
        Self::new(raw.base_lr, raw.schedulers).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CosineAnnealingLr, ExponentialLr, LinearLr, StepLr};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn sequential_lr_equals_each_part_on_its_segment(
            base in 1e-3..1.0f64, mut milestones in prop::collection::vec(0u64..60, 2),
            t_max in 1u64..40, gamma in 0.1..1.0f64,
        ) {
            milestones.sort_unstable();
            let parts = vec![
                DynSchedule::new(LinearLr::new(base, 0.1, 1.0, 7).unwrap()),
                DynSchedule::new(CosineAnnealingLr::new(base, t_max, 0.0).unwrap()),
                DynSchedule::new(StepLr::new(base, 3, gamma).unwrap()),
            ];
            let reference = [
                DynSchedule::new(LinearLr::new(base, 0.1, 1.0, 7).unwrap()),
                DynSchedule::new(CosineAnnealingLr::new(base, t_max, 0.0).unwrap()),
                DynSchedule::new(StepLr::new(base, 3, gamma).unwrap()),
            ];
            let s = SequentialLr::new(parts, milestones.clone()).unwrap();
            let starts = [0, milestones[0], milestones[1]];
            let ends = [milestones[0], milestones[1], 100];
            for i in 0..3 {
                for step in starts[i]..ends[i] {
                    prop_assert_eq!(s.lr(step), reference[i].lr(step - starts[i]));
                }
            }
        }

        #[test]
        fn chained_scheduler_is_the_product_of_its_factors(
            base in 0.0..1.0f64, g1 in 0.0..1.0f64, g2 in 0.0..1.0f64, step in 0u64..100,
        ) {
            let a = ExponentialLr::new(1.0, g1).unwrap();
            let b = StepLr::new(1.0, 4, g2).unwrap();
            let want = base * a.lr(step) * b.lr(step);
            let s = ChainedScheduler::new(base, vec![DynSchedule::new(a), DynSchedule::new(b)]).unwrap();
            prop_assert_eq!(s.lr(step), want);
        }
    }

    #[test]
    fn malformed_compositions_are_rejected() {
        let parts = || vec![0.1, 0.2];
        assert_eq!(
            SequentialLr::new(parts(), vec![]),
            Err(Error::LengthMismatch {
                name: "milestones",
                expected: 1,
                got: 0
            })
        );
        assert_eq!(
            SequentialLr::<f64>::new(vec![], vec![]),
            Err(Error::Empty { name: "schedulers" })
        );
        assert!(matches!(
            SequentialLr::new(vec![0.1, 0.2, 0.3], vec![5, 2]),
            Err(Error::OutOfOrder {
                name: "milestones",
                ..
            })
        ));
        assert_eq!(
            ChainedScheduler::<f64>::new(0.1, vec![]),
            Err(Error::Empty { name: "schedulers" })
        );
    }

    #[test]
    fn homogeneous_compositions_round_trip_through_serde() {
        let s = SequentialLr::new(
            vec![
                ExponentialLr::new(0.1, 0.5).unwrap(),
                ExponentialLr::new(0.1, 0.9).unwrap(),
            ],
            vec![3],
        )
        .unwrap();
        let json = serde_json::to_string(&s).unwrap();
        let back: SequentialLr<ExponentialLr> = serde_json::from_str(&json).unwrap();
        assert_eq!(back.lrs(10), s.lrs(10));
    }
}
