//! Scripted metric sequences, checked against Keras 3's `EarlyStopping`.

use super::*;
use descent_core::{ParamStore, Tags};
use nalgebra::DMatrix;
use proptest::prelude::*;

/// Runs `metrics` epoch by epoch, setting the parameter to the epoch number and
/// the buffer to its metric before each update; returns (epochs run, stopper, store, buffer).
fn run(
    config: EarlyStoppingConfig,
    metrics: &[f64],
) -> (usize, EarlyStopping<f64, f64>, ParamStore<f64>, f64) {
    let mut store = ParamStore::new();
    let w = store
        .register("w", Tags::WEIGHT, DMatrix::zeros(1, 2))
        .unwrap();
    let mut stopper = EarlyStopping::new(config).unwrap();
    let mut buffer = f64::NAN;
    let mut ran = 0;
    for (epoch, &m) in metrics.iter().enumerate() {
        store.params_mut().value_mut(w).fill(epoch as f64);
        buffer = m;
        ran += 1;
        if let Decision::Stop(_) = stopper.update(epoch as u64, m, store.params(), &buffer) {
            break;
        }
    }
    (ran, stopper, store, buffer)
}

fn cfg(patience: u64) -> EarlyStoppingConfig {
    EarlyStoppingConfig {
        patience,
        restore_best: true,
        ..Default::default()
    }
}

#[test]
fn stops_after_patience_epochs_without_improvement_and_restores_the_best() {
    let (ran, mut stopper, mut store, mut buffer) = run(cfg(2), &[1.0, 0.9, 0.95, 0.92, 0.5]);
    assert_eq!(ran, 4, "stops at epoch 3, two epochs after the best");
    assert_eq!(stopper.stopped(), Some((3, StopReason::NoImprovement)));
    assert_eq!(
        stopper.finish(store.params_mut(), &mut buffer).unwrap(),
        Some(1)
    );
    assert_eq!(
        store.value(store.id("w").unwrap()),
        &DMatrix::from_element(1, 2, 1.0)
    );
    assert_eq!(buffer, 0.9, "buffers come back with the parameters");
}

#[test]
fn a_change_of_exactly_min_delta_is_no_improvement() {
    let with_delta = EarlyStoppingConfig {
        min_delta: 0.25,
        ..cfg(0)
    };
    // 1.0 -> 0.75 is a change of exactly 0.25: no improvement, stop at epoch 1.
    let (ran, stopper, ..) = run(with_delta, &[1.0, 0.75, 0.5]);
    assert_eq!(
        (ran, stopper.best(), stopper.best_epoch()),
        (2, 1.0, Some(0))
    );
    // 1.0 -> 0.7 and 0.7 -> 0.4 are more than 0.25: improvements; 0.7 -> 0.5 would not be.
    let (ran, stopper, ..) = run(with_delta, &[1.0, 0.7, 0.4, 0.4]);
    assert_eq!(
        (ran, stopper.best(), stopper.best_epoch()),
        (4, 0.4, Some(2))
    );
    assert_eq!(run(with_delta, &[1.0, 0.7, 0.5]).0, 3);
    // min_delta's sign is ignored, as in Keras (`abs(min_delta)`).
    let negative = EarlyStoppingConfig {
        min_delta: -0.25,
        ..cfg(0)
    };
    assert_eq!(run(negative, &[1.0, 0.75, 0.5]).0, 2);
}

#[test]
fn max_mode_with_min_delta() {
    let config = EarlyStoppingConfig {
        mode: Direction::Maximize,
        min_delta: 0.5,
        ..cfg(1)
    };
    let (ran, stopper, ..) = run(config, &[0.5, 1.0, 1.5, 1.75, 2.5, 2.0]);
    // 0.5 -> 1.0 is exactly min_delta: epoch 1 stops (wait 1 >= patience 1).
    assert_eq!(ran, 2);
    assert_eq!(stopper.best_epoch(), Some(0));
}

#[test]
fn baseline_keeps_the_wait_growing_until_it_is_beaten() {
    let config = EarlyStoppingConfig {
        mode: Direction::Maximize,
        baseline: Some(0.9),
        ..cfg(2)
    };
    // Improving but below the baseline: Keras returns before the stop check on
    // an improving epoch, so the first non-improving epoch stops (wait 4 >= 2).
    let (ran, mut stopper, mut store, mut buf) = run(config, &[0.5, 0.6, 0.7, 0.65, 0.8]);
    assert_eq!(ran, 4);
    assert_eq!(stopper.wait(), 4);
    // The best epoch is restored even though it never beat the baseline.
    assert_eq!(
        stopper.finish(store.params_mut(), &mut buf).unwrap(),
        Some(2)
    );
    // Beating the baseline resets the wait.
    let (ran, stopper, ..) = run(config, &[0.5, 0.95, 0.94, 0.93, 0.92]);
    assert_eq!(
        (ran, stopper.stopped()),
        (4, Some((3, StopReason::NoImprovement)))
    );
}

#[test]
fn warm_up_epochs_are_not_monitored() {
    let metrics = [5.0, 6.0, 7.0, 8.0, 4.0, 4.5, 4.6];
    assert_eq!(run(cfg(1), &metrics).0, 2, "without warm-up epoch 1 stops");
    let warm = EarlyStoppingConfig {
        start_from_epoch: 3,
        ..cfg(1)
    };
    let (ran, stopper, ..) = run(warm, &metrics);
    assert_eq!((ran, stopper.best_epoch()), (6, Some(4)));
}

#[test]
fn a_non_finite_metric_stops_at_once_and_keeps_the_last_good_best() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let (ran, mut stopper, mut store, mut buf) = run(cfg(10), &[1.0, 0.5, bad, 0.1]);
        assert_eq!(ran, 3);
        assert_eq!(stopper.stopped(), Some((2, StopReason::NonFinite)));
        assert_eq!(
            stopper.finish(store.params_mut(), &mut buf).unwrap(),
            Some(1)
        );
        assert_eq!(buf, 0.5);
    }
    // Keras's behaviour when asked: NaN is simply no improvement.
    let keras = EarlyStoppingConfig {
        stop_on_non_finite: false,
        ..cfg(2)
    };
    assert_eq!(run(keras, &[1.0, f64::NAN, f64::NAN, 0.1]).0, 3);
}

#[test]
fn without_restore_best_finish_leaves_the_last_parameters() {
    let config = EarlyStoppingConfig {
        restore_best: false,
        ..cfg(1)
    };
    let (_, mut stopper, mut store, mut buf) = run(config, &[1.0, 2.0]);
    assert_eq!(stopper.finish(store.params_mut(), &mut buf).unwrap(), None);
    assert!(stopper.best_snapshot().is_none());
    assert_eq!(store.value(store.id("w").unwrap())[0], 1.0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Without min_delta, baseline or warm-up: training stops max(patience, 1)
    /// epochs after the first occurrence of the running minimum, and that
    /// epoch's exact parameters and buffers are restored.
    #[test]
    fn stops_at_best_plus_patience_and_restores_exactly_the_best(
        metrics in proptest::collection::vec(0u8..20, 1..40), patience in 0u64..6,
    ) {
        let metrics: Vec<f64> = metrics.iter().map(|&m| m as f64 / 7.0).collect();
        let (ran, mut stopper, mut store, mut buf) = run(cfg(patience), &metrics);
        let last = ran - 1;
        let best = (0..ran).fold(0, |b, e| if metrics[e] < metrics[b] { e } else { b });
        prop_assert_eq!(stopper.best_epoch(), Some(best as u64));
        match stopper.stopped() {
            Some((e, StopReason::NoImprovement)) => {
                prop_assert_eq!(e as usize, last);
                prop_assert_eq!(last, best + patience.max(1) as usize);
            }
            None => {
                prop_assert_eq!(ran, metrics.len());
                prop_assert!(last < best + patience.max(1) as usize);
            }
            other => prop_assert!(false, "unexpected stop {:?}", other),
        }
        stopper.finish(store.params_mut(), &mut buf).unwrap();
        prop_assert_eq!(store.value(store.id("w").unwrap())[0], best as f64);
        prop_assert_eq!(buf.to_bits(), metrics[best].to_bits());
    }
}
