//! Property: any configuration the page may send is either refused with an
//! error naming its field, or builds runs that train an epoch (or end with
//! a typed error, when the rate makes the loss diverge) — never a panic.

use descent_playground::config::{
    Activation, DataKind, OptimKind, RunConfig, ScheduleKind, SessionConfig,
};
use descent_playground::data::generate;
use descent_playground::run::{GRID, Run, grid_points};
use proptest::prelude::*;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

fn run_config() -> impl Strategy<Value = RunConfig> {
    let kinds = prop::sample::select(vec![
        OptimKind::Gd,
        OptimKind::Sgd,
        OptimKind::Momentum,
        OptimKind::Nesterov,
        OptimKind::Adagrad,
        OptimKind::Rmsprop,
        OptimKind::Adam,
        OptimKind::Adamw,
        OptimKind::Nadam,
        OptimKind::Radam,
        OptimKind::Adamax,
        OptimKind::Adadelta,
        OptimKind::Lion,
    ]);
    let schedules = prop::sample::select(vec![
        ScheduleKind::Constant,
        ScheduleKind::Step,
        ScheduleKind::Cosine,
        ScheduleKind::WarmupCosine,
    ]);
    let acts = prop::sample::select(vec![
        Activation::Relu,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::LeakyRelu,
        Activation::Elu,
        Activation::Gelu,
        Activation::Linear,
    ]);
    (
        (
            prop::collection::vec(0usize..80, 0..8),
            acts,
            any::<bool>(),
            -0.2f64..1.1,
            -0.5f64..2.5,
        ),
        (
            kinds,
            -1.0f64..12.0,
            -0.1f64..1.0,
            schedules,
            0u64..300,
            0u64..300,
        ),
        (
            0usize..300,
            -0.1f64..0.2,
            -0.1f64..0.2,
            0.0f64..0.2,
            0u64..5,
            -1.0f64..3.0,
        ),
    )
        .prop_map(|((hidden, act, bn, dropout, noise), o, t)| {
            let mut r = RunConfig::default();
            r.net.hidden = hidden;
            r.net.activation = act;
            r.net.batch_norm = bn;
            r.net.dropout = dropout;
            r.net.gaussian_noise = noise;
            r.optim.kind = o.0;
            r.optim.lr = o.1;
            r.optim.momentum = o.2;
            r.optim.schedule = o.3;
            r.optim.warmup_epochs = o.4;
            r.optim.schedule_epochs = o.5;
            r.optim.step_epochs = o.5;
            r.train.batch_size = t.0;
            r.train.l1 = t.1;
            r.train.l2 = t.2;
            r.train.weight_decay = t.3;
            r.train.early_stopping = t.4;
            r.train.clip_norm = t.5;
            r
        })
}

fn session_config() -> impl Strategy<Value = SessionConfig> {
    let kinds = prop::sample::select(vec![
        DataKind::Moons,
        DataKind::Spirals,
        DataKind::Circles,
        DataKind::Xor,
        DataKind::Blobs,
    ]);
    (
        (
            kinds,
            0usize..2600,
            0usize..7,
            -0.2f64..1.2,
            0.0f64..1.0,
            -0.1f64..0.6,
        ),
        run_config(),
        prop::option::of(run_config()),
        any::<u64>(),
    )
        .prop_map(|(d, run, compare, seed)| {
            let mut c = SessionConfig {
                seed,
                run,
                compare,
                ..SessionConfig::default()
            };
            c.data.kind = d.0;
            c.data.n_points = d.1;
            c.data.n_classes = d.2;
            c.data.noise = d.3;
            c.data.test_fraction = d.4;
            c.data.label_noise = d.5;
            c
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Within the bounds, every configuration builds and trains an epoch.
    #[test]
    fn a_config_within_bounds_trains(
        c in session_config().prop_map(|mut c| {
            c.data.n_points = 20 + c.data.n_points % 400;
            c.data.n_classes = 2 + c.data.n_classes % 4;
            c.data.noise = c.data.noise.clamp(0.0, 1.0);
            c.data.test_fraction = c.data.test_fraction.clamp(0.1, 0.9);
            c.data.label_noise = c.data.label_noise.clamp(0.0, 0.5);
            let n_train = c.data.n_train();
            let fix = |r: &mut RunConfig| {
                r.net.hidden = r.net.hidden.iter().map(|w| 1 + w % 16).take(4).collect();
                if r.net.hidden.is_empty() {
                    r.net.hidden.push(4);
                }
                r.net.dropout = r.net.dropout.clamp(0.0, 0.9);
                r.net.gaussian_noise = r.net.gaussian_noise.clamp(0.0, 2.0);
                r.optim.lr = r.optim.lr.clamp(1e-4, 10.0);
                r.optim.momentum = r.optim.momentum.clamp(0.5, 0.99);
                r.optim.schedule_epochs += 2;
                r.optim.warmup_epochs %= r.optim.schedule_epochs;
                r.optim.step_epochs += 1;
                r.optim.gamma = 0.5;
                r.train.batch_size = 2 + r.train.batch_size % (n_train - 1);
                r.train.l1 = r.train.l1.clamp(0.0, 1.0);
                r.train.l2 = r.train.l2.clamp(0.0, 1.0);
                r.train.clip_norm = r.train.clip_norm.clamp(0.0, 1000.0);
            };
            fix(&mut c.run);
            if let Some(r) = &mut c.compare {
                fix(r);
            }
            c
        })
    ) {
        c.validate().unwrap();
        let data = Arc::new(generate(&c.data, c.seed).unwrap());
        let grid = Arc::new(grid_points(GRID));
        for r in c.runs() {
            let cancel = Arc::new(AtomicBool::new(false));
            let mut run = Run::new(r, data.clone(), grid.clone(), c.seed, cancel).unwrap();
            match run.epoch() {
                Ok(m) => prop_assert!(m.is_some()),
                Err(_) => prop_assert!(run.ended()),
            }
        }
    }

    #[test]
    fn a_config_is_refused_by_field_or_trains(c in session_config()) {
        match c.validate() {
            Err(e) => prop_assert!(e.field().is_some(), "{e}"),
            Ok(()) => {
                let data = Arc::new(generate(&c.data, c.seed).unwrap());
                let grid = Arc::new(grid_points(GRID));
                for r in c.runs() {
                    let cancel = Arc::new(AtomicBool::new(false));
                    let mut run = Run::new(r, data.clone(), grid.clone(), c.seed, cancel).unwrap();
                    // Divergence is a typed error that ends the run; anything else trains.
                    match run.epoch() {
                        Ok(m) => prop_assert!(m.is_some()),
                        Err(_) => prop_assert!(run.ended()),
                    }
                    let s = run.snapshot().unwrap();
                    prop_assert_eq!(s.grid_class.len(), GRID * GRID);
                }
            }
        }
    }
}

#[test]
fn batch_norm_never_sees_a_batch_of_one() {
    let mut c = SessionConfig::default();
    c.run.net.batch_norm = true;
    c.run.train.batch_size = 1;
    assert_eq!(
        c.validate().unwrap_err().field(),
        Some("run.train.batch_size")
    );
    // 199 training points in batches of 3 leave one: it is dropped.
    c.run.train.batch_size = 3;
    c.data.n_points = 398;
    c.validate().unwrap();
    let data = Arc::new(generate(&c.data, 0).unwrap());
    assert_eq!(data.train_len() % 3, 1);
    let cancel = Arc::new(AtomicBool::new(false));
    let mut run = Run::new(&c.run, data, Arc::new(grid_points(GRID)), 0, cancel).unwrap();
    run.epoch().unwrap();
    assert_eq!(run.trainer().optimizer().steps(), 66);
}
