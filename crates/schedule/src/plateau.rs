//! ReduceLROnPlateau: the one schedule that observes a metric and keeps state.

use crate::args;
use crate::error::{non_negative, unit_interval};
use crate::{MetricSchedule, Result};
use descent_core::Direction;
use serde::{Deserialize, Serialize};

/// How `threshold` measures a significant improvement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThresholdMode {
    /// Relative: better than `best · (1 ∓ threshold)` (the default).
    #[default]
    Rel,
    /// Absolute: better than `best ∓ threshold`.
    Abs,
}

/// ReduceLROnPlateau's arguments; `Default` is PyTorch's defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReduceLrOnPlateauConfig {
    /// Minimize or maximize the metric (min).
    pub mode: Direction,
    /// Multiplies the lr at each reduction; in `[0, 1)` (0.1).
    pub factor: f64,
    /// Epochs without improvement tolerated before reducing (10).
    pub patience: u64,
    /// The improvement that counts as significant (1e-4).
    pub threshold: f64,
    /// Relative or absolute threshold (rel).
    pub threshold_mode: ThresholdMode,
    /// Epochs to wait after a reduction before counting bad epochs again (0).
    pub cooldown: u64,
    /// The lr is never reduced below this (0).
    pub min_lr: f64,
    /// A reduction smaller than this is skipped (1e-8).
    pub eps: f64,
}

impl Default for ReduceLrOnPlateauConfig {
    fn default() -> Self {
        ReduceLrOnPlateauConfig {
            mode: Direction::Minimize,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
        }
    }
}

impl ReduceLrOnPlateauConfig {
    fn validate(&self) -> Result<()> {
        unit_interval("factor", self.factor, "[0, 1)")?;
        non_negative("threshold", self.threshold)?;
        non_negative("min_lr", self.min_lr)?;
        non_negative("eps", self.eps)?;
        Ok(())
    }
}

/// Everything ReduceLROnPlateau remembers between epochs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlateauState {
    /// The current learning rate.
    pub lr: f64,
    /// The best metric so far (±∞ before the first observation; serialized
    /// as the string `"inf"` or `"-inf"` then, since JSON has no infinity).
    #[serde(with = "crate::plateau::extended_f64")]
    pub best: f64,
    /// Consecutive epochs without significant improvement.
    pub num_bad_epochs: u64,
    /// Epochs of cooldown left.
    pub cooldown_counter: u64,
    /// Metrics observed so far.
    pub last_epoch: u64,
}

/// Reduces the learning rate by `factor` when a metric has stopped improving
/// for more than `patience` epochs (PyTorch `ReduceLROnPlateau`).
///
/// It is a [`MetricSchedule`]: call [`observe`](MetricSchedule::observe)
/// once per epoch with the validation metric. The schedule and its counters
/// serialize together, so a resumed run continues exactly. Starting below
/// `min_lr` keeps the starting lr, as in PyTorch.
///
/// # Examples
///
/// ```
/// use descent_schedule::{MetricSchedule, ReduceLrOnPlateau, ReduceLrOnPlateauConfig};
///
/// let config = ReduceLrOnPlateauConfig { factor: 0.5, patience: 1, ..Default::default() };
/// let mut s = ReduceLrOnPlateau::new(0.1, config)?;
/// assert_eq!(s.observe_all(&[1.0, 0.9, 0.95, 0.95, 0.8]), vec![0.1, 0.1, 0.1, 0.05, 0.05]);
///
/// let saved = serde_json::to_string(&s).unwrap();
/// let mut resumed: ReduceLrOnPlateau = serde_json::from_str(&saved).unwrap();
/// assert_eq!(resumed.observe(0.85), s.observe(0.85));
/// # Ok::<(), descent_schedule::Error>(())
/// ```
#[doc(alias = "ReduceLROnPlateau")]
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReduceLrOnPlateau {
    config: ReduceLrOnPlateauConfig,
    state: PlateauState,
}

impl ReduceLrOnPlateau {
    /// Starts at learning rate `lr`; checks `factor ∈ [0, 1)` and that
    /// `threshold`, `min_lr` and `eps` are finite and not negative.
    pub fn new(lr: f64, config: ReduceLrOnPlateauConfig) -> Result<Self> {
        let best = match config.mode {
            Direction::Minimize => f64::INFINITY,
            Direction::Maximize => f64::NEG_INFINITY,
        };
        let state = PlateauState {
            lr,
            best,
            num_bad_epochs: 0,
            cooldown_counter: 0,
            last_epoch: 0,
        };
        Self::from_state(config, state)
    }

    /// Resumes from saved counters, checking the config and the lr.
    pub fn from_state(config: ReduceLrOnPlateauConfig, state: PlateauState) -> Result<Self> {
        config.validate()?;
        args::base_lr(state.lr)?;
        Ok(ReduceLrOnPlateau { config, state })
    }

    /// The counters, for inspection or saving.
    pub fn state(&self) -> &PlateauState {
        &self.state
    }

    /// The arguments.
    pub fn config(&self) -> &ReduceLrOnPlateauConfig {
        &self.config
    }

    /// Whether a reduction happened recently enough that bad epochs are not counted.
    pub fn in_cooldown(&self) -> bool {
        self.state.cooldown_counter > 0
    }

    /// PyTorch's `is_better`; false for a NaN metric.
    fn is_better(&self, a: f64, best: f64) -> bool {
        let t = self.config.threshold;
        match (self.config.mode, self.config.threshold_mode) {
            (Direction::Minimize, ThresholdMode::Rel) => a < best * (1.0 - t),
            (Direction::Minimize, ThresholdMode::Abs) => a < best - t,
            (Direction::Maximize, ThresholdMode::Rel) => a > best * (t + 1.0),
            (Direction::Maximize, ThresholdMode::Abs) => a > best + t,
        }
    }

    fn reduce(&mut self) {
        let old = self.state.lr;
        let new = (old * self.config.factor).max(self.config.min_lr);
        if old - new > self.config.eps {
            self.state.lr = new;
        }
    }
}

impl MetricSchedule for ReduceLrOnPlateau {
    fn observe(&mut self, metric: f64) -> f64 {
        self.state.last_epoch += 1;
        if self.is_better(metric, self.state.best) {
            self.state.best = metric;
            self.state.num_bad_epochs = 0;
        } else {
            self.state.num_bad_epochs += 1;
        }
        if self.in_cooldown() {
            self.state.cooldown_counter -= 1;
            self.state.num_bad_epochs = 0;
        }
        if self.state.num_bad_epochs > self.config.patience {
            self.reduce();
            self.state.cooldown_counter = self.config.cooldown;
            self.state.num_bad_epochs = 0;
        }
        self.state.lr
    }

    fn lr(&self) -> f64 {
        self.state.lr
    }
}

impl<'de> Deserialize<'de> for ReduceLrOnPlateau {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            config: ReduceLrOnPlateauConfig,
            state: PlateauState,
        }
        let raw = Raw::deserialize(d)?;
        Self::from_state(raw.config, raw.state).map_err(serde::de::Error::custom)
    }
}

/// Serde for an `f64` that may be infinite or NaN: a JSON number when
/// finite, otherwise the string `"inf"`, `"-inf"` or `"nan"`.
pub(crate) mod extended_f64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        match *x {
            x if x.is_finite() => s.serialize_f64(x),
            x if x.is_nan() => s.serialize_str("nan"),
            x if x > 0.0 => s.serialize_str("inf"),
            _ => s.serialize_str("-inf"),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Number(f64),
            Text(String),
        }
        match Repr::deserialize(d)? {
            Repr::Number(x) => Ok(x),
            Repr::Text(t) => match t.as_str() {
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                "nan" => Ok(f64::NAN),
                _ => Err(serde::de::Error::custom(format!("`{t}` is not a number"))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ArgError;
    use proptest::prelude::*;

    fn config() -> impl Strategy<Value = ReduceLrOnPlateauConfig> {
        (
            prop_oneof![Just(Direction::Minimize), Just(Direction::Maximize)],
            0.0..1.0f64,
            0u64..5,
            0.0..0.1f64,
            prop_oneof![Just(ThresholdMode::Rel), Just(ThresholdMode::Abs)],
            0u64..5,
            0.0..0.05f64,
        )
            .prop_map(
                |(mode, factor, patience, threshold, threshold_mode, cooldown, min_lr)| {
                    ReduceLrOnPlateauConfig {
                        mode,
                        factor,
                        patience,
                        threshold,
                        threshold_mode,
                        cooldown,
                        min_lr,
                        ..Default::default()
                    }
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn plateau_never_goes_below_min_lr_nor_reduces_during_cooldown(
            config in config(), lr in 0.05..1.0f64,
            metrics in prop::collection::vec(0.0..1.0f64, 1..80),
        ) {
            let (min_lr, cooldown) = (config.min_lr, config.cooldown);
            let mut s = ReduceLrOnPlateau::new(lr, config).unwrap();
            let mut last_reduction: Option<usize> = None;
            let mut prev = lr;
            for (i, &m) in metrics.iter().enumerate() {
                let was_cooling = s.in_cooldown();
                let now = s.observe(m);
                prop_assert!(now >= min_lr, "lr {now} below min_lr {min_lr}");
                prop_assert!(now <= prev);
                if now < prev {
                    prop_assert!(!was_cooling, "reduced during cooldown at {i}");
                    if let Some(j) = last_reduction {
                        prop_assert!(i - j > cooldown as usize);
                    }
                    last_reduction = Some(i);
                }
                prev = now;
            }
        }

        #[test]
        fn plateau_state_round_trips_mid_run(
            config in config(), metrics in prop::collection::vec(0.0..1.0f64, 2..40),
            split in 0usize..40,
        ) {
            let split = split % metrics.len();
            let mut s = ReduceLrOnPlateau::new(0.5, config).unwrap();
            s.observe_all(&metrics[..split]);
            let json = serde_json::to_string(&s).unwrap();
            let mut resumed: ReduceLrOnPlateau = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&resumed, &s);
            prop_assert_eq!(resumed.observe_all(&metrics[split..]), s.observe_all(&metrics[split..]));
        }
    }

    #[test]
    fn factor_of_one_or_more_is_rejected() {
        let config = ReduceLrOnPlateauConfig {
            factor: 1.0,
            ..Default::default()
        };
        assert!(matches!(
            ReduceLrOnPlateau::new(0.1, config),
            Err(crate::Error::Arg(ArgError { name: "factor", reason, .. })) if reason == "must lie in [0, 1)"
        ));
    }

    #[test]
    fn nan_metrics_count_as_bad_epochs() {
        let config = ReduceLrOnPlateauConfig {
            patience: 0,
            factor: 0.5,
            ..Default::default()
        };
        let mut s = ReduceLrOnPlateau::new(0.1, config).unwrap();
        assert_eq!(s.observe(f64::NAN), 0.05);
    }
}
