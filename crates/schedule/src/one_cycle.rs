//! OneCycleLR.

use crate::args;
use crate::error::{finite, positive, positive_count, unit_interval};
use crate::{Error, MomentumSchedule, Result};
use descent_core::Schedule;
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// How OneCycleLR moves between two values within a phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnnealStrategy {
    /// Half a cosine (PyTorch `"cos"`, the default).
    #[default]
    Cos,
    /// A straight line (PyTorch `"linear"`).
    Linear,
}

impl AnnealStrategy {
    /// The value at fraction `pct` of the way from `start` to `end`, in PyTorch's arithmetic.
    fn anneal(self, start: f64, end: f64, pct: f64) -> f64 {
        match self {
            AnnealStrategy::Cos => end + (start - end) / 2.0 * ((PI * pct).cos() + 1.0),
            AnnealStrategy::Linear => (end - start) * pct + start,
        }
    }
}

/// OneCycleLR's optional arguments; `Default` is PyTorch's defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneCycleLrConfig {
    /// Fraction of the cycle spent raising the learning rate (0.3).
    pub pct_start: f64,
    /// Cosine or linear annealing (cosine).
    pub anneal_strategy: AnnealStrategy,
    /// Whether momentum cycles inversely to the learning rate (true).
    pub cycle_momentum: bool,
    /// The lowest momentum, reached at the peak learning rate (0.85).
    pub base_momentum: f64,
    /// The highest momentum, at the start and end of the cycle (0.95).
    pub max_momentum: f64,
    /// The cycle starts at `max_lr / div_factor` (25).
    pub div_factor: f64,
    /// The cycle ends at `max_lr / (div_factor · final_div_factor)` (1e4).
    pub final_div_factor: f64,
    /// Fast.ai's three phases: up, down to the start value, then down to the
    /// minimum (false: up, then down to the minimum).
    pub three_phase: bool,
}

impl Default for OneCycleLrConfig {
    fn default() -> Self {
        OneCycleLrConfig {
            pct_start: 0.3,
            anneal_strategy: AnnealStrategy::Cos,
            cycle_momentum: true,
            base_momentum: 0.85,
            max_momentum: 0.95,
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
        }
    }
}

/// The 1cycle policy (PyTorch `OneCycleLR`): warm up from
/// `max_lr / div_factor` to `max_lr`, then anneal far below the start, over
/// exactly `total_steps` steps, cycling momentum the other way.
///
/// PyTorch overwrites the optimizer's lr, so there is no separate base lr.
/// Past the end of the cycle (`step ≥ total_steps`) the final value is held,
/// where PyTorch raises an error.
///
/// # Examples
///
/// ```
/// use descent_core::Schedule;
/// use descent_schedule::{MomentumSchedule, OneCycleLr, OneCycleLrConfig};
///
/// let s = OneCycleLr::new(0.1, 100, OneCycleLrConfig::default())?;
/// assert!((s.lr(0) - 0.1 / 25.0).abs() < 1e-17);
/// assert_eq!(s.lr(29), 0.1); // end of the warm-up phase (30% of 100 steps)
/// assert!((s.lr(99) - 0.1 / 25.0 / 1e4).abs() < 1e-20);
/// assert_eq!(s.momentum(29), Some(0.85));
/// # Ok::<(), descent_schedule::Error>(())
/// ```
#[doc(alias = "OneCycleLR")]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OneCycleLr {
    max_lr: f64,
    total_steps: u64,
    config: OneCycleLrConfig,
}

/// One phase of the cycle: where it ends and what it moves between.
struct Phase {
    end_step: f64,
    lr: (f64, f64),
    momentum: (f64, f64),
}

impl OneCycleLr {
    /// A cycle of `total_steps` steps peaking at `max_lr`.
    pub fn new(max_lr: f64, total_steps: u64, config: OneCycleLrConfig) -> Result<Self> {
        let max_lr = positive("max_lr", max_lr)?;
        let total_steps = positive_count("total_steps", total_steps)?;
        let c = &config;
        unit_interval("pct_start", c.pct_start, "[0, 1]")?;
        positive("div_factor", c.div_factor)?;
        positive("final_div_factor", c.final_div_factor)?;
        finite("base_momentum", c.base_momentum)?;
        finite("max_momentum", c.max_momentum)?;
        if c.pct_start * total_steps as f64 == 1.0 {
            return Err(Error::EmptyWarmup {
                pct_start: c.pct_start,
                total_steps,
            });
        }
        Ok(OneCycleLr {
            max_lr,
            total_steps,
            config,
        })
    }

    /// A cycle of `epochs · steps_per_epoch` steps, PyTorch's alternative to `total_steps`.
    pub fn with_epochs(
        max_lr: f64,
        epochs: u64,
        steps_per_epoch: u64,
        config: OneCycleLrConfig,
    ) -> Result<Self> {
        let epochs = positive_count("epochs", epochs)?;
        let steps_per_epoch = positive_count("steps_per_epoch", steps_per_epoch)?;
        let total = epochs.checked_mul(steps_per_epoch).ok_or(Error::Overflow {
            name: "epochs * steps_per_epoch",
        })?;
        Self::new(max_lr, total, config)
    }

    /// The number of steps in the cycle.
    pub fn total_steps(&self) -> u64 {
        self.total_steps
    }

    /// PyTorch's phases, with fractional end steps computed the same way.
    fn phases(&self) -> ([Phase; 3], usize) {
        let c = &self.config;
        let initial = self.max_lr / c.div_factor;
        let min = initial / c.final_div_factor;
        let (base_m, max_m) = (c.base_momentum, c.max_momentum);
        let total = self.total_steps as f64;
        let warm_end = c.pct_start * total - 1.0;
        let last = total - 1.0;
        let phase = |end_step, lr, momentum| Phase {
            end_step,
            lr,
            momentum,
        };
        if c.three_phase {
            let phases = [
                phase(warm_end, (initial, self.max_lr), (max_m, base_m)),
                phase(
                    2.0 * c.pct_start * total - 2.0,
                    (self.max_lr, initial),
                    (base_m, max_m),
                ),
                phase(last, (initial, min), (max_m, max_m)),
            ];
            (phases, 3)
        } else {
            let phases = [
                phase(warm_end, (initial, self.max_lr), (max_m, base_m)),
                phase(last, (self.max_lr, min), (base_m, max_m)),
                phase(last, (min, min), (max_m, max_m)),
            ];
            (phases, 2)
        }
    }

    /// `(lr, momentum)` at `step`.
    fn at(&self, step: u64) -> (f64, f64) {
        let step_num = step.min(self.total_steps - 1) as f64;
        let (phases, n) = self.phases();
        let strategy = self.config.anneal_strategy;
        let mut start_step = 0.0;
        for (i, p) in phases[..n].iter().enumerate() {
            if step_num <= p.end_step || i == n - 1 {
                let pct = (step_num - start_step) / (p.end_step - start_step);
                return (
                    strategy.anneal(p.lr.0, p.lr.1, pct),
                    strategy.anneal(p.momentum.0, p.momentum.1, pct),
                );
            }
            start_step = p.end_step;
        }
        unreachable!("the last phase always matches")
    }
}

args::deserialize_via_new!(OneCycleLr { max_lr: f64, total_steps: u64, config: OneCycleLrConfig }
    => OneCycleLr::new);

impl Schedule for OneCycleLr {
    fn lr(&self, step: u64) -> f64 {
        self.at(step).0
    }
}

impl MomentumSchedule for OneCycleLr {
    fn momentum(&self, step: u64) -> Option<f64> {
        self.config.cycle_momentum.then(|| self.at(step).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ArgError;
    use proptest::prelude::*;

    fn strategy() -> impl Strategy<Value = AnnealStrategy> {
        prop_oneof![Just(AnnealStrategy::Cos), Just(AnnealStrategy::Linear)]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn one_cycle_reaches_max_lr_at_the_end_of_its_warm_up(
            max_lr in 1e-4..10.0f64, total in 10u64..2000, pct in 0.05..0.95f64,
            anneal_strategy in strategy(), three_phase: bool,
        ) {
            // Whole warm-up lengths, so that the phase ends on a step.
            let warm = ((pct * total as f64).round() as u64).max(2);
            let pct_start = warm as f64 / total as f64;
            prop_assume!(!three_phase || 2 * warm < total);
            let config = OneCycleLrConfig { pct_start, anneal_strategy, three_phase, ..Default::default() };
            let s = OneCycleLr::new(max_lr, total, config).unwrap();
            let peak = s.lr(warm - 1);
            prop_assert!((peak - max_lr).abs() <= 1e-12 * max_lr, "{peak} vs {max_lr}");
            prop_assert_eq!(s.momentum(warm - 1).map(|m| (m - 0.85).abs() < 1e-12), Some(true));
            for lr in s.lrs(total) {
                prop_assert!(lr <= max_lr * (1.0 + 1e-12) && lr > 0.0);
            }
        }
    }

    #[test]
    fn invalid_cycles_are_rejected() {
        let d = OneCycleLrConfig::default;
        assert!(matches!(
            OneCycleLr::new(0.1, 0, d()),
            Err(Error::Arg(ArgError { name: "total_steps", reason, .. })) if reason == "must be positive"
        ));
        assert!(matches!(
            OneCycleLr::new(
                0.1,
                10,
                OneCycleLrConfig {
                    pct_start: 0.1,
                    ..d()
                }
            ),
            Err(Error::EmptyWarmup { .. })
        ));
        assert!(matches!(
            OneCycleLr::new(
                0.1,
                10,
                OneCycleLrConfig {
                    pct_start: 1.5,
                    ..d()
                }
            ),
            Err(Error::Arg(ArgError { name: "pct_start", reason, .. })) if reason.starts_with("must lie in")
        ));
        assert!(matches!(
            OneCycleLr::with_epochs(0.1, u64::MAX, 2, d()),
            Err(Error::Overflow { .. })
        ));
        assert_eq!(
            OneCycleLr::with_epochs(0.1, 3, 4, d())
                .unwrap()
                .total_steps(),
            12
        );
    }

    #[test]
    fn the_final_value_is_held_after_the_cycle() {
        let s = OneCycleLr::new(0.1, 20, OneCycleLrConfig::default()).unwrap();
        assert_eq!(s.lr(19), s.lr(1000));
        assert_eq!(s.momentum(19), s.momentum(1000));
    }
}
