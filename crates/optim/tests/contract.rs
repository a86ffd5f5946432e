//! The contract every optimizer keeps, run over one table (optax
//! `_OPTIMIZERS_UNDER_TEST`): it descends a quadratic and Rosenbrock, stays
//! finite on zero gradients, and a save/restore mid-run (through JSON), under
//! a learning-rate schedule, a multiplier and a momentum changed on the
//! running optimizer, gives a bit-identical trajectory; and a step split
//! across threads equals the serial one, bit for bit.

use descent_core::{ParamStore, Tags};
use descent_optim::*;
use nalgebra::DMatrix;

type Build = fn(&ParamStore<f64>, f64) -> Result<Optimizer<f64>>;

/// Every optimizer (and the variants with their own code paths), with a
/// learning rate for the quadratic and one for Rosenbrock.
const OPTIMIZERS_UNDER_TEST: &[(&str, Build, f64, f64)] = &[
    (
        "sgd",
        |s, lr| {
            SgdConfig {
                lr,
                ..SgdConfig::default()
            }
            .build(s)
        },
        0.05,
        1e-4,
    ),
    (
        "sgd_momentum",
        |s, lr| {
            SgdConfig {
                lr,
                momentum: 0.9,
                dampening: 0.1,
                ..SgdConfig::default()
            }
            .build(s)
        },
        0.02,
        1e-4,
    ),
    (
        "sgd_nesterov_l1",
        |s, lr| {
            SgdConfig {
                lr,
                momentum: 0.9,
                nesterov: true,
                weight_decay: WeightDecay::L1(1e-4),
                ..SgdConfig::default()
            }
            .build(s)
        },
        0.02,
        1e-4,
    ),
    (
        "adagrad",
        |s, lr| {
            AdagradConfig {
                lr,
                lr_decay: 1e-3,
                ..AdagradConfig::default()
            }
            .build(s)
        },
        0.5,
        0.05,
    ),
    (
        "rmsprop",
        |s, lr| {
            RmsPropConfig {
                lr,
                ..RmsPropConfig::default()
            }
            .build(s)
        },
        0.01,
        1e-3,
    ),
    (
        "rmsprop_centered_momentum",
        |s, lr| {
            RmsPropConfig {
                lr,
                centered: true,
                momentum: 0.5,
                ..RmsPropConfig::default()
            }
            .build(s)
        },
        0.01,
        1e-3,
    ),
    (
        "adam",
        |s, lr| {
            AdamConfig {
                lr,
                weight_decay: WeightDecay::L2(1e-3),
                ..AdamConfig::default()
            }
            .build(s)
        },
        0.05,
        0.01,
    ),
    (
        "adam_amsgrad",
        |s, lr| {
            AdamConfig {
                lr,
                amsgrad: true,
                ..AdamConfig::default()
            }
            .build(s)
        },
        0.05,
        0.01,
    ),
    (
        "adamw",
        |s, lr| {
            AdamWConfig {
                lr,
                ..AdamWConfig::default()
            }
            .build(s)
        },
        0.05,
        0.01,
    ),
    (
        "adamw_schedule_decay",
        |s, lr| {
            AdamWConfig {
                lr,
                weight_decay: WeightDecay::DecoupledSchedule(1e-4),
                ..AdamWConfig::default()
            }
            .build(s)
        },
        0.05,
        0.01,
    ),
    (
        "nadam",
        |s, lr| {
            NAdamConfig {
                lr,
                ..NAdamConfig::default()
            }
            .build(s)
        },
        0.05,
        0.01,
    ),
    // RAdam's first steps are unrectified momentum, large on Rosenbrock's steep walls.
    (
        "radam",
        |s, lr| {
            RAdamConfig {
                lr,
                weight_decay: WeightDecay::Decoupled(1e-3),
                ..RAdamConfig::default()
            }
            .build(s)
        },
        0.05,
        1e-3,
    ),
    (
        "adamax",
        |s, lr| {
            AdamaxConfig {
                lr,
                ..AdamaxConfig::default()
            }
            .build(s)
        },
        0.05,
        0.01,
    ),
    (
        "adadelta",
        |s, lr| {
            AdadeltaConfig {
                lr,
                ..AdadeltaConfig::default()
            }
            .build(s)
        },
        1.0,
        1.0,
    ),
    (
        "lion",
        |s, lr| {
            LionConfig {
                lr,
                ..LionConfig::default()
            }
            .build(s)
        },
        0.01,
        1e-3,
    ),
    // optax 0.2.8's optimizers.
    (
        "adabelief",
        |s, lr| {
            AdaBeliefConfig {
                lr,

                ..AdaBeliefConfig::default()
            }
            .build(s)
        },
        0.05,
        0.01,
    ),
    (
        "adabelief_nesterov",
        |s, lr| {
            AdaBeliefConfig {
                lr,
                nesterov: true,
                ..AdaBeliefConfig::default()
            }
            .build(s)
        },
        0.05,
        0.01,
    ),
    (
        "yogi",
        |s, lr| {
            YogiConfig {
                lr,

                ..YogiConfig::default()
            }
            .build(s)
        },
        0.05,
        0.01,
    ),
    (
        "optax_adam_nesterov_eps_root",
        |s, lr| {
            OptaxAdamConfig {
                lr,
                nesterov: true,
                eps_root: 1e-8,
                ..OptaxAdamConfig::default()
            }
            .build(s)
        },
        0.05,
        0.01,
    ),
    (
        "lamb",
        |s, lr| {
            LambConfig {
                lr,
                weight_decay: 1e-3,
                ..LambConfig::default()
            }
            .build(s)
        },
        0.05,
        0.01,
    ),
    (
        "lars",
        |s, lr| {
            LarsConfig {
                lr,
                weight_decay: 1e-4,
                ..LarsConfig::default()
            }
            .build(s)
        },
        1.0,
        0.5,
    ),
    (
        "lars_nesterov",
        |s, lr| {
            LarsConfig {
                lr,
                nesterov: true,
                eps: 1e-3,
                ..LarsConfig::default()
            }
            .build(s)
        },
        1.0,
        0.5,
    ),
    (
        "novograd",
        |s, lr| {
            NovoGradConfig {
                lr,
                weight_decay: 1e-3,
                ..NovoGradConfig::default()
            }
            .build(s)
        },
        0.05,
        0.01,
    ),
    (
        "lookahead_adam_reset",
        |s, lr| {
            Lookahead::new(
                s,
                LookaheadConfig {
                    fast: OptaxAdamConfig {
                        lr,
                        ..OptaxAdamConfig::default()
                    },
                    sync_period: 3,
                    slow_step_size: 0.5,
                    reset_state: true,
                },
            )
        },
        0.05,
        0.01,
    ),
    (
        "schedule_free_sgd",
        |s, lr| {
            ScheduleFreeSgdConfig {
                lr,
                weight_decay: Some(1e-4),
                ..ScheduleFreeSgdConfig::default()
            }
            .build(s)
        },
        0.05,
        1e-4,
    ),
    (
        "schedule_free_adamw_warmup",
        |s, lr| {
            ScheduleFreeAdamWConfig {
                lr,
                warmup_steps: Some(10),
                weight_decay: 1e-4,
                ..ScheduleFreeAdamWConfig::default()
            }
            .build(s)
        },
        0.05,
        0.01,
    ),
    (
        "prodigy",
        |s, lr| {
            ProdigyConfig {
                lr,
                estim_lr0: 1e-3,
                weight_decay: 1e-4,
                ..ProdigyConfig::default()
            }
            .build(s)
        },
        1.0,
        1.0,
    ),
    (
        "prodigy_safeguard_beta3",
        |s, lr| {
            ProdigyConfig {
                lr,
                estim_lr0: 1e-3,
                beta3: Some(0.9),
                safeguard_warmup: true,
                ..ProdigyConfig::default()
            }
            .build(s)
        },
        1.0,
        1.0,
    ),
    // The transforms that wrap or precede a whole optimizer's chain.
    (
        "adam_multi_steps_2",
        |s, lr| {
            let adam = AdamConfig {
                lr,
                ..AdamConfig::default()
            };
            Optimizer::new(s, lr, transform::multi_steps(adam.transform(), 2)?)
        },
        0.05,
        0.01,
    ),
    (
        "adamw_apply_if_finite",
        |s, lr| {
            let adamw = AdamWConfig {
                lr,
                ..AdamWConfig::default()
            };
            Optimizer::new(s, lr, transform::apply_if_finite(adamw.transform(), 3))
        },
        0.05,
        0.01,
    ),
    (
        "adam_adaptive_grad_clip",
        |s, lr| {
            let adam = AdamConfig {
                lr,
                ..AdamConfig::default()
            };
            let agc = transform::adaptive_grad_clip(0.05, 1e-3)?;
            Optimizer::new(s, lr, transform::chain((agc, adam.transform())))
        },
        0.05,
        0.01,
    ),
    // PyTorch 2.15's newer optimizers. Rprop reads its rate once, as its
    // first step sizes.
    (
        "rprop",
        |s, lr| {
            RpropConfig {
                lr,
                ..RpropConfig::default()
            }
            .build(s)
        },
        0.01,
        1e-3,
    ),
    (
        "asgd",
        |s, lr| {
            AsgdConfig {
                lr,
                t0: 10.0,
                weight_decay: 1e-4,
                ..AsgdConfig::default()
            }
            .build(s)
        },
        0.05,
        1e-4,
    ),
    (
        "adafactor",
        |s, lr| {
            AdafactorConfig {
                lr,
                weight_decay: 1e-3,
                ..AdafactorConfig::default()
            }
            .build(s)
        },
        0.05,
        0.01,
    ),
    // Muon takes matrices only: the problems' parameter is a 2 × 1 column.
    (
        "muon",
        |s, lr| {
            MuonConfig {
                lr,
                ..MuonConfig::default()
            }
            .build(s)
        },
        0.02,
        0.005,
    ),
];

struct Problem {
    name: &'static str,
    start: [f64; 2],
    loss: fn(&[f64]) -> f64,
    grad: fn(&[f64]) -> [f64; 2],
    n_steps: usize,
}

const QUADRATIC: Problem = Problem {
    name: "quadratic",
    start: [1.5, -2.0],
    loss: |x| 0.5 * (x[0] * x[0] + 10.0 * x[1] * x[1]) + 0.3 * x[0] * x[1],
    grad: |x| [x[0] + 0.3 * x[1], 10.0 * x[1] + 0.3 * x[0]],
    n_steps: 200,
};

const ROSENBROCK: Problem = Problem {
    name: "rosenbrock",
    start: [-1.2, 1.0],
    loss: |x| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2),
    grad: |x| {
        let d = x[1] - x[0] * x[0];
        [-2.0 * (1.0 - x[0]) - 400.0 * x[0] * d, 200.0 * d]
    },
    n_steps: 500,
};

/// A store holding `x` as a column (a matrix, so that Muon takes it too).
fn store_at(x: &[f64]) -> ParamStore<f64> {
    let mut store = ParamStore::new();
    store
        .register("x", Tags::WEIGHT, DMatrix::from_column_slice(x.len(), 1, x))
        .unwrap();
    store
}

fn x_of(store: &ParamStore<f64>) -> Vec<f64> {
    store.value(store.ids().next().unwrap()).as_slice().to_vec()
}

/// Steps `n` times on `problem`, returning the position after each step.
fn run(
    opt: &mut Optimizer<f64>,
    store: &mut ParamStore<f64>,
    problem: &Problem,
    n: usize,
) -> Vec<Vec<f64>> {
    let id = store.ids().next().unwrap();
    (0..n)
        .map(|_| {
            let g = (problem.grad)(&x_of(store));
            store.grad_mut(id).copy_from_slice(&g);
            opt.step(store).unwrap();
            x_of(store)
        })
        .collect()
}

#[test]
fn every_optimizer_descends_a_quadratic_and_rosenbrock() {
    let mut checked = 0;
    for &(name, build, lr_quad, lr_rosen) in OPTIMIZERS_UNDER_TEST {
        for (problem, lr) in [(&QUADRATIC, lr_quad), (&ROSENBROCK, lr_rosen)] {
            let mut store = store_at(&problem.start);
            let mut opt = build(&store, lr).unwrap();
            let path = run(&mut opt, &mut store, problem, problem.n_steps);
            let (start, end) = (
                (problem.loss)(&problem.start),
                (problem.loss)(path.last().unwrap()),
            );
            assert!(
                end.is_finite() && end < 0.5 * start,
                "{name} on {}: loss {start} -> {end}",
                problem.name
            );
            checked += 1;
        }
    }
    println!("{checked} optimizer × problem pairs descend");
}

#[test]
fn every_optimizer_stays_finite_on_zero_gradients() {
    for &(name, build, lr, _) in OPTIMIZERS_UNDER_TEST {
        let mut store = store_at(&[1.0, -0.5]);
        let mut opt = build(&store, lr).unwrap();
        for _ in 0..10 {
            opt.step(&mut store).unwrap();
        }
        let x = x_of(&store);
        assert!(x.iter().all(|v| v.is_finite()), "{name}: {x:?}");
        assert!(
            x[0] <= 1.0 && x[0] > 0.5,
            "{name} moved with no gradient: {x:?}"
        );
    }
}

#[test]
fn every_optimizer_steps_bit_identically_on_any_number_of_threads() {
    // Three tensors cut into blocks and spread over threads (shapes with
    // two or more rows, so matrix-wise optimizers see matrices).
    let shapes = [(3, 700), (2, 1), (40, 25)];
    let run = |build: Build, threads: usize| {
        let mut store = ParamStore::new();
        for (i, &(r, c)) in shapes.iter().enumerate() {
            let v = DMatrix::from_fn(r, c, |a, b| {
                ((i * 131 + a * 17 + b * 7) % 23) as f64 * 0.1 - 1.1
            });
            store.register(format!("p{i}"), Tags::WEIGHT, v).unwrap();
        }
        let mut opt = build(&store, 0.01).unwrap();
        opt.set_parallelism(descent_testkit::exact_parallelism(threads));
        let ids: Vec<_> = store.ids().collect();
        for k in 0..4 {
            for &id in &ids {
                let p = store.value(id).clone();
                store
                    .grad_mut(id)
                    .copy_from(&p.map(|x| (1.7 * x + k as f64).sin()));
            }
            opt.step(&mut store).unwrap();
        }
        ids.iter()
            .map(|&id| store.value(id).clone())
            .collect::<Vec<_>>()
    };
    for &(name, build, _, _) in OPTIMIZERS_UNDER_TEST {
        let serial = run(build, 1);
        for threads in [2, 3] {
            assert_eq!(run(build, threads), serial, "{name} on {threads} threads");
        }
    }
}

#[test]
fn every_optimizer_resumes_a_saved_run_on_the_identical_trajectory() {
    // An absolute-rate schedule, and a multiplier on top (η_t, which the
    // schedule-scaled decay follows).
    let multiplier = |step: u64| 1.0 / (1.0 + 0.01 * step as f64);
    for &(name, build, _, lr) in OPTIMIZERS_UNDER_TEST {
        let schedule = move |step: u64| lr * 0.9f64.powi((step / 4) as i32);
        let mut store = store_at(&ROSENBROCK.start);
        let mut opt = build(&store, lr).unwrap();
        opt.set_lr_schedule(schedule);
        opt.set_lr_multiplier(multiplier);
        let x7 = run(&mut opt, &mut store, &ROSENBROCK, 7).pop().unwrap();
        // A momentum (or β₁) changed on the running optimizer is state too.
        let momentum = opt.momentum().map(|m| m * 0.9);
        if let Some(m) = momentum {
            opt.set_momentum(m).unwrap();
        }
        let saved = serde_json::to_string(&opt.state()).unwrap();
        let uninterrupted = run(&mut opt, &mut store, &ROSENBROCK, 9);

        // A fresh process: new store at the checkpointed values, new optimizer
        // (built with another rate, which the schedule replaces).
        let mut resumed_store = store_at(&x7);
        let mut resumed = build(&resumed_store, 123.0).unwrap();
        resumed.set_lr_schedule(schedule);
        resumed.set_lr_multiplier(multiplier);
        resumed
            .load_state(&serde_json::from_str(&saved).unwrap())
            .unwrap();
        assert_eq!((resumed.lr(), resumed.steps()), (schedule(7), 7), "{name}");
        assert_eq!(resumed.momentum(), momentum, "{name}");
        let continued = run(&mut resumed, &mut resumed_store, &ROSENBROCK, 9);
        assert_eq!(continued, uninterrupted, "{name}");
    }
}

/// The exact Hessian diagonal of each problem, fed to Sophia.
fn hessian_diag(problem: &Problem, x: &[f64]) -> Vec<f64> {
    if problem.name == "quadratic" {
        vec![1.0, 10.0]
    } else {
        vec![2.0 - 400.0 * (x[1] - 3.0 * x[0] * x[0]), 200.0]
    }
}

/// Sophia needs its Hessian estimates from the loop, so it keeps the same
/// contract in a loop of its own: it descends both problems, stays put on
/// zero gradients, and resumes a saved run on the identical trajectory.
#[test]
fn sophia_keeps_the_contract_when_fed_its_hessian() {
    let fed_run = |cfg: &SophiaConfig,
                   opt: &mut Optimizer<f64>,
                   store: &mut ParamStore<f64>,
                   problem: &Problem,
                   n: usize| {
        let id = store.ids().next().unwrap();
        (0..n)
            .map(|_| {
                let x = x_of(store);
                store.grad_mut(id).copy_from_slice(&(problem.grad)(&x));
                if cfg.wants_hessian(opt.steps()) {
                    cfg.hessian.provide(vec![hessian_diag(problem, &x)]);
                }
                opt.step(store).unwrap();
                x_of(store)
            })
            .collect::<Vec<_>>()
    };
    for (problem, lr) in [(&QUADRATIC, 0.05), (&ROSENBROCK, 0.01)] {
        let cfg = SophiaConfig {
            lr,
            update_interval: 2,
            ..SophiaConfig::default()
        };
        let mut store = store_at(&problem.start);
        let mut opt = cfg.clone().build(&store).unwrap();
        let path = fed_run(&cfg, &mut opt, &mut store, problem, problem.n_steps);
        let (start, end) = (
            (problem.loss)(&problem.start),
            (problem.loss)(path.last().unwrap()),
        );
        assert!(
            end < 0.5 * start,
            "sophia on {}: {start} -> {end}",
            problem.name
        );
        let misses = &opt.state().groups[0].state["stages"][0]["hessian_misses"];
        assert_eq!(misses.as_u64(), Some(0));

        // Resume mid-run: the feed is the loop's, the state the optimizer's.
        let mut store = store_at(&problem.start);
        let mut opt = cfg.clone().build(&store).unwrap();
        let x7 = fed_run(&cfg, &mut opt, &mut store, problem, 7)
            .pop()
            .unwrap();
        let saved = serde_json::to_string(&opt.state()).unwrap();
        let uninterrupted = fed_run(&cfg, &mut opt, &mut store, problem, 9);
        let mut resumed_store = store_at(&x7);
        let mut resumed = cfg.clone().build(&resumed_store).unwrap();
        resumed
            .load_state(&serde_json::from_str(&saved).unwrap())
            .unwrap();
        let continued = fed_run(&cfg, &mut resumed, &mut resumed_store, problem, 9);
        assert_eq!(continued, uninterrupted, "{}", problem.name);
    }
    // Zero gradients (and a zero Hessian): no movement beyond the decay.
    let cfg = SophiaConfig::default();
    let mut store = store_at(&[1.0, -0.5]);
    let mut opt = cfg.clone().build(&store).unwrap();
    for _ in 0..10 {
        cfg.hessian.provide(vec![vec![0.0, 0.0]]);
        opt.step(&mut store).unwrap();
    }
    let x = x_of(&store);
    assert!(x[0] <= 1.0 && x[0] > 0.5, "{x:?}");
}

/// L-BFGS is closure-based, so it has its own rows: both line searches
/// descend both problems, stay put on zero gradients, and resume a saved
/// run on the identical trajectory. (It runs on the calling thread: its
/// flat-vector algebra is serial, so thread counts cannot change it.)
#[test]
fn lbfgs_keeps_the_contract_with_and_without_line_search() {
    let configs = [
        LbfgsConfig {
            lr: 0.1,
            ..LbfgsConfig::default()
        },
        LbfgsConfig {
            line_search: LineSearch::StrongWolfe,
            ..LbfgsConfig::default()
        },
    ];
    let step = |opt: &mut Lbfgs, store: &mut ParamStore<f64>, problem: &Problem| {
        let id = store.ids().next().unwrap();
        opt.step(store, |s| {
            let x = s.value(id).as_slice().to_vec();
            s.grad_mut(id).copy_from_slice(&(problem.grad)(&x));
            (problem.loss)(&x)
        })
        .unwrap()
    };
    for cfg in configs {
        let name = format!("{:?}", cfg.line_search);
        for problem in [&QUADRATIC, &ROSENBROCK] {
            let mut store = store_at(&problem.start);
            let mut opt = Lbfgs::new(&store, cfg).unwrap();
            for _ in 0..10 {
                step(&mut opt, &mut store, problem);
            }
            let (start, end) = (
                (problem.loss)(&problem.start),
                (problem.loss)(&x_of(&store)),
            );
            assert!(
                end.is_finite() && end < 0.5 * start,
                "lbfgs {name} on {}: loss {start} -> {end}",
                problem.name
            );
        }
        // Zero gradients meet `tolerance_grad` at once: no iteration, no move.
        let mut store = store_at(&[1.0, -0.5]);
        let mut opt = Lbfgs::new(&store, cfg).unwrap();
        let id = store.ids().next().unwrap();
        let report = opt.step(&mut store, |_| 1.0).unwrap();
        assert_eq!(
            (report.n_iters, x_of(&store)),
            (0, vec![1.0, -0.5]),
            "{name}"
        );
        assert_eq!(store.grad(id).as_slice(), &[0.0, 0.0]);
        // Save after two steps, continue; a fresh optimizer resumes identically.
        let mut store = store_at(&ROSENBROCK.start);
        let mut opt = Lbfgs::new(&store, LbfgsConfig { max_iter: 3, ..cfg }).unwrap();
        for _ in 0..2 {
            step(&mut opt, &mut store, &ROSENBROCK);
        }
        let saved = serde_json::to_string(&opt.state()).unwrap();
        let x2 = x_of(&store);
        let uninterrupted: Vec<_> = (0..4)
            .map(|_| (step(&mut opt, &mut store, &ROSENBROCK), x_of(&store)))
            .collect();
        let mut resumed_store = store_at(&x2);
        let mut resumed = Lbfgs::new(&resumed_store, LbfgsConfig { max_iter: 3, ..cfg }).unwrap();
        resumed
            .load_state(&serde_json::from_str(&saved).unwrap())
            .unwrap();
        let continued: Vec<_> = (0..4)
            .map(|_| {
                (
                    step(&mut resumed, &mut resumed_store, &ROSENBROCK),
                    x_of(&resumed_store),
                )
            })
            .collect();
        assert_eq!(continued, uninterrupted, "{name}");
    }
}
