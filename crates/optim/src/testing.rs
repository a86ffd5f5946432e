//! Helpers for this crate's unit and property tests.

use crate::Optimizer;
use descent_core::{ParamStore, Tags};
use nalgebra::DMatrix;

/// A store with one row-vector parameter per entry of `values`.
pub(crate) fn store_of(values: &[Vec<f64>]) -> ParamStore<f64> {
    let mut store = ParamStore::new();
    for (i, v) in values.iter().enumerate() {
        let tags = if i % 2 == 0 { Tags::WEIGHT } else { Tags::BIAS };
        store
            .register(
                format!("p{i}"),
                tags,
                DMatrix::from_row_slice(1, v.len(), v),
            )
            .unwrap();
    }
    store
}

/// Runs `opt` on a one-parameter store from `p0`, feeding `grads[k] + penalty·θ`
/// at step `k`, and returns θ after every step.
pub(crate) fn trajectory(
    opt: &mut Optimizer<f64>,
    store: &mut ParamStore<f64>,
    grads: &[Vec<f64>],
    penalty: f64,
) -> Vec<Vec<f64>> {
    let id = store.ids().next().unwrap();
    let n = store.value(id).len();
    grads
        .iter()
        .map(|g| {
            let theta = store.value(id).clone();
            let grad = DMatrix::from_fn(1, n, |_, j| g[j % g.len()] + penalty * theta[j]);
            store.grad_mut(id).copy_from(&grad);
            opt.step(store).unwrap();
            store.value(id).as_slice().to_vec()
        })
        .collect()
}

/// Largest |a − b| / max(|b|, 1) over two trajectories.
pub(crate) fn max_rel_diff(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    a.iter()
        .flatten()
        .zip(b.iter().flatten())
        .map(|(x, y)| (x - y).abs() / y.abs().max(1.0))
        .fold(0.0, f64::max)
}
