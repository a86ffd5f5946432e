//! A trial's record: its state, configuration, value and intermediate values.

use crate::{Distribution, ParamValues};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The state of a trial (Optuna's `TrialState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TrialState {
    /// Asked and not yet told.
    Running,
    /// Finished with a finite value.
    Complete,
    /// Stopped early by the pruner.
    Pruned,
    /// The objective returned an error, panicked or gave a non-finite value.
    Fail,
}

impl TrialState {
    /// Whether the trial is over (anything but [`TrialState::Running`]).
    pub fn is_finished(self) -> bool {
        self != TrialState::Running
    }
}

/// The record of one trial, as samplers, pruners and storages see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrozenTrial {
    /// The trial's number, unique in its study.
    pub number: u64,
    /// Its state.
    pub state: TrialState,
    /// The objective value (the last intermediate value for a pruned trial)
    /// of a single-objective study; `None` in a multi-objective one, whose
    /// trials keep theirs in [`FrozenTrial::values`].
    pub value: Option<f64>,
    /// The objective values of a multi-objective trial, one per direction of
    /// the study (Optuna's `FrozenTrial.values`); empty for a single-objective
    /// trial, whose value is [`FrozenTrial::value`]. Read either through
    /// [`FrozenTrial::objective_values`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<f64>,
    /// The sampled configuration.
    pub params: ParamValues,
    /// The distribution each parameter was drawn from.
    pub distributions: BTreeMap<String, Distribution>,
    /// Reported intermediate values by step (NaN is stored as `null`).
    #[serde(with = "nan_as_null")]
    pub intermediate: BTreeMap<u64, f64>,
    /// Sampler bookkeeping (the grid point of a grid trial, say).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, serde_json::Value>,
    /// Wall-clock seconds from ask to tell.
    pub duration_secs: f64,
    /// Why the trial failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl FrozenTrial {
    /// A running trial with nothing sampled yet.
    pub fn running(number: u64) -> Self {
        FrozenTrial {
            number,
            state: TrialState::Running,
            value: None,
            values: Vec::new(),
            params: ParamValues::default(),
            distributions: BTreeMap::new(),
            intermediate: BTreeMap::new(),
            attrs: BTreeMap::new(),
            duration_secs: 0.0,
            message: None,
        }
    }

    /// The objective values whatever the number of objectives (Optuna's
    /// `FrozenTrial.values`): [`FrozenTrial::values`] if set, else the one
    /// [`FrozenTrial::value`], else none.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_hpo::FrozenTrial;
    ///
    /// let mut t = FrozenTrial::running(0);
    /// t.set_values(vec![0.5]);
    /// assert_eq!((t.value, t.objective_values()), (Some(0.5), &[0.5][..]));
    /// t.set_values(vec![0.5, 2.0]);
    /// assert_eq!((t.value, t.objective_values()), (None, &[0.5, 2.0][..]));
    /// ```
    pub fn objective_values(&self) -> &[f64] {
        if self.values.is_empty() {
            self.value.as_slice()
        } else {
            &self.values
        }
    }

    /// Records the objective values: one goes to [`FrozenTrial::value`],
    /// several to [`FrozenTrial::values`] (and `value` becomes `None`), none clears both.
    pub fn set_values(&mut self, values: Vec<f64>) {
        if values.len() <= 1 {
            self.value = values.first().copied();
            self.values = Vec::new();
        } else {
            self.value = None;
            self.values = values;
        }
    }

    /// The last step reported, if any.
    pub fn last_step(&self) -> Option<u64> {
        self.intermediate.keys().next_back().copied()
    }
}

mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer>(map: &BTreeMap<u64, f64>, s: S) -> Result<S::Ok, S::Error> {
        let m: BTreeMap<u64, Option<f64>> = map
            .iter()
            .map(|(k, v)| (*k, v.is_finite().then_some(*v)))
            .collect();
        m.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<u64, f64>, D::Error> {
        let m = BTreeMap::<u64, Option<f64>>::deserialize(d)?;
        Ok(m.into_iter()
            .map(|(k, v)| (k, v.unwrap_or(f64::NAN)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trial_round_trips_through_json_with_nan_intermediates() {
        let mut t = FrozenTrial::running(3);
        t.state = TrialState::Pruned;
        t.params.insert("lr", 0.1);
        t.intermediate.insert(0, 1.5);
        t.intermediate.insert(1, f64::NAN);
        let json = serde_json::to_string(&t).unwrap();
        let back: FrozenTrial = serde_json::from_str(&json).unwrap();
        assert_eq!(back.intermediate[&0], 1.5);
        assert!(back.intermediate[&1].is_nan());
        assert_eq!(back.params, t.params);
        assert_eq!(back.last_step(), Some(1));
    }

    #[test]
    fn a_single_objective_record_has_no_values_field_and_an_old_one_still_loads() {
        let mut t = FrozenTrial::running(1);
        t.state = TrialState::Complete;
        t.set_values(vec![0.25]);
        let json = serde_json::to_string(&t).unwrap();
        assert!(!json.contains("values"), "{json}");
        let old = r#"{"number":1,"state":"COMPLETE","value":0.25,"params":{},
            "distributions":{},"intermediate":{},"duration_secs":0.0}"#;
        let back: FrozenTrial = serde_json::from_str(old).unwrap();
        assert_eq!(back, t);
        assert_eq!(back.objective_values(), [0.25]);
    }

    #[test]
    fn a_multi_objective_record_round_trips_with_its_values() {
        let mut t = FrozenTrial::running(2);
        t.state = TrialState::Complete;
        t.set_values(vec![1.0, -3.5, 1e300]);
        let back: FrozenTrial = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
        assert_eq!(back.value, None);
        assert_eq!(back.objective_values(), [1.0, -3.5, 1e300]);
    }
}
