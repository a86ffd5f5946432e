//! Optuna's encodings: `distribution_json`, the internal float of a parameter
//! (a categorical's index), and the value-type columns of non-finite values.

use crate::{Distribution, Error, ParamValue, Result};
use serde_json::{Value, json};

fn decode(reason: impl std::fmt::Display) -> Error {
    Error::Decode {
        what: "distribution_json",
        reason: reason.to_string(),
    }
}

/// Optuna's `distribution_to_json`.
pub(crate) fn distribution_json(d: &Distribution) -> String {
    let v = match d {
        Distribution::Float {
            low,
            high,
            log,
            step,
        } => json!({"name": "FloatDistribution",
            "attributes": {"step": step, "low": low, "high": high, "log": log}}),
        Distribution::Int {
            low,
            high,
            log,
            step,
        } => json!({"name": "IntDistribution",
            "attributes": {"log": log, "step": step, "low": low, "high": high}}),
        Distribution::Categorical { choices } => {
            json!({"name": "CategoricalDistribution", "attributes": {"choices": choices}})
        }
    };
    v.to_string()
}

/// Optuna's `json_to_distribution`, with the pre-3.0 names it still reads.
pub(crate) fn distribution_from_json(text: &str) -> Result<Distribution> {
    let v: Value = serde_json::from_str(text).map_err(decode)?;
    let name = v["name"].as_str().ok_or_else(|| decode("no name"))?;
    let a = &v["attributes"];
    let f = |k: &str| {
        a[k].as_f64()
            .ok_or_else(|| decode(format!("{name}: no {k}")))
    };
    let i = |k: &str| match &a[k] {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|x| x.fract() == 0.0).map(|x| x as i64))
            .ok_or_else(|| decode(format!("{name}: {k} is not an integer"))),
        _ => Err(decode(format!("{name}: no {k}"))),
    };
    let log = a["log"].as_bool().unwrap_or(false);
    Ok(match name {
        "FloatDistribution" => Distribution::Float {
            low: f("low")?,
            high: f("high")?,
            log,
            step: a["step"].as_f64(),
        },
        "UniformDistribution" => Distribution::Float {
            low: f("low")?,
            high: f("high")?,
            log: false,
            step: None,
        },
        "LogUniformDistribution" => Distribution::Float {
            low: f("low")?,
            high: f("high")?,
            log: true,
            step: None,
        },
        "DiscreteUniformDistribution" => Distribution::Float {
            low: f("low")?,
            high: f("high")?,
            log: false,
            step: Some(f("q")?),
        },
        "IntDistribution" | "IntUniformDistribution" | "IntLogUniformDistribution" => {
            Distribution::Int {
                low: i("low")?,
                high: i("high")?,
                log: log || name == "IntLogUniformDistribution",
                step: if a["step"].is_null() { 1 } else { i("step")? },
            }
        }
        "CategoricalDistribution" => Distribution::Categorical {
            choices: serde_json::from_value(a["choices"].clone()).map_err(decode)?,
        },
        other => return Err(decode(format!("unknown distribution {other}"))),
    })
}

/// Optuna's `to_internal_repr`: the float stored in `trial_params.param_value`.
pub(crate) fn to_internal(d: &Distribution, v: &ParamValue) -> f64 {
    match (d, v) {
        (Distribution::Categorical { choices }, v) => {
            choices.iter().position(|c| c == v).unwrap_or(0) as f64
        }
        (_, ParamValue::Float(x)) => *x,
        (_, ParamValue::Int(i)) => *i as f64,
        (_, ParamValue::Bool(b)) => f64::from(u8::from(*b)),
        (_, ParamValue::Str(_)) => f64::NAN,
    }
}

/// Optuna's `to_external_repr`.
pub(crate) fn from_internal(d: &Distribution, x: f64) -> Result<ParamValue> {
    Ok(match d {
        Distribution::Float { .. } => ParamValue::Float(x),
        Distribution::Int { .. } => ParamValue::Int(x as i64),
        Distribution::Categorical { choices } => {
            let idx = x as usize;
            if x < 0.0 || x.fract() != 0.0 || idx >= choices.len() {
                return Err(Error::Decode {
                    what: "param_value",
                    reason: format!("index {x} of {} choices", choices.len()),
                });
            }
            choices[idx].clone()
        }
    })
}

/// A value as `(value, value_type)` of Optuna's `trial_values` (NaN is never stored).
pub(crate) fn value_type(x: f64) -> (Option<f64>, &'static str) {
    if x == f64::INFINITY {
        (None, "INF_POS")
    } else if x == f64::NEG_INFINITY {
        (None, "INF_NEG")
    } else if x.is_nan() {
        (None, "NAN")
    } else {
        (Some(x), "FINITE")
    }
}

/// The value a `(value, value_type)` pair stands for.
pub(crate) fn from_value_type(x: Option<f64>, ty: &str) -> f64 {
    match ty {
        "INF_POS" => f64::INFINITY,
        "INF_NEG" => f64::NEG_INFINITY,
        "NAN" => f64::NAN,
        _ => x.unwrap_or(f64::NAN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distributions_round_trip_through_optunas_json() {
        let cases = [
            Distribution::Float {
                low: 0.0,
                high: 1.0,
                log: false,
                step: None,
            },
            Distribution::Float {
                low: 1e-5,
                high: 0.1,
                log: true,
                step: None,
            },
            Distribution::Float {
                low: 0.0,
                high: 1.0,
                log: false,
                step: Some(0.25),
            },
            Distribution::Int {
                low: 1,
                high: 9,
                log: false,
                step: 2,
            },
            Distribution::Categorical {
                choices: vec!["a".into(), 3i64.into(), 0.5.into(), true.into()],
            },
        ];
        for d in cases {
            assert_eq!(distribution_from_json(&distribution_json(&d)).unwrap(), d);
        }
        // What Optuna 5.0.0 itself writes.
        let optuna = r#"{"name": "IntDistribution", "attributes": {"log": false, "step": 1, "low": 1, "high": 5}}"#;
        assert_eq!(
            distribution_from_json(optuna).unwrap(),
            Distribution::Int {
                low: 1,
                high: 5,
                log: false,
                step: 1
            }
        );
        assert!(matches!(
            distribution_from_json(r#"{"name": "Nope", "attributes": {}}"#),
            Err(Error::Decode { .. })
        ));
        let cat = Distribution::Categorical {
            choices: vec!["sgd".into(), "adam".into()],
        };
        assert_eq!(to_internal(&cat, &"adam".into()), 1.0);
        assert_eq!(from_internal(&cat, 1.0).unwrap(), "adam".into());
        assert!(from_internal(&cat, 2.0).is_err());
    }
}
