//! The distribution of one hyperparameter (Optuna's `FloatDistribution`,
//! `IntDistribution`, `CategoricalDistribution`) and its map from the unit interval.
//!
//! Invariant: a distribution is checked wherever it enters (`suggest`,
//! `SearchSpace::add`), and an invalid one is a typed `Error` (`EmptyRange`,
//! `NonPositiveLog`, `InvalidStep`, `EmptyCategorical`).

use crate::{Error, ParamValue, Result};
use serde::{Deserialize, Serialize};

/// Where a hyperparameter's values come from.
///
/// Every sampler draws a number `u` in `[0, 1)` and maps it with
/// [`Distribution::from_unit`]; [`Distribution::to_unit`] maps a value back
/// (to the centre of its bucket for discrete values), which is how TPE models them.
/// A distribution is checked once, by [`Distribution::check`], wherever one enters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Distribution {
    /// A real number in `[low, high]`: uniform, log-uniform (`log`), or on the
    /// grid `low + k·step` (`step`, not with `log`).
    Float {
        /// The lower bound.
        low: f64,
        /// The upper bound.
        high: f64,
        /// Sample uniformly in log space (needs `low > 0`).
        log: bool,
        /// Quantization step, if any.
        step: Option<f64>,
    },
    /// An integer in `[low, high]` on the grid `low + k·step`; with `log`,
    /// log-uniform over `[low − 0.5, high + 0.5]` then rounded (Optuna's rule; needs `step == 1`).
    Int {
        /// The lower bound.
        low: i64,
        /// The upper bound (lowered to the last grid point).
        high: i64,
        /// Sample uniformly in log space (needs `low ≥ 1`).
        log: bool,
        /// The step between values.
        step: i64,
    },
    /// One of a list of choices, each equally likely under random sampling.
    Categorical {
        /// The choices.
        choices: Vec<ParamValue>,
    },
}

impl Distribution {
    /// Checks the distribution for parameter `name`: `low ≤ high` (one value
    /// when equal, as Optuna allows), `low > 0`
    /// for log scale, a positive step (not with log), at least one choice.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_hpo::{Distribution, Error};
    ///
    /// let lr = Distribution::Float { low: 0.0, high: 1.0, log: true, step: None };
    /// assert!(matches!(lr.check("lr"), Err(Error::NonPositiveLog { .. })));
    /// ```
    pub fn check(&self, name: &str) -> Result<()> {
        let name = || name.to_owned();
        match self {
            Distribution::Float {
                low,
                high,
                log,
                step,
            } => {
                if !(low.is_finite() && high.is_finite() && low <= high) {
                    return Err(Error::EmptyRange {
                        name: name(),
                        low: *low,
                        high: *high,
                    });
                }
                if *log && *low <= 0.0 {
                    return Err(Error::NonPositiveLog {
                        name: name(),
                        low: *low,
                    });
                }
                if let Some(step) = *step {
                    let reason = if *log {
                        "a step cannot be combined with log scale"
                    } else if !(step > 0.0 && step.is_finite()) {
                        "must be finite and > 0"
                    } else {
                        return Ok(());
                    };
                    return Err(Error::InvalidStep {
                        name: name(),
                        step,
                        reason,
                    });
                }
                Ok(())
            }
            Distribution::Int {
                low,
                high,
                log,
                step,
            } => {
                if low > high {
                    return Err(Error::EmptyRange {
                        name: name(),
                        low: *low as f64,
                        high: *high as f64,
                    });
                }
                if *log && *low <= 0 {
                    return Err(Error::NonPositiveLog {
                        name: name(),
                        low: *low as f64,
                    });
                }
                if *step <= 0 || (*log && *step != 1) {
                    let reason = if *step <= 0 {
                        "must be > 0"
                    } else {
                        "log scale needs step 1"
                    };
                    return Err(Error::InvalidStep {
                        name: name(),
                        step: *step as f64,
                        reason,
                    });
                }
                Ok(())
            }
            Distribution::Categorical { choices } if choices.is_empty() => {
                Err(Error::EmptyCategorical { name: name() })
            }
            Distribution::Categorical { .. } => Ok(()),
        }
    }

    /// The one value of a distribution that has only one (`low == high`, a
    /// grid of one point, one choice), which `suggest_*` returns without
    /// asking the sampler, as Optuna does.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_hpo::{Distribution, ParamValue};
    ///
    /// let d = Distribution::Int { low: 2, high: 4, log: false, step: 3 };
    /// assert_eq!(d.single_value(), Some(ParamValue::Int(2)));
    /// ```
    pub fn single_value(&self) -> Option<ParamValue> {
        match self {
            Distribution::Float {
                low,
                high,
                step: None,
                ..
            } => (low == high).then_some(ParamValue::Float(*low)),
            Distribution::Float { low, .. } => {
                (self.grid_len() == Some(1)).then_some(ParamValue::Float(*low))
            }
            Distribution::Int { low, .. } => {
                (self.grid_len() == Some(1)).then_some(ParamValue::Int(*low))
            }
            Distribution::Categorical { choices } => match choices.as_slice() {
                [only] => Some(only.clone()),
                _ => None,
            },
        }
    }

    /// The number of distinct values, if finite and it fits a `usize`.
    pub fn n_values(&self) -> Option<usize> {
        match self {
            Distribution::Float { step: None, .. } => None,
            Distribution::Float { .. } | Distribution::Int { .. } => {
                usize::try_from(self.grid_len()?).ok()
            }
            Distribution::Categorical { choices } => Some(choices.len()),
        }
    }

    /// The number of grid points of a stepped float or an int, exactly for
    /// ints (up to 2^64) and as far as `f64` resolves for floats.
    fn grid_len(&self) -> Option<u128> {
        match self {
            Distribution::Float {
                low,
                high,
                step: Some(s),
                ..
            } => {
                // f64 → u128 saturates; at most 2^128 buckets are told apart anyway.
                let k = ((high - low) / s + 1e-9).floor();
                Some((k as u128).saturating_add(1))
            }
            Distribution::Int {
                low, high, step, ..
            } => {
                let span = (i128::from(*high) - i128::from(*low)).max(0) as u128;
                Some(span / (*step).max(1) as u128 + 1)
            }
            _ => None,
        }
    }

    /// The grid point of bucket `u` of `n` (`n ≥ 1`).
    fn bucket(u: f64, n: u128) -> u128 {
        ((u * n as f64) as u128).min(n - 1)
    }

    /// The value at `u ∈ [0, 1)`; values of `u` outside are clamped.
    pub fn from_unit(&self, u: f64) -> ParamValue {
        let u = if u.is_nan() { 0.0 } else { u.clamp(0.0, 1.0) };
        let bucket = |n: usize| Self::bucket(u, n as u128) as usize;
        match self {
            Distribution::Float {
                low,
                high,
                log: false,
                step: None,
            } => ParamValue::Float((low + u * (high - low)).clamp(*low, *high)),
            Distribution::Float {
                low,
                high,
                log: true,
                ..
            } => {
                let (a, b) = (low.ln(), high.ln());
                ParamValue::Float((a + u * (b - a)).exp().clamp(*low, *high))
            }
            Distribution::Float {
                low,
                high,
                step: Some(s),
                ..
            } => {
                let k = Self::bucket(u, self.grid_len().unwrap_or(1));
                ParamValue::Float((low + k as f64 * s).min(*high))
            }
            Distribution::Int {
                low,
                high,
                log: true,
                ..
            } => {
                let (a, b) = ((*low as f64 - 0.5).ln(), (*high as f64 + 0.5).ln());
                let v = (a + u * (b - a)).exp().round() as i64;
                ParamValue::Int(v.clamp(*low, *high))
            }
            Distribution::Int { low, step, .. } => {
                let k = Self::bucket(u, self.grid_len().unwrap_or(1));
                // low + k·step ≤ high, so the sum fits an i64.
                ParamValue::Int((i128::from(*low) + k as i128 * i128::from(*step)) as i64)
            }
            Distribution::Categorical { choices } => choices[bucket(choices.len())].clone(),
        }
    }

    /// The point of `[0, 1)` that [`Distribution::from_unit`] maps to `value`
    /// (the centre of its bucket), or `None` if `value` is not in the distribution.
    pub fn to_unit(&self, value: &ParamValue) -> Option<f64> {
        if !self.contains(value) {
            return None;
        }
        let centre = |k: f64, n: u128| (k + 0.5) / n as f64;
        let u = match (self, value) {
            (
                Distribution::Float {
                    low,
                    high,
                    log,
                    step,
                },
                ParamValue::Float(x),
            ) => match step {
                Some(s) => centre(((x - low) / s).round(), self.grid_len()?),
                None if low == high => 0.5,
                None if *log => (x.ln() - low.ln()) / (high.ln() - low.ln()),
                None => (x - low) / (high - low),
            },
            (
                Distribution::Int {
                    low,
                    high,
                    log: true,
                    ..
                },
                ParamValue::Int(i),
            ) => {
                let (a, b) = ((*low as f64 - 0.5).ln(), (*high as f64 + 0.5).ln());
                ((*i as f64).ln() - a) / (b - a)
            }
            (Distribution::Int { low, step, .. }, ParamValue::Int(i)) => {
                let k = (i128::from(*i) - i128::from(*low)) / i128::from(*step);
                centre(k as f64, self.grid_len()?)
            }
            (Distribution::Categorical { choices }, v) => centre(
                choices.iter().position(|c| c == v)? as f64,
                choices.len() as u128,
            ),
            _ => return None,
        };
        Some(u.clamp(0.0, 1.0 - f64::EPSILON))
    }

    /// Whether `value` is one this distribution can produce.
    pub fn contains(&self, value: &ParamValue) -> bool {
        match (self, value) {
            (
                Distribution::Float {
                    low, high, step, ..
                },
                ParamValue::Float(x),
            ) => {
                *low <= *x
                    && *x <= *high
                    && step.is_none_or(|s| {
                        let k = (x - low) / s;
                        (k - k.round()).abs() < 1e-6
                    })
            }
            (
                Distribution::Int {
                    low, high, step, ..
                },
                ParamValue::Int(i),
            ) => {
                low <= i
                    && i <= high
                    && (i128::from(*i) - i128::from(*low)) % i128::from(*step) == 0
            }
            (Distribution::Categorical { choices }, v) => choices.contains(v),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn float(low: f64, high: f64, log: bool) -> Distribution {
        Distribution::Float {
            low,
            high,
            log,
            step: None,
        }
    }

    #[test]
    fn invalid_distributions_give_typed_errors() {
        assert!(matches!(
            float(f64::NAN, 1.0, false).check("x"),
            Err(Error::EmptyRange { .. })
        ));
        assert!(matches!(
            float(2.0, 1.0, false).check("x"),
            Err(Error::EmptyRange { .. })
        ));
        assert!(matches!(
            float(-1.0, 1.0, true).check("x"),
            Err(Error::NonPositiveLog { .. })
        ));
        let int_log = Distribution::Int {
            low: 0,
            high: 8,
            log: true,
            step: 1,
        };
        assert!(matches!(
            int_log.check("n"),
            Err(Error::NonPositiveLog { .. })
        ));
        let bad_step = Distribution::Int {
            low: 0,
            high: 8,
            log: false,
            step: 0,
        };
        assert!(matches!(
            bad_step.check("n"),
            Err(Error::InvalidStep { .. })
        ));
        let log_step = Distribution::Float {
            low: 1.0,
            high: 8.0,
            log: true,
            step: Some(1.0),
        };
        assert!(matches!(
            log_step.check("x"),
            Err(Error::InvalidStep { .. })
        ));
        let empty = Distribution::Categorical { choices: vec![] };
        let err = empty.check("opt").unwrap_err();
        assert_eq!(
            err.to_string(),
            "parameter `opt`: categorical with no choices"
        );
    }

    #[test]
    fn int_steps_and_categoricals_map_buckets_evenly() {
        let d = Distribution::Int {
            low: 1,
            high: 10,
            log: false,
            step: 3,
        };
        assert_eq!(d.n_values(), Some(4)); // 1, 4, 7, 10
        let vals: Vec<_> = (0..4)
            .map(|k| d.from_unit((k as f64 + 0.5) / 4.0))
            .collect();
        assert_eq!(vals, [1, 4, 7, 10].map(ParamValue::Int));
        for v in &vals {
            assert_eq!(&d.from_unit(d.to_unit(v).unwrap()), v);
        }
    }

    #[test]
    fn huge_value_counts_do_not_overflow() {
        let full = Distribution::Int {
            low: i64::MIN,
            high: i64::MAX,
            log: false,
            step: 1,
        };
        assert_eq!(full.n_values(), None, "2^64 values do not fit a usize");
        for u in [0.0, 0.25, 0.5, 0.999_999] {
            let v = full.from_unit(u);
            assert!(full.contains(&v), "{v:?}");
            assert!(full.to_unit(&v).is_some());
        }
        assert_eq!(full.from_unit(0.0), ParamValue::Int(i64::MIN));
        let wide_step = Distribution::Int {
            low: i64::MIN,
            high: i64::MAX,
            log: false,
            step: i64::MAX,
        };
        assert_eq!(wide_step.n_values(), Some(3));
        assert_eq!(wide_step.from_unit(0.99), ParamValue::Int(i64::MAX - 1));
        let tiny = Distribution::Float {
            low: 0.0,
            high: 1.0,
            log: false,
            step: Some(1e-300),
        };
        assert_eq!(tiny.n_values(), None);
        let v = tiny.from_unit(0.5);
        assert!(tiny.contains(&v), "{v:?}");
        assert!((tiny.to_unit(&v).unwrap() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn a_range_with_low_equal_to_high_is_accepted_as_optuna_does() {
        for d in [
            float(1.5, 1.5, false),
            float(2.0, 2.0, true),
            Distribution::Float {
                low: 1.0,
                high: 1.0,
                log: false,
                step: Some(0.5),
            },
            Distribution::Int {
                low: 3,
                high: 3,
                log: false,
                step: 2,
            },
            Distribution::Int {
                low: 4,
                high: 4,
                log: true,
                step: 1,
            },
        ] {
            d.check("x").unwrap();
            assert_eq!(d.n_values().unwrap_or(1), 1, "{d:?}");
            for u in [0.0, 0.5, 0.99] {
                let v = d.from_unit(u);
                assert!(d.contains(&v), "{v:?} outside {d:?}");
                let back = d.to_unit(&v).unwrap();
                assert!(back.is_finite() && (0.0..1.0).contains(&back), "{back}");
                assert_eq!(d.from_unit(back), v);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn samples_stay_inside_bounds_and_round_trip(
            low in -1e3f64..1e3, width in 1e-3f64..1e3, u in 0.0f64..1.0, log in any::<bool>(),
            ilow in -50i64..50, iwidth in 1i64..200, istep in 1i64..7,
        ) {
            let low_f = if log { low.abs() + 1e-3 } else { low };
            let d = float(low_f, low_f + width, log);
            let v = d.from_unit(u);
            prop_assert!(d.contains(&v), "{v:?} outside {d:?}");
            let back = d.to_unit(&v).unwrap();
            prop_assert!((back - u).abs() < 1e-6, "{u} -> {v:?} -> {back}");
            let ilow_l = if log { ilow.abs() + 1 } else { ilow };
            let di = Distribution::Int {
                low: ilow_l, high: ilow_l + iwidth, log, step: if log { 1 } else { istep },
            };
            let vi = di.from_unit(u);
            prop_assert!(di.contains(&vi), "{vi:?} outside {di:?}");
            prop_assert_eq!(di.from_unit(di.to_unit(&vi).unwrap()), vi);
        }
    }
}
