//! Replays `tests/fixtures/nsga2_crossovers.json` (written with Optuna 5.0.0
//! by `tests/optuna_ref/nsga2_crossovers.py`): every case, each crossover fed
//! the draws Optuna's took, each draw's kind and arguments checked against
//! what Optuna asked for, and the child compared with Optuna's.

use super::crossover::{self, Draws};
use super::{Crossover, NsgaIIConfig, trial_dominates};
use crate::{Direction, Distribution, FrozenTrial, ParamValue, TrialState};
use serde_json::Value;
use std::collections::BTreeMap;

/// Optuna's recorded draws, handed out in order; the first mismatch is kept.
struct Replay {
    draws: Vec<Value>,
    next: usize,
    error: Option<String>,
}

impl Replay {
    fn take(&mut self, kind: &str) -> Option<Value> {
        let draw = self.draws.get(self.next).cloned();
        self.next += 1;
        match draw.as_ref().and_then(|d| d.get(kind)) {
            Some(v) => Some(v.clone()),
            None => {
                if self.error.is_none() {
                    self.error = Some(format!(
                        "draw {}: descent asks for {kind}, Optuna drew {draw:?}",
                        self.next - 1
                    ));
                }
                None
            }
        }
    }

    fn fail(&mut self, msg: String) {
        if self.error.is_none() {
            self.error = Some(msg);
        }
    }
}

impl Draws for Replay {
    fn uniform(&mut self) -> f64 {
        self.take("uniform").and_then(|v| v.as_f64()).unwrap_or(0.5)
    }

    fn normal(&mut self, mean: f64, std: f64) -> f64 {
        let Some(v) = self.take("normal") else {
            return 0.0;
        };
        let (loc, scale, x) = (v[0].as_f64(), v[1].as_f64(), v[2].as_f64());
        if loc != Some(mean) || !scale.is_some_and(|s| close(s, std)) {
            self.fail(format!(
                "draw {}: descent asks for normal({mean}, {std}), Optuna drew {v}",
                self.next - 1
            ));
        }
        x.unwrap_or(0.0)
    }

    fn index(&mut self, n: usize) -> usize {
        let Some(v) = self.take("index") else {
            return 0;
        };
        if v[0].as_u64() != Some(n as u64) {
            self.fail(format!(
                "draw {}: descent asks for choice({n}), Optuna drew {v}",
                self.next - 1
            ));
        }
        v[1].as_u64().map_or(0, |i| (i as usize).min(n - 1))
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + a.abs().max(b.abs()))
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

fn crossover_of(spec: &Value) -> Result<Crossover, String> {
    let f = |k: &str| spec[k].as_f64();
    let prob = |k: &str| f(k).ok_or(format!("{k} missing"));
    Ok(match spec["name"].as_str() {
        Some("uniform") => Crossover::Uniform,
        Some("blx_alpha") => Crossover::BlxAlpha {
            alpha: prob("alpha")?,
        },
        Some("sbx") => Crossover::Sbx {
            eta: f("eta"),
            uniform_crossover_prob: prob("uniform_crossover_prob")?,
            use_child_gene_prob: prob("use_child_gene_prob")?,
        },
        Some("vsbx") => Crossover::Vsbx {
            eta: f("eta"),
            uniform_crossover_prob: prob("uniform_crossover_prob")?,
            use_child_gene_prob: prob("use_child_gene_prob")?,
        },
        Some("spx") => Crossover::Spx {
            epsilon: f("epsilon"),
        },
        Some("undx") => Crossover::Undx {
            sigma_xi: prob("sigma_xi")?,
            sigma_eta: f("sigma_eta"),
        },
        other => return Err(format!("unknown crossover {other:?}")),
    })
}

fn config_of(case: &Value) -> Result<NsgaIIConfig, String> {
    let crossover = crossover_of(&case["crossover"])?;
    crossover.check().map_err(|e| e.to_string())?;
    Ok(NsgaIIConfig {
        crossover,
        swapping_prob: case["swapping_prob"]
            .as_f64()
            .or(case["crossover"]["swapping_prob"].as_f64())
            .unwrap_or(0.5),
        ..Default::default()
    })
}

fn check_op(case: &Value, rng: &mut Replay) -> Result<(), String> {
    let config = config_of(case)?;
    let xs: Vec<Vec<f64>> = case["parents"]
        .as_array()
        .ok_or("parents missing")?
        .iter()
        .map(floats)
        .collect();
    let bounds: Vec<[f64; 2]> = case["bounds"]
        .as_array()
        .ok_or("bounds missing")?
        .iter()
        .map(|b| {
            let b = floats(b);
            [b[0], b[1]]
        })
        .collect();
    let multi = case["multi_objective"]
        .as_bool()
        .ok_or("no multi_objective")?;
    let child = crossover::numerical_child(&config, &xs, &bounds, multi, rng);
    let want = floats(&case["child"]);
    if child.len() != want.len() || child.iter().zip(&want).any(|(a, b)| !close(*a, *b)) {
        return Err(format!("child {child:?}, Optuna's {want:?}"));
    }
    Ok(())
}

fn check_perform(case: &Value, rng: &mut Replay) -> Result<(), String> {
    let config = config_of(case)?;
    let space: BTreeMap<String, Distribution> =
        serde_json::from_value(case["space"].clone()).map_err(|e| e.to_string())?;
    let directions: Vec<Direction> = case["directions"]
        .as_array()
        .ok_or("directions missing")?
        .iter()
        .map(|d| match d.as_str() {
            Some("minimize") => Ok(Direction::Minimize),
            Some("maximize") => Ok(Direction::Maximize),
            _ => Err(format!("direction {d}")),
        })
        .collect::<Result<_, _>>()?;
    let mut population = Vec::new();
    for t in case["population"].as_array().ok_or("population missing")? {
        let mut trial = FrozenTrial::running(t["number"].as_u64().ok_or("number")?);
        trial.state = TrialState::Complete;
        trial.params = serde_json::from_value(t["params"].clone()).map_err(|e| e.to_string())?;
        trial.distributions = space.clone();
        trial.set_values(floats(&t["values"]));
        population.push(trial);
    }
    let refs: Vec<&FrozenTrial> = population.iter().collect();
    let dominates = |a: &FrozenTrial, b: &FrozenTrial| trial_dominates(a, b, &directions, false);
    let child = crossover::perform(
        &config,
        &space,
        &refs,
        &dominates,
        directions.len() > 1,
        rng,
    );
    let want: BTreeMap<String, ParamValue> =
        serde_json::from_value(case["child"].clone()).map_err(|e| e.to_string())?;
    let same = child.len() == want.len()
        && child.iter().zip(&want).all(|((ka, a), (kb, b))| {
            ka == kb
                && match (a, b) {
                    (ParamValue::Float(x), ParamValue::Float(y)) => close(*x, *y),
                    _ => a == b,
                }
        });
    if !same {
        return Err(format!("child {child:?}, Optuna's {want:?}"));
    }
    Ok(())
}

#[test]
fn every_crossover_case_gives_optunas_child_from_optunas_draws() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/nsga2_crossovers.json"
    );
    let text = std::fs::read_to_string(path).expect("the vendored fixture");
    let fixture: Value = serde_json::from_str(&text).expect("valid JSON");
    let cases = fixture["cases"].as_array().expect("cases");
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        let mut rng = Replay {
            draws: case["draws"].as_array().cloned().unwrap_or_default(),
            next: 0,
            error: None,
        };
        let result = match case["kind"].as_str() {
            Some("op") => check_op(case, &mut rng),
            Some("perform") => check_perform(case, &mut rng),
            other => Err(format!("unknown kind {other:?}")),
        };
        // A draw that differs explains a child that differs: report it first.
        let drawn = match rng.error.take() {
            Some(e) => Err(e),
            None if rng.next != rng.draws.len() => Err(format!(
                "descent took {} draws, Optuna {}",
                rng.next,
                rng.draws.len()
            )),
            None => Ok(()),
        };
        let result = drawn.and(result);
        if let Err(e) = result {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
