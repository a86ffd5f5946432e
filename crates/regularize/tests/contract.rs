//! The contract every `Penalty` keeps, checked over a table of every
//! penalty this crate has (the optimizer and schedule contract tables'
//! counterpart): on any store,
//! - `value` is the sum of `tensor_value` over the selected parameters, and
//!   `add_grad` returns the same number;
//! - `add_grad` adds the gradient of `value` (checked against a central
//!   finite difference away from L1's kink) into the selected parameters'
//!   gradients, accumulating onto what is there;
//! - parameters the selector does not pick are neither counted nor touched;
//! - a negative or non-finite strength is a typed error at construction.

use descent_core::{ParamStore, Selector, Tags};
use descent_regularize::{ElasticNet, L1, L2, Penalty};
use nalgebra::DMatrix;
use proptest::collection::vec;
use proptest::prelude::*;

/// Every penalty, by name, built with `(a, b)` as its strengths.
fn penalties(a: f64, b: f64) -> Vec<(&'static str, Box<dyn Penalty<f64>>)> {
    vec![
        ("L2", Box::new(L2::new(a).unwrap())),
        ("L1", Box::new(L1::new(a).unwrap())),
        ("ElasticNet", Box::new(ElasticNet::new(a, b).unwrap())),
        (
            "L2 on biases",
            Box::new(L2::new(a).unwrap().with_selector(Selector::name("*.bias"))),
        ),
    ]
}

/// A store of a weight, a bias and a norm weight, each with a gradient already there.
fn store(w: &[f64], g0: f64) -> ParamStore<f64> {
    let mut s = ParamStore::new();
    for (name, tags) in [
        ("fc.weight", Tags::WEIGHT),
        ("fc.bias", Tags::BIAS),
        ("bn.weight", Tags::WEIGHT | Tags::NORM),
    ] {
        let id = s
            .register(name, tags, DMatrix::from_row_slice(1, w.len(), w))
            .unwrap();
        s.grad_mut(id).fill(g0);
    }
    s
}

/// Values away from L1's kink at 0, so the finite difference sees a slope.
fn away_from_zero() -> impl Strategy<Value = f64> {
    prop_oneof![-2.0f64..-0.05, 0.05f64..2.0]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn every_penalty_keeps_the_contract(
        w in vec(away_from_zero(), 1..6),
        a in 0.0f64..1.0,
        b in 0.0f64..1.0,
        g0 in -1.0f64..1.0,
    ) {
        for (name, p) in penalties(a, b) {
            let mut s = store(&w, g0);
            let before = s.params().clone();
            let by_tensor: f64 = s
                .params()
                .iter()
                .filter(|(_, meta, _)| p.selector().matches(meta))
                .map(|(_, _, v)| p.tensor_value(v))
                .sum();
            let value = p.value(s.params());
            prop_assert!((value - by_tensor).abs() <= 1e-12 * value.abs().max(1.0), "{name}");
            let returned = p.add_grad(&mut s);
            prop_assert_eq!(returned, value, "{}: add_grad returns the value", name);
            for (id, meta, v) in before.iter() {
                prop_assert_eq!(s.value(id), v, "{}: add_grad leaves the values", name);
                let added = s.grad(id).map(|g| g - g0);
                if !p.selector().matches(meta) {
                    prop_assert!(added.iter().all(|&d| d == 0.0), "{name}: {} touched", meta.name);
                    continue;
                }
                // d value / d w_k by central differences on a copy of the tensor.
                let h = 1e-6;
                for k in 0..v.len() {
                    let (mut up, mut down) = (v.clone(), v.clone());
                    up[k] += h;
                    down[k] -= h;
                    let fd = (p.tensor_value(&up) - p.tensor_value(&down)) / (2.0 * h);
                    prop_assert!(
                        (added[k] - fd).abs() <= 1e-6 * fd.abs().max(1.0),
                        "{name}: {}[{k}] gradient {} vs finite difference {fd}", meta.name, added[k]
                    );
                }
            }
        }
    }
}

#[test]
fn a_negative_or_non_finite_strength_is_refused() {
    for bad in [-1e-3, f64::NAN, f64::INFINITY] {
        assert!(L2::new(bad).is_err(), "L2 {bad}");
        assert!(L1::new(bad).is_err(), "L1 {bad}");
        assert!(ElasticNet::new(bad, 0.1).is_err(), "ElasticNet l1 {bad}");
        assert!(ElasticNet::new(0.1, bad).is_err(), "ElasticNet l2 {bad}");
    }
}
