//! optax-named optimizers refuse out-of-range arguments with a typed error
//! naming the argument, and Sophia's Hessian feed behaves as documented.

use descent_core::ArgError;
use descent_core::{ParamStore, Tags};
use descent_optim::*;
use nalgebra::DMatrix;

fn store() -> ParamStore<f64> {
    let mut store = ParamStore::new();
    store
        .register(
            "w",
            Tags::WEIGHT,
            DMatrix::from_row_slice(1, 3, &[1.0, -2.0, 0.5]),
        )
        .unwrap();
    store
}

fn name_of(e: Error) -> &'static str {
    match e {
        Error::Arg(ArgError { name, .. }) => name,
        other => panic!("not an OutOfRange: {other}"),
    }
}

#[test]
fn out_of_range_arguments_are_typed_errors_naming_them() {
    let s = store();
    let fast = OptaxAdamConfig::default();
    let cases: Vec<(&str, Result<Optimizer<f64>>)> = vec![
        (
            "b1",
            LambConfig {
                b1: 1.0,
                ..LambConfig::default()
            }
            .build(&s),
        ),
        (
            "weight_decay",
            LarsConfig {
                weight_decay: -1.0,
                ..LarsConfig::default()
            }
            .build(&s),
        ),
        (
            "eps",
            AdaBeliefConfig {
                eps: f64::NAN,
                ..AdaBeliefConfig::default()
            }
            .build(&s),
        ),
        (
            "b2",
            YogiConfig {
                b2: 1.5,
                ..YogiConfig::default()
            }
            .build(&s),
        ),
        (
            "eps_root",
            NovoGradConfig {
                eps_root: -1e-8,
                ..NovoGradConfig::default()
            }
            .build(&s),
        ),
        (
            "sync_period",
            Lookahead::new(&s, LookaheadConfig::new(fast, 0, 0.5)),
        ),
        (
            "slow_step_size",
            Lookahead::new(&s, LookaheadConfig::new(fast, 5, 1.5)),
        ),
        (
            "lr",
            Lookahead::new(
                &s,
                LookaheadConfig::new(OptaxAdamConfig { lr: -1.0, ..fast }, 5, 0.5),
            ),
        ),
        (
            "warmup_steps",
            ScheduleFreeSgdConfig {
                warmup_steps: Some(0),
                ..Default::default()
            }
            .build(&s),
        ),
        (
            "b1",
            ScheduleFreeAdamWConfig {
                b1: 0.0,
                ..Default::default()
            }
            .build(&s),
        ),
        (
            "estim_lr0",
            ProdigyConfig {
                estim_lr0: 0.0,
                ..Default::default()
            }
            .build(&s),
        ),
        (
            "beta3",
            ProdigyConfig {
                beta3: Some(1.0),
                ..Default::default()
            }
            .build(&s),
        ),
        (
            "update_interval",
            SophiaConfig {
                update_interval: 0,
                ..Default::default()
            }
            .build(&s),
        ),
        (
            "clip_threshold",
            SophiaConfig {
                clip_threshold: Some(0.0),
                ..Default::default()
            }
            .build(&s),
        ),
    ];
    for (want, got) in cases {
        assert_eq!(name_of(got.unwrap_err()), want);
    }
}

#[test]
fn a_sophia_step_without_its_estimate_keeps_the_average_and_counts_a_miss() {
    let mut s = store();
    let id = s.ids().next().unwrap();
    let cfg = SophiaConfig {
        update_interval: 2,
        ..SophiaConfig::default()
    };
    let mut opt = cfg.clone().build(&s).unwrap();
    let nu = |opt: &Optimizer<f64>| opt.state().groups[0].state["stages"][0]["nu"].clone();
    let misses =
        |opt: &Optimizer<f64>| opt.state().groups[0].state["stages"][0]["hessian_misses"].as_u64();
    s.grad_mut(id).fill(0.5);
    opt.step(&mut s).unwrap(); // step 0 wants an estimate: none given
    assert_eq!(
        (misses(&opt), nu(&opt)),
        (Some(1), serde_json::json!([[0.0, 0.0, 0.0]]))
    );
    // A wrongly shaped estimate is a miss too, and is consumed.
    cfg.hessian.provide(vec![vec![1.0, 2.0]]);
    opt.step(&mut s).unwrap(); // step 1 wants none: the estimate waits
    assert!(cfg.hessian.is_pending());
    opt.step(&mut s).unwrap(); // step 2 takes it, and it does not fit
    assert_eq!(misses(&opt), Some(2));
    assert!(!cfg.hessian.is_pending());
    cfg.hessian.provide(vec![vec![1.0, 2.0, 4.0]]);
    opt.step(&mut s).unwrap(); // step 3 wants none
    opt.step(&mut s).unwrap(); // step 4 takes it: ν = (1 − β₂)·ĥ
    assert_eq!(misses(&opt), Some(2));
    let got: Vec<f64> = serde_json::from_value(nu(&opt)[0].clone()).unwrap();
    for (g, h) in got.iter().zip([1.0, 2.0, 4.0]) {
        assert!((g - (1.0 - 0.99) * h).abs() < 1e-15, "{got:?}");
    }
}

#[test]
fn sophia_steps_the_same_on_any_thread_count() {
    let run = |threads: usize| {
        let mut s = ParamStore::new();
        for (i, n) in [1300usize, 2100].into_iter().enumerate() {
            let v: Vec<f64> = (0..n)
                .map(|j| ((i * 31 + j) % 17) as f64 * 0.1 - 0.8)
                .collect();
            s.register(
                format!("p{i}"),
                Tags::WEIGHT,
                DMatrix::from_row_slice(1, n, &v),
            )
            .unwrap();
        }
        let cfg = SophiaConfig {
            update_interval: 2,
            ..SophiaConfig::default()
        };
        let mut opt = cfg.clone().build(&s).unwrap();
        opt.set_parallelism(descent_testkit::exact_parallelism(threads));
        for k in 0..5 {
            let (params, grads) = s.split_mut();
            for ((_, p), (_, g)) in params.values_mut().zip(grads.iter_mut()) {
                g.zip_apply(p, |g, p| *g = (p * 1.7 + k as f64).sin());
            }
            let h = s
                .iter()
                .map(|(_, _, v)| v.iter().map(|x| x.abs() + 0.1).collect())
                .collect();
            cfg.hessian.provide(h);
            opt.step(&mut s).unwrap();
        }
        s.iter()
            .flat_map(|(_, _, v)| v.iter().copied().collect::<Vec<_>>())
            .collect::<Vec<f64>>()
    };
    assert_eq!(run(1), run(3));
}
