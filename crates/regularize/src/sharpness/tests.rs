//! Sharpness on quadratics with known Hessians.

use super::*;
use descent_core::Tags;
use nalgebra::{DMatrix, DVector};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// A store of 5 values split over two tensors (1×3 and 2×1) at `theta`.
fn store_at(theta: &DVector<f64>) -> ParamStore<f64> {
    let mut store = ParamStore::new();
    store
        .register(
            "a.weight",
            Tags::WEIGHT,
            DMatrix::from_row_slice(1, 3, &theta.as_slice()[..3]),
        )
        .unwrap();
    store
        .register(
            "b.weight",
            Tags::WEIGHT,
            DMatrix::from_column_slice(2, 1, &theta.as_slice()[3..]),
        )
        .unwrap();
    store
}

/// f(θ) = ½(θ − θ*)ᵀA(θ − θ*) + c over the store, gradient A(θ − θ*).
fn quadratic(
    a: DMatrix<f64>,
    minimum: DVector<f64>,
    c: f64,
) -> impl FnMut(&mut ParamStore<f64>) -> f64 {
    move |store| {
        let theta = DVector::from_vec(flat::values(store));
        let d = &theta - &minimum;
        let g = &a * &d;
        let (ga, gb) = g.as_slice().split_at(3);
        let ids: Vec<_> = store.ids().collect();
        store.grad_mut(ids[0]).as_mut_slice().copy_from_slice(ga);
        store.grad_mut(ids[1]).as_mut_slice().copy_from_slice(gb);
        0.5 * d.dot(&g) + c
    }
}

/// A symmetric matrix with eigenvalues `eigs` and a random orthogonal basis.
fn with_eigenvalues(eigs: &[f64], seed: u64) -> (DMatrix<f64>, DMatrix<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = eigs.len();
    let m = DMatrix::from_fn(n, n, |_, _| rng.random_range(-1.0..1.0));
    let q = m.qr().q();
    let a = &q * DMatrix::from_diagonal(&DVector::from_row_slice(eigs)) * q.transpose();
    (0.5 * (&a + a.transpose()), q)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn power_iteration_finds_the_known_top_eigenvalue(
        top in 1.0..10.0f64, rest in proptest::collection::vec(-0.7..0.7f64, 4), seed in 0u64..1000,
    ) {
        let mut eigs = vec![top];
        eigs.extend(rest.iter().map(|r| r * top));
        let (a, q) = with_eigenvalues(&eigs, seed);
        let theta = DVector::from_fn(5, |i, _| i as f64 - 2.0);
        let mut store = store_at(&theta);
        let before = flat::values(&store);
        let cfg = PowerIterationConfig { max_iters: 500, tol: 1e-12, ..Default::default() };
        let mut f = quadratic(a, DVector::from_element(5, 0.3), 1.0);
        let found = top_hessian_eigenvalue(&mut store, &mut f, &cfg, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
        prop_assert!(found.converged);
        prop_assert!((found.value - top).abs() < 1e-6 * top, "{} vs {}", found.value, top);
        let alignment = DVector::from_vec(found.vector).dot(&q.column(0)).abs();
        prop_assert!((alignment - 1.0).abs() < 1e-3, "eigenvector alignment {}", alignment);
        prop_assert_eq!(flat::values(&store), before, "values restored bit for bit");
    }

    #[test]
    fn epsilon_sharpness_grows_with_curvature(curvature in 0.1..100.0f64, factor in 1.5..10.0f64, seed in 0u64..1000) {
        let theta = DVector::from_fn(5, |i, _| 0.5 * i as f64);
        let cfg = SharpnessConfig::default();
        let sharpness = |h: f64| {
            let mut store = store_at(&theta);
            let mut f = quadratic(DMatrix::identity(5, 5) * h, theta.clone(), 0.0);
            epsilon_sharpness(&mut store, &mut f, &cfg, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap()
        };
        let (low, high) = (sharpness(curvature), sharpness(curvature * factor));
        prop_assert!(high.value > low.value);
        // At the minimum of ½h‖θ−θ*‖² the box's corners are the maximum: ½h·Σrᵢ².
        let exact = 0.5 * curvature * theta.iter().map(|t| (1e-3 * (t.abs() + 1.0)).powi(2)).sum::<f64>();
        prop_assert!((low.max_loss - exact).abs() <= 1e-9 * exact, "{} vs {}", low.max_loss, exact);
        prop_assert!((low.value - 100.0 * exact).abs() <= 1e-9 * low.value);
    }
}

#[test]
fn epsilon_sharpness_is_zero_at_the_minimum_of_a_flat_function() {
    let theta = DVector::from_element(5, 1.0);
    let mut store = store_at(&theta);
    let mut flat_loss = quadratic(DMatrix::zeros(5, 5), theta.clone(), 2.0);
    let s = epsilon_sharpness(
        &mut store,
        &mut flat_loss,
        &SharpnessConfig::default(),
        &mut ChaCha8Rng::seed_from_u64(1),
    )
    .unwrap();
    assert_eq!((s.value, s.loss, s.max_loss), (0.0, 2.0, 2.0));
}

#[test]
fn ascent_finds_the_uphill_corner_away_from_the_minimum() {
    // f = ½‖θ‖² at θ = (1, …, 1): the worst corner is θ + r, r = 2ε.
    let theta = DVector::from_element(5, 1.0);
    let mut store = store_at(&theta);
    let mut f = quadratic(DMatrix::identity(5, 5), DVector::zeros(5), 0.0);
    let cfg = SharpnessConfig {
        epsilon: 1e-2,
        ..Default::default()
    };
    let s = epsilon_sharpness(&mut store, &mut f, &cfg, &mut ChaCha8Rng::seed_from_u64(3)).unwrap();
    let (loss, max_loss) = (2.5, 0.5 * 5.0 * 1.02f64.powi(2));
    assert!(
        (s.loss - loss).abs() < 1e-12 && (s.max_loss - max_loss).abs() < 1e-12,
        "{s:?}"
    );
    assert!((s.value - 100.0 * (max_loss - loss) / (1.0 + loss)).abs() < 1e-9);
}

#[test]
fn a_non_finite_loss_is_an_error_and_the_values_come_back() {
    let theta = DVector::from_element(5, 1.0);
    let mut store = store_at(&theta);
    let before = flat::values(&store);
    let mut calls = 0;
    let mut f = |_: &mut ParamStore<f64>| {
        calls += 1;
        if calls > 2 { f64::NAN } else { 1.0 }
    };
    let err = epsilon_sharpness(
        &mut store,
        &mut f,
        &SharpnessConfig::default(),
        &mut ChaCha8Rng::seed_from_u64(0),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NonFiniteLoss {
                during: "in the ε-box",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(flat::values(&store), before);
    let err = top_hessian_eigenvalue(
        &mut store,
        &mut |_: &mut ParamStore<f64>| f64::INFINITY,
        &PowerIterationConfig::default(),
        &mut ChaCha8Rng::seed_from_u64(0),
    )
    .unwrap_err();
    assert!(matches!(err, Error::NonFiniteLoss { .. }));
    assert_eq!(flat::values(&store), before);
}
