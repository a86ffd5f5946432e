//! CyclicLR.

use crate::args;
use crate::error::{finite, non_negative, positive_count};
use crate::{MomentumSchedule, Result};
use descent_core::Schedule;
use serde::{Deserialize, Serialize};

/// CyclicLR's built-in policies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CyclicMode {
    /// The same triangle every cycle (the default).
    #[default]
    Triangular,
    /// The triangle's height halves every cycle.
    Triangular2,
    /// The height is scaled by `gamma^step`.
    ExpRange,
}

/// CyclicLR's optional arguments; `Default` is PyTorch's defaults.
///
/// PyTorch's custom `scale_fn` and its `scale_mode` are not offered: with no
/// `scale_fn`, PyTorch ignores `scale_mode` and uses the mode's own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CyclicLrConfig {
    /// Steps from `base_lr` up to `max_lr` (2000).
    pub step_size_up: u64,
    /// Steps back down; `None` means `step_size_up` (None).
    pub step_size_down: Option<u64>,
    /// The policy (triangular).
    pub mode: CyclicMode,
    /// The base of `ExpRange`'s scaling (1.0).
    pub gamma: f64,
    /// Whether momentum cycles inversely to the learning rate (true).
    pub cycle_momentum: bool,
    /// The momentum at the peak learning rate (0.8).
    pub base_momentum: f64,
    /// The momentum at the lowest learning rate (0.9).
    pub max_momentum: f64,
}

impl Default for CyclicLrConfig {
    fn default() -> Self {
        CyclicLrConfig {
            step_size_up: 2000,
            step_size_down: None,
            mode: CyclicMode::Triangular,
            gamma: 1.0,
            cycle_momentum: true,
            base_momentum: 0.8,
            max_momentum: 0.9,
        }
    }
}

/// Cyclical learning rates (PyTorch `CyclicLR`, Smith 2017): the learning
/// rate bounces between `base_lr` and `max_lr`, and momentum the other way.
///
/// PyTorch sets the optimizer's lr to `base_lr` at construction, so `lr(0)`
/// is `base_lr`; the optimizer's own lr plays no part.
///
/// # Examples
///
/// ```
/// use descent_core::Schedule;
/// use descent_schedule::{CyclicLr, CyclicLrConfig, CyclicMode};
///
/// let config = CyclicLrConfig { step_size_up: 2, mode: CyclicMode::Triangular2, ..Default::default() };
/// let s = CyclicLr::new(0.0, 1.0, config)?;
/// assert_eq!(s.lrs(9), vec![0.0, 0.5, 1.0, 0.5, 0.0, 0.25, 0.5, 0.25, 0.0]);
/// # Ok::<(), descent_schedule::Error>(())
/// ```
#[doc(alias = "CyclicLR")]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CyclicLr {
    base_lr: f64,
    max_lr: f64,
    config: CyclicLrConfig,
}

impl CyclicLr {
    /// Checks `step_size_up ≥ 1`, finite momentums and `gamma ≥ 0`.
    pub fn new(base_lr: f64, max_lr: f64, config: CyclicLrConfig) -> Result<Self> {
        let base_lr = args::base_lr(base_lr)?;
        let max_lr = non_negative("max_lr", max_lr)?;
        positive_count("step_size_up", config.step_size_up)?;
        non_negative("gamma", config.gamma)?;
        finite("base_momentum", config.base_momentum)?;
        finite("max_momentum", config.max_momentum)?;
        Ok(CyclicLr {
            base_lr,
            max_lr,
            config,
        })
    }

    /// `(scale_factor, scale)`: the position on the triangle and the policy's
    /// scaling, computed as PyTorch does.
    fn shape(&self, step: u64) -> (f64, f64) {
        let c = &self.config;
        let up = c.step_size_up as f64;
        let down = c.step_size_down.map_or(up, |d| d as f64);
        let total_size = up + down;
        let step_ratio = up / total_size;
        let t = step as f64;
        let cycle = (1.0 + t / total_size).floor();
        let x = 1.0 + t / total_size - cycle;
        let scale_factor = if x <= step_ratio {
            x / step_ratio
        } else {
            (x - 1.0) / (step_ratio - 1.0)
        };
        let scale = match c.mode {
            CyclicMode::Triangular => 1.0,
            CyclicMode::Triangular2 => 1.0 / 2f64.powf(cycle - 1.0),
            CyclicMode::ExpRange => c.gamma.powf(t),
        };
        (scale_factor, scale)
    }
}

args::deserialize_via_new!(CyclicLr { base_lr: f64, max_lr: f64, config: CyclicLrConfig } => CyclicLr::new);

impl Schedule for CyclicLr {
    fn lr(&self, step: u64) -> f64 {
        let (scale_factor, scale) = self.shape(step);
        let base_height = (self.max_lr - self.base_lr) * scale_factor;
        self.base_lr + base_height * scale
    }
}

impl MomentumSchedule for CyclicLr {
    fn momentum(&self, step: u64) -> Option<f64> {
        let c = &self.config;
        c.cycle_momentum.then(|| {
            let (scale_factor, scale) = self.shape(step);
            let base_height = (c.max_momentum - c.base_momentum) * scale_factor;
            c.max_momentum - base_height * scale
        })
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
        fn cyclic_lr_stays_between_base_and_max_and_momentum_mirrors_it(
            base in 0.0..1.0f64, height in 0.0..1.0f64, up in 1u64..20, down in 1u64..20,
            mode in prop_oneof![Just(CyclicMode::Triangular), Just(CyclicMode::Triangular2), Just(CyclicMode::ExpRange)],
            gamma in 0.9..=1.0f64,
        ) {
            let config = CyclicLrConfig { step_size_up: up, step_size_down: Some(down), mode, gamma, ..Default::default() };
            let s = CyclicLr::new(base, base + height, config).unwrap();
            for step in 0..200 {
                let lr = s.lr(step);
                prop_assert!(lr >= base - 1e-15 && lr <= base + height + 1e-15);
                let m = s.momentum(step).unwrap();
                prop_assert!((0.8 - 1e-15..=0.9 + 1e-15).contains(&m));
            }
            prop_assert_eq!(s.lr(0), base);
            let peak_scale = if mode == CyclicMode::ExpRange { gamma.powf(up as f64) } else { 1.0 };
            prop_assert!((s.lr(up) - (base + height * peak_scale)).abs() <= 1e-12);
        }
    }

    #[test]
    fn momentum_is_none_without_cycling() {
        let config = CyclicLrConfig {
            cycle_momentum: false,
            ..Default::default()
        };
        assert_eq!(CyclicLr::new(0.1, 1.0, config).unwrap().momentum(3), None);
        assert!(matches!(
            CyclicLr::new(
                0.1,
                1.0,
                CyclicLrConfig {
                    step_size_up: 0,
                    ..Default::default()
                }
            ),
            Err(crate::Error::Arg(ArgError { name: "step_size_up", reason, .. })) if reason == "must be positive"
        ));
    }
}
