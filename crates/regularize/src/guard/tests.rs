//! The guard on a linear regression streamed batch by batch, with corrupt batches.

use super::*;
use crate::ArgError;
use descent_core::{ParamId, Tags};
use descent_optim::SgdConfig;
use descent_schedule::{Change, ChangePoint};
use nalgebra::DMatrix;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const W_TRUE: [f64; 3] = [1.0, -2.0, 0.5];

/// How a batch is corrupted.
#[derive(Clone, Copy, PartialEq)]
enum Poison {
    Clean,
    HugeTargets,
    NanFeatures,
}

/// Batch `pos` of the stream: 8 samples, features and noise drawn from a seed of `pos`.
fn batch(pos: u64, poison: Poison) -> (DMatrix<f64>, DMatrix<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(pos);
    let mut x = DMatrix::from_fn(8, 3, |_, _| rng.random_range(-1.0..1.0));
    let w = DMatrix::from_row_slice(3, 1, &W_TRUE);
    let mut y = &x * w + DMatrix::from_fn(8, 1, |_, _| 0.1 * rng.random_range(-1.0..1.0));
    match poison {
        Poison::Clean => {}
        Poison::HugeTargets => y *= 1e3,
        Poison::NanFeatures => x[(3, 1)] = f64::NAN,
    }
    (x, y)
}

/// Half the mean squared error at the current weights; writes its gradient.
fn loss_and_grad(store: &mut ParamStore<f64>, w: ParamId, pos: u64, poison: Poison) -> f64 {
    let (x, y) = batch(pos, poison);
    let r = &x * store.value(w).transpose() - y;
    store.zero_grad();
    *store.grad_mut(w) = (r.transpose() * &x) / 8.0;
    0.5 * r.norm_squared() / 8.0
}

struct Run {
    store: ParamStore<f64>,
    w: ParamId,
    opt: Optimizer<f64>,
    /// An exponential moving average of the loss: stands in for batch-norm buffers.
    ema: f64,
}

fn fresh() -> Run {
    let mut store = ParamStore::new();
    let w = store
        .register("fc.weight", Tags::WEIGHT, DMatrix::zeros(1, 3))
        .unwrap();
    let cfg = SgdConfig {
        lr: 0.2,
        momentum: 0.9,
        ..Default::default()
    };
    let opt = cfg.build(&store).unwrap();
    Run {
        store,
        w,
        opt,
        ema: 0.0,
    }
}

fn config() -> GuardConfig {
    GuardConfig {
        window: 20,
        min_history: 5,
        snapshot_every: 10,
        ..Default::default()
    }
}

fn poison_at(bad: &[(u64, Poison)], pos: u64) -> Poison {
    bad.iter()
        .find(|(p, _)| *p == pos)
        .map_or(Poison::Clean, |(_, k)| *k)
}

#[test]
fn guard_restores_the_exact_pre_spike_state_and_a_replay_reproduces_the_run() {
    let bad = [(33, Poison::HugeTargets), (47, Poison::NanFeatures)];
    let mut run = fresh();
    let mut guard = InstabilityGuard::<f64, f64>::new(config(), &mut run.opt).unwrap();
    let mut seen: Vec<Option<(DMatrix<f64>, OptimizerState, f64)>> = vec![None; 61];
    let mut pos = 0;
    while pos < 60 {
        if guard.should_skip(pos) {
            pos += 1;
            continue;
        }
        let state = (run.store.value(run.w).clone(), run.opt.state(), run.ema);
        seen[pos as usize].get_or_insert(state);
        let loss = loss_and_grad(&mut run.store, run.w, pos, poison_at(&bad, pos));
        match guard
            .observe(loss, pos, &mut run.store, &mut run.opt, &mut run.ema)
            .unwrap()
        {
            GuardAction::Proceed => {
                run.ema = 0.9 * run.ema + 0.1 * loss;
                run.opt.step(&mut run.store).unwrap();
                pos += 1;
            }
            GuardAction::RolledBack(event) => {
                let (values, opt_state, ema) = seen[event.resume_at as usize].as_ref().unwrap();
                assert_eq!(
                    run.store.value(run.w),
                    values,
                    "parameters restored exactly"
                );
                assert_eq!(
                    &run.opt.state(),
                    opt_state,
                    "optimizer state restored exactly"
                );
                assert_eq!(run.ema.to_bits(), ema.to_bits(), "buffers restored exactly");
                assert!(
                    run.store
                        .grads()
                        .iter()
                        .all(|(_, g)| g.iter().all(|x| *x == 0.0))
                );
                pos = event.resume_at;
            }
        }
    }
    let events = guard.events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(
        (
            events[0].batch,
            events[0].resume_at,
            events[0].restored_step
        ),
        (33, 30, 30)
    );
    assert!(matches!(events[0].kind, Instability::Spike { .. }));
    assert_eq!(
        (
            events[1].batch,
            events[1].resume_at,
            events[1].restored_step
        ),
        (47, 41, 40)
    );
    assert_eq!(events[1].kind, Instability::NonFiniteLoss);
    assert_eq!(
        guard.schedule().changes(),
        [
            ChangePoint {
                step: 30,
                change: Change::Multiplier(0.5)
            },
            ChangePoint {
                step: 40,
                change: Change::Multiplier(0.25)
            },
        ]
    );
    assert_eq!(run.opt.effective_lr(0).unwrap(), 0.2 * 0.25);
    assert_eq!(
        guard.skipped().iter().copied().collect::<Vec<_>>(),
        [33, 47]
    );

    // Replay: no guard, the recorded schedule, the recorded skips.
    let mut replay = fresh();
    replay.opt.set_lr_multiplier(guard.schedule().clone());
    for pos in (0..60).filter(|p| !guard.skipped().contains(p)) {
        let loss = loss_and_grad(&mut replay.store, replay.w, pos, poison_at(&bad, pos));
        replay.ema = 0.9 * replay.ema + 0.1 * loss;
        replay.opt.step(&mut replay.store).unwrap();
    }
    assert_eq!(
        replay.store.value(replay.w),
        run.store.value(run.w),
        "bit-identical replay"
    );
    assert_eq!(replay.opt.state(), run.opt.state());
    assert_eq!(replay.ema.to_bits(), run.ema.to_bits());
    let fitted = run.store.value(run.w);
    for (got, want) in fitted.iter().zip(W_TRUE) {
        assert!(
            (got - want).abs() < 0.1,
            "the guarded run still learns: {fitted}"
        );
    }
}

#[test]
fn clean_training_never_rolls_back() {
    for statistic in [WindowStatistic::MedianMad, WindowStatistic::MeanStd] {
        let mut run = fresh();
        let cfg = GuardConfig {
            statistic,
            ..config()
        };
        let mut guard = InstabilityGuard::<f64, f64>::new(cfg, &mut run.opt).unwrap();
        for pos in 0..200 {
            let loss = loss_and_grad(&mut run.store, run.w, pos, Poison::Clean);
            let action = guard.observe(loss, pos, &mut run.store, &mut run.opt, &mut run.ema);
            assert_eq!(
                action.unwrap(),
                GuardAction::Proceed,
                "false alarm at {pos}"
            );
            run.opt.step(&mut run.store).unwrap();
        }
        assert!(guard.schedule().changes().is_empty());
    }
}

#[test]
fn non_finite_gradients_are_caught_and_errors_are_typed() {
    let mut run = fresh();
    let mut guard = InstabilityGuard::<f64, f64>::new(config(), &mut run.opt).unwrap();
    // A bad first loss: nothing to roll back to.
    let err = guard
        .observe(f64::NAN, 0, &mut run.store, &mut run.opt, &mut run.ema)
        .unwrap_err();
    assert!(matches!(err, Error::NoSnapshot { step: 0, .. }));

    let loss = loss_and_grad(&mut run.store, run.w, 0, Poison::Clean);
    assert_eq!(
        guard
            .observe(loss, 0, &mut run.store, &mut run.opt, &mut run.ema)
            .unwrap(),
        GuardAction::Proceed
    );
    run.opt.step(&mut run.store).unwrap();
    run.store.grad_mut(run.w)[0] = f64::INFINITY;
    match guard
        .observe(0.1, 1, &mut run.store, &mut run.opt, &mut run.ema)
        .unwrap()
    {
        GuardAction::RolledBack(e) => {
            assert_eq!((e.kind, e.resume_at), (Instability::NonFiniteGrad, 0))
        }
        other => panic!("expected a rollback, got {other:?}"),
    }

    // Without skipping, the same corrupt batch comes back until the guard gives up.
    let cfg = GuardConfig {
        skip_batches: false,
        max_rollbacks_per_snapshot: 3,
        ..config()
    };
    let mut run = fresh();
    let mut guard = InstabilityGuard::<f64, f64>::new(cfg, &mut run.opt).unwrap();
    let mut pos = 0;
    let err = loop {
        let loss = loss_and_grad(
            &mut run.store,
            run.w,
            pos,
            poison_at(&[(12, Poison::HugeTargets)], pos),
        );
        match guard.observe(loss, pos, &mut run.store, &mut run.opt, &mut run.ema) {
            Ok(GuardAction::Proceed) => {
                run.opt.step(&mut run.store).unwrap();
                pos += 1;
            }
            Ok(GuardAction::RolledBack(e)) => pos = e.resume_at,
            Err(e) => break e,
        }
    };
    assert_eq!(
        err,
        Error::TooManyRollbacks {
            step: 10,
            rollbacks: 3
        }
    );
    assert_eq!(guard.schedule().in_force(10), Change::Multiplier(0.125));
}

#[test]
fn invalid_configs_are_rejected() {
    let mut run = fresh();
    for bad in [
        GuardConfig {
            window: 0,
            ..config()
        },
        GuardConfig {
            min_history: 30,
            ..config()
        },
        GuardConfig {
            threshold: 0.0,
            ..config()
        },
        GuardConfig {
            lr_factor: 1.0,
            ..config()
        },
        GuardConfig {
            snapshot_every: 0,
            ..config()
        },
    ] {
        let err = InstabilityGuard::<f64>::new(bad, &mut run.opt).unwrap_err();
        assert!(matches!(err, Error::Arg(ArgError { .. })), "{err}");
    }
}

#[test]
fn the_guard_lowers_the_users_schedule_which_keeps_running() {
    let schedule = || descent_schedule::StepLr::new(0.2, 20, 0.5).unwrap();
    let bad = [(33, Poison::HugeTargets)];
    let mut run = fresh();
    run.opt.set_lr_schedule(schedule());
    let mut guard = InstabilityGuard::<f64, f64>::new(config(), &mut run.opt).unwrap();
    let mut used = vec![0.0; 60];
    let mut pos = 0;
    while pos < 60 {
        if guard.should_skip(pos) {
            pos += 1;
            continue;
        }
        let loss = loss_and_grad(&mut run.store, run.w, pos, poison_at(&bad, pos));
        match guard
            .observe(loss, pos, &mut run.store, &mut run.opt, &mut run.ema)
            .unwrap()
        {
            GuardAction::Proceed => {
                used[run.opt.steps() as usize] = run.opt.effective_lr(0).unwrap();
                run.opt.step(&mut run.store).unwrap();
                pos += 1;
            }
            GuardAction::RolledBack(event) => pos = event.resume_at,
        }
    }
    assert_eq!(guard.events().len(), 1);
    assert_eq!(guard.events()[0].restored_step, 30);
    // 59 steps (batch 33 skipped): the schedule's rates, halved from step 30 on.
    let steps = run.opt.steps() as usize;
    assert_eq!(steps, 59);
    for (step, &lr) in used[..steps].iter().enumerate() {
        let halved = if step >= 30 { 0.5 } else { 1.0 };
        assert_eq!(lr, schedule().lr(step as u64) * halved, "step {step}");
    }
    assert_eq!(used[39], 0.1 * 0.5);
    assert_eq!(
        used[40],
        0.05 * 0.5,
        "the schedule's drop at 40 still happens"
    );

    // Replay: the user's schedule, the guard's multiplier, the skips.
    let mut replay = fresh();
    replay.opt.set_lr_schedule(schedule());
    replay.opt.set_lr_multiplier(guard.schedule().clone());
    for pos in (0..60).filter(|p| !guard.skipped().contains(p)) {
        let loss = loss_and_grad(&mut replay.store, replay.w, pos, poison_at(&bad, pos));
        replay.ema = 0.9 * replay.ema + 0.1 * loss;
        replay.opt.step(&mut replay.store).unwrap();
    }
    assert_eq!(replay.store.value(replay.w), run.store.value(run.w));
    assert_eq!(replay.opt.state(), run.opt.state());
}

#[test]
fn a_guard_refuses_to_replace_a_multiplier_already_installed() {
    let mut run = fresh();
    run.opt.set_lr_multiplier(0.5);
    let err = InstabilityGuard::<f64, f64>::new(config(), &mut run.opt).unwrap_err();
    assert_eq!(err, Error::LrMultiplierInUse);
    assert_eq!(run.opt.lr_multiplier(), 0.5, "left alone");
    // Given as the guard's base instead, it composes.
    run.opt.clear_lr_multiplier();
    let guard = InstabilityGuard::<f64, f64, f64>::with_schedule(
        config(),
        ManualSchedule::new(0.5),
        &mut run.opt,
    )
    .unwrap();
    assert_eq!(run.opt.effective_lr(0).unwrap(), 0.2 * 0.5);
    assert!(guard.schedule().changes().is_empty());
}
