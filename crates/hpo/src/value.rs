//! Sampled values and the typed, serializable assignment of a trial's
//! parameters (Optuna's `trial.params`).

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One sampled hyperparameter value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// A boolean choice.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A real number.
    Float(f64),
    /// A string choice (an optimizer's name, say).
    Str(String),
}

impl ParamValue {
    fn kind(&self) -> &'static str {
        match self {
            ParamValue::Bool(_) => "a bool",
            ParamValue::Int(_) => "an int",
            ParamValue::Float(_) => "a float",
            ParamValue::Str(_) => "a string",
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{x:.6}"),
            ParamValue::Str(s) => write!(f, "{s}"),
        }
    }
}

impl From<f64> for ParamValue {
    fn from(x: f64) -> Self {
        ParamValue::Float(x)
    }
}
impl From<i64> for ParamValue {
    fn from(i: i64) -> Self {
        ParamValue::Int(i)
    }
}
impl From<bool> for ParamValue {
    fn from(b: bool) -> Self {
        ParamValue::Bool(b)
    }
}
impl From<&str> for ParamValue {
    fn from(s: &str) -> Self {
        ParamValue::Str(s.to_owned())
    }
}
impl From<String> for ParamValue {
    fn from(s: String) -> Self {
        ParamValue::Str(s)
    }
}

/// The values a trial's parameters took: parameter name → sampled value, in
/// name order (Optuna's `trial.params` / `study.best_params`).
///
/// This is an assignment of values drawn by a sampler (or fixed by the user),
/// not the arguments of anything: the objective reads them with
/// [`f64`](Self::f64), [`i64`](Self::i64), [`str`](Self::str) and
/// [`bool`](Self::bool). Conditional parameters that were not drawn are simply
/// absent. Serialized as a JSON object `{"name": value, ..}`.
///
/// # Examples
///
/// ```
/// use descent_hpo::ParamValues;
///
/// let mut params = ParamValues::default();
/// params.insert("lr", 0.01);
/// params.insert("optimizer", "adam");
/// assert_eq!(params.f64("lr")?, 0.01);
/// assert_eq!(params.str("optimizer")?, "adam");
/// assert!(params.f64("beta2").is_err());
/// let json = serde_json::to_string(&params).unwrap();
/// assert_eq!(serde_json::from_str::<ParamValues>(&json).unwrap(), params);
/// # Ok::<(), descent_hpo::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ParamValues(BTreeMap<String, ParamValue>);

/// The old name of [`ParamValues`] (a sampled assignment, not a configuration).
#[deprecated(note = "renamed to ParamValues: a trial's sampled parameter values")]
pub type Config = ParamValues;

impl ParamValues {
    /// Sets `name` to `value`.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<ParamValue>) {
        self.0.insert(name.into(), value.into());
    }

    /// The value of `name`, if drawn.
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.0.get(name)
    }

    /// Whether `name` was drawn.
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// The parameters in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ParamValue)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The number of parameters drawn.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no parameter was drawn.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn typed<T>(
        &self,
        name: &str,
        wanted: &'static str,
        f: impl Fn(&ParamValue) -> Option<T>,
    ) -> Result<T> {
        let v = self.get(name).ok_or_else(|| Error::MissingParam {
            name: name.to_owned(),
        })?;
        f(v).ok_or_else(|| Error::WrongType {
            name: name.to_owned(),
            wanted,
            found: v.kind(),
        })
    }

    /// `name` as a float (an int is widened).
    pub fn f64(&self, name: &str) -> Result<f64> {
        self.typed(name, "a float", |v| match v {
            ParamValue::Float(x) => Some(*x),
            ParamValue::Int(i) => Some(*i as f64),
            _ => None,
        })
    }

    /// `name` as an integer.
    pub fn i64(&self, name: &str) -> Result<i64> {
        self.typed(name, "an int", |v| match v {
            ParamValue::Int(i) => Some(*i),
            _ => None,
        })
    }

    /// `name` as a string.
    pub fn str(&self, name: &str) -> Result<&str> {
        let v = self.get(name).ok_or_else(|| Error::MissingParam {
            name: name.to_owned(),
        })?;
        match v {
            ParamValue::Str(s) => Ok(s),
            other => Err(Error::WrongType {
                name: name.to_owned(),
                wanted: "a string",
                found: other.kind(),
            }),
        }
    }

    /// `name` as a bool.
    pub fn bool(&self, name: &str) -> Result<bool> {
        self.typed(name, "a bool", |v| match v {
            ParamValue::Bool(b) => Some(*b),
            _ => None,
        })
    }
}

impl fmt::Display for ParamValues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.iter().map(|(k, v)| format!("{k}={v}")).collect();
        write!(f, "{}", parts.join(" "))
    }
}
