//! A hand-edited piecewise schedule, appendable during a run and replayable.
//!
//! Invariant: a `ManualSchedule` only grows forward in step order, and its
//! change list replays the same rates bit for bit.

use crate::Result;
use crate::error::{Error, non_negative};
use descent_core::Schedule;
use serde::{Deserialize, Serialize};

/// What a change point sets.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// From this step, the learning rate is exactly this value.
    Lr(f64),
    /// From this step, the learning rate is the base schedule's times this value.
    Multiplier(f64),
}

/// One entry of a [`ManualSchedule`]: from `step` on, `change` is in force.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangePoint {
    /// The first step the change applies to.
    pub step: u64,
    /// The new learning rate or multiplier.
    pub change: Change,
}

/// A base schedule overridden by an explicit list of `(step, lr or
/// multiplier)` changes: the practice reported for OPT-175B, where the
/// learning rate was lowered by hand whenever the loss became unstable.
///
/// The latest change at or before a step is in force; before the first
/// change the base schedule runs unchanged (multiplier 1). Changes are
/// appended in step order while a run is going, and the list, saved with the
/// run, replays the same learning rates exactly. The base defaults to a
/// constant `f64`, and can be any schedule.
///
/// # Examples
///
/// ```
/// use descent_core::Schedule;
/// use descent_schedule::{Change, ManualSchedule};
///
/// let mut s = ManualSchedule::new(0.1);
/// s.push(100, Change::Multiplier(0.5))?;     // loss spiked at step 100: halve
/// s.scale_at(250, 0.5)?;                      // again at 250: halve what is in force
/// s.push(400, Change::Lr(0.02))?;             // later, set a value outright
/// assert_eq!(s.lrs(401)[..3], [0.1, 0.1, 0.1]);
/// assert_eq!(s.lr(100), 0.05);
/// assert_eq!(s.lr(300), 0.025);
/// assert_eq!(s.lr(400), 0.02);
/// assert!(s.push(50, Change::Lr(0.1)).is_err()); // changes only go forward
///
/// let saved = serde_json::to_string(&s).unwrap();
/// let replayed: ManualSchedule = serde_json::from_str(&saved).unwrap();
/// assert_eq!(replayed.lrs(500), s.lrs(500));
/// # Ok::<(), descent_schedule::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ManualSchedule<S = f64> {
    base: S,
    changes: Vec<ChangePoint>,
}

impl<S: Schedule> ManualSchedule<S> {
    /// `base` with no changes yet.
    pub fn new(base: S) -> Self {
        ManualSchedule {
            base,
            changes: Vec::new(),
        }
    }

    /// `base` with a recorded list of changes, checked as [`push`](Self::push) checks them.
    pub fn from_changes(base: S, changes: Vec<ChangePoint>) -> Result<Self> {
        let mut s = Self::new(base);
        for c in changes {
            s.push(c.step, c.change)?;
        }
        Ok(s)
    }

    /// Appends a change. `step` must not precede the last change's step (a
    /// change at the same step supersedes it), and the value must be finite
    /// and not negative.
    pub fn push(&mut self, step: u64, change: Change) -> Result<()> {
        let (name, value) = match change {
            Change::Lr(v) => ("lr", v),
            Change::Multiplier(v) => ("multiplier", v),
        };
        non_negative(name, value)?;
        match self.changes.last() {
            Some(last) if step < last.step => {
                return Err(Error::OutOfOrder {
                    name: "changes",
                    index: self.changes.len(),
                    value: step,
                    previous: last.step,
                });
            }
            _ => {}
        }
        self.changes.push(ChangePoint { step, change });
        Ok(())
    }

    /// Multiplies whatever is in force at `step` by `factor` from `step` on:
    /// the "lower the learning rate now" operation of an instability guard.
    pub fn scale_at(&mut self, step: u64, factor: f64) -> Result<()> {
        let factor = non_negative("factor", factor)?;
        let change = match self.in_force(step) {
            Change::Lr(v) => Change::Lr(v * factor),
            Change::Multiplier(m) => Change::Multiplier(m * factor),
        };
        self.push(step, change)
    }

    /// The change in force at `step` (`Multiplier(1.0)` before the first one).
    pub fn in_force(&self, step: u64) -> Change {
        let idx = self.changes.partition_point(|c| c.step <= step);
        match idx {
            0 => Change::Multiplier(1.0),
            _ => self.changes[idx - 1].change,
        }
    }

    /// The recorded changes, in order.
    pub fn changes(&self) -> &[ChangePoint] {
        &self.changes
    }

    /// The base schedule.
    pub fn base(&self) -> &S {
        &self.base
    }
}

impl<S: Schedule> Schedule for ManualSchedule<S> {
    fn lr(&self, step: u64) -> f64 {
        match self.in_force(step) {
            Change::Lr(v) => v,
            Change::Multiplier(m) => self.base.lr(step) * m,
        }
    }
}

impl<'de, S: Schedule + Deserialize<'de>> Deserialize<'de> for ManualSchedule<S> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw<S> {
            base: S,
            changes: Vec<ChangePoint>,
        }
        let raw = Raw::<S>::deserialize(d)?;
        Self::from_changes(raw.base, raw.changes).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ArgError;
    use crate::CosineAnnealingLr;
    use proptest::prelude::*;

    fn edits() -> impl Strategy<Value = Vec<(u64, bool, f64)>> {
        prop::collection::vec((0u64..30, any::<bool>(), 0.0..2.0f64), 0..12)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn manual_schedule_replays_the_same_sequence_after_serialization(edits in edits()) {
            let base = CosineAnnealingLr::new(0.1, 50, 1e-3).unwrap();
            let mut s = ManualSchedule::new(base);
            let mut step = 0;
            for (gap, absolute, value) in edits {
                step += gap;
                if absolute {
                    s.push(step, Change::Lr(value * 0.1)).unwrap();
                } else {
                    s.scale_at(step, value).unwrap();
                }
            }
            let json = serde_json::to_string(&s).unwrap();
            let replayed: ManualSchedule<CosineAnnealingLr> = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&replayed, &s);
            let (a, b) = (s.lrs(step + 20), replayed.lrs(step + 20));
            prop_assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
        }

        #[test]
        fn scaling_lowers_the_rate_from_that_step_on(step in 0u64..100, factor in 0.0..1.0f64) {
            let mut s = ManualSchedule::new(CosineAnnealingLr::new(0.1, 200, 0.0).unwrap());
            let before = s.lrs(step + 50);
            s.scale_at(step, factor).unwrap();
            let after = s.lrs(step + 50);
            prop_assert_eq!(&before[..step as usize], &after[..step as usize]);
            for t in step as usize..after.len() {
                prop_assert_eq!(after[t], before[t] * factor);
            }
        }
    }

    #[test]
    fn invalid_changes_are_typed_errors() {
        let mut s = ManualSchedule::new(0.1);
        assert!(matches!(
            s.push(0, Change::Lr(f64::NAN)),
            Err(Error::Arg(ArgError { name: "lr", reason, .. })) if reason == "must be finite"
        ));
        assert!(matches!(
            s.push(0, Change::Multiplier(-1.0)),
            Err(Error::Arg(ArgError { name: "multiplier", reason, .. })) if reason == "must not be negative"
        ));
        s.push(10, Change::Lr(0.01)).unwrap();
        assert_eq!(
            s.push(9, Change::Lr(0.01)),
            Err(Error::OutOfOrder {
                name: "changes",
                index: 1,
                value: 9,
                previous: 10
            })
        );
        let bad = r#"{"base":0.1,"changes":[{"step":5,"change":{"lr":0.1}},{"step":1,"change":{"lr":0.1}}]}"#;
        assert!(serde_json::from_str::<ManualSchedule>(bad).is_err());
    }
}
