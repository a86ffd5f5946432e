//! The hypervolume and non-domination ranks agree with Optuna 5.0.0's on
//! every case of `optuna_ref/hypervolume.json` (written by
//! `optuna_ref/hypervolume.py`); a case needs no code.

use descent_hpo::{hypervolume, non_dominated_sort};
use serde_json::Value;

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn ranks(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

#[test]
fn hypervolume_and_ranks_match_optuna_on_every_case() {
    let text = include_str!("optuna_ref/hypervolume.json");
    let doc: Value = serde_json::from_str(text).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 8);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let points: Vec<Vec<f64>> = case["points"]
            .as_array()
            .unwrap()
            .iter()
            .map(floats)
            .collect();
        let reference = floats(&case["reference"]);
        let want = case["hypervolume"].as_f64().unwrap();
        let got = hypervolume(&points, &reference).unwrap();
        assert!(
            (got - want).abs() <= 1e-12 * want.abs(),
            "{name}: hypervolume {got} vs Optuna {want}"
        );
        assert_eq!(
            non_dominated_sort(&points, None, None).unwrap(),
            ranks(&case["ranks"]),
            "{name}: ranks"
        );
        let penalty = floats(&case["penalty"]);
        assert_eq!(
            non_dominated_sort(&points, Some(&penalty), None).unwrap(),
            ranks(&case["ranks_constrained"]),
            "{name}: constrained ranks"
        );
    }
}
