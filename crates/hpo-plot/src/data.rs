//! The trials a plot reads, and parameter axes as Optuna lays them out
//! (`optuna/visualization/_contour.py`'s `_get_axis_info`).

use crate::canvas::{Axis, Scale};
use crate::{Error, Result};
use descent_hpo::{Distribution, FrozenTrial, ParamValue, TrialState};
use std::collections::BTreeSet;

/// A trial's objective value. (The one place that reads it, so a study with
/// several objectives changes one line.)
pub(crate) fn objective(t: &FrozenTrial) -> Option<f64> {
    t.value
}

/// The completed trials with a finite value, in the order given (Optuna's
/// `_filter_nonfinite` over `states=(COMPLETE,)`).
pub(crate) fn completed(trials: &[FrozenTrial]) -> Vec<&FrozenTrial> {
    trials
        .iter()
        .filter(|t| t.state == TrialState::Complete && objective(t).is_some_and(f64::is_finite))
        .collect()
}

/// The completed trials with a finite value by trial number, and the
/// parameters to draw: `params`, each checked to exist, or every parameter
/// (Optuna's `_get_parallel_coordinate_info` / `_get_slice_plot_info`).
pub(crate) fn completed_with_params<'t>(
    trials: &'t [FrozenTrial],
    params: Option<&[&str]>,
    plot: &'static str,
) -> Result<(Vec<&'t FrozenTrial>, Vec<String>)> {
    let mut done = completed(trials);
    if done.is_empty() {
        return Err(Error::nothing(
            plot,
            "there are no complete trials with a finite value",
        ));
    }
    done.sort_by_key(|t| t.number);
    let all = param_names(&done);
    let names = match params {
        None => all,
        Some(ps) => {
            if let Some(p) = ps.iter().find(|p| !all.iter().any(|a| a == *p)) {
                return Err(Error::UnknownParam {
                    plot,
                    name: p.to_string(),
                });
            }
            ps.iter().map(|p| p.to_string()).collect()
        }
    };
    Ok((done, names))
}

/// Every parameter name of `trials`, sorted (Optuna's `sorted_params`).
pub(crate) fn param_names(trials: &[&FrozenTrial]) -> Vec<String> {
    trials
        .iter()
        .flat_map(|t| t.params.iter().map(|(k, _)| k.to_owned()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// A parameter's axis and each trial's position on it (plot units:
/// `log10` on a log axis, the label's index on a categorical one).
#[derive(Debug, Clone)]
pub(crate) struct ParamAxis {
    pub axis: Axis,
    /// Per trial, in the order given; `None` where the trial lacks the parameter.
    pub values: Vec<Option<f64>>,
    /// How many distinct values were seen (Optuna's `len(indices)`).
    pub n_distinct: usize,
}

fn numeric(v: &ParamValue) -> Option<f64> {
    match v {
        ParamValue::Int(i) => Some(*i as f64),
        ParamValue::Float(x) => Some(*x),
        ParamValue::Bool(_) | ParamValue::Str(_) => None,
    }
}

/// Whether the first trial holding `name` drew it on a log scale
/// (Optuna's `_is_log_scale`).
fn is_log(trials: &[&FrozenTrial], name: &str) -> bool {
    trials
        .iter()
        .find_map(|t| t.distributions.get(name))
        .is_some_and(|d| match d {
            Distribution::Float { log, .. } | Distribution::Int { log, .. } => *log,
            Distribution::Categorical { .. } => false,
        })
}

/// The axis of parameter `name` over `trials`, padded by 5% as Optuna's.
pub(crate) fn param_axis(trials: &[&FrozenTrial], name: &str) -> ParamAxis {
    let raw: Vec<Option<&ParamValue>> = trials.iter().map(|t| t.params.get(name)).collect();
    let is_numeric = raw.iter().flatten().all(|v| numeric(v).is_some());
    let log = is_numeric && is_log(trials, name);
    if is_numeric {
        let values: Vec<Option<f64>> = raw
            .iter()
            .map(|v| {
                let x = numeric((*v)?)?;
                match log {
                    true if x > 0.0 => Some(x.log10()),
                    true => None,
                    false => x.is_finite().then_some(x),
                }
            })
            .collect();
        let distinct: BTreeSet<u64> = values.iter().flatten().map(|v| v.to_bits()).collect();
        let (lo, hi) = values
            .iter()
            .flatten()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let range = if lo.is_finite() {
            let pad = (hi - lo) * 0.05;
            if pad > 0.0 {
                (lo - pad, hi + pad)
            } else {
                (lo - 0.5, hi + 0.5)
            }
        } else {
            (0.0, 1.0)
        };
        ParamAxis {
            axis: Axis {
                label: name.to_owned(),
                scale: if log { Scale::Log } else { Scale::Linear },
                range,
            },
            values,
            n_distinct: distinct.len(),
        }
    } else {
        let labels: Vec<String> = raw
            .iter()
            .flatten()
            .map(|v| v.to_string())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let values = raw
            .iter()
            .map(|v| {
                let s = (*v)?.to_string();
                labels.iter().position(|l| *l == s).map(|i| i as f64)
            })
            .collect();
        let span = labels.len().saturating_sub(1) as f64;
        let pad = span * 0.05;
        let range = if span > 0.0 {
            (-pad, span + pad)
        } else {
            (-0.5, 0.5)
        };
        ParamAxis {
            n_distinct: labels.len(),
            axis: Axis {
                label: name.to_owned(),
                scale: Scale::Categorical(labels),
                range,
            },
            values,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trial(n: u64, params: &[(&str, ParamValue, Distribution)]) -> FrozenTrial {
        let mut t = FrozenTrial::running(n);
        t.state = TrialState::Complete;
        t.value = Some(n as f64);
        for (k, v, d) in params {
            t.params.insert(*k, v.clone());
            t.distributions.insert(k.to_string(), d.clone());
        }
        t
    }

    #[test]
    fn a_log_parameter_is_laid_out_in_log10_with_five_percent_padding() {
        let d = Distribution::Float {
            low: 1e-4,
            high: 1.0,
            log: true,
            step: None,
        };
        let ts = [
            trial(0, &[("lr", ParamValue::Float(1e-3), d.clone())]),
            trial(1, &[("lr", ParamValue::Float(1e-1), d)]),
            trial(2, &[]),
        ];
        let refs: Vec<&FrozenTrial> = ts.iter().collect();
        let a = param_axis(&refs, "lr");
        assert_eq!(a.axis.scale, Scale::Log);
        assert_eq!(a.values[0], Some(-3.0));
        assert_eq!(a.values[2], None);
        assert!((a.axis.range.0 - -3.1).abs() < 1e-12 && (a.axis.range.1 - -0.9).abs() < 1e-12);
        assert_eq!(a.n_distinct, 2);
    }

    #[test]
    fn categorical_labels_are_sorted_strings_and_positions_their_indices() {
        let d = Distribution::Categorical {
            choices: vec!["sgd".into(), "adam".into()],
        };
        let ts = [
            trial(0, &[("opt", "sgd".into(), d.clone())]),
            trial(1, &[("opt", "adam".into(), d)]),
        ];
        let refs: Vec<&FrozenTrial> = ts.iter().collect();
        let a = param_axis(&refs, "opt");
        assert_eq!(
            a.axis.scale,
            Scale::Categorical(vec!["adam".into(), "sgd".into()])
        );
        assert_eq!(a.values, vec![Some(1.0), Some(0.0)]);
        assert!((a.axis.range.0 - -0.05).abs() < 1e-12);
    }
}
