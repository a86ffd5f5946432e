//! The optimizer's groups, rates, schedules and saved state.

use super::*;
use crate::ArgError;
use crate::testing::store_of;
use crate::transform::{add_decayed_weights, chain, masked, scale_by_learning_rate, trace};
use crate::{AdamConfig, AdamW, AdamWConfig, MomentumKind, Sgd, SgdConfig, WeightDecay};
use descent_core::{GradientTransform, Tags};
use descent_schedule::{ReduceLrOnPlateau, ReduceLrOnPlateauConfig, StepLr};

#[test]
fn groups_select_by_tag_and_keep_their_own_decay_and_rate() {
    // p0 is a weight, p1 a bias (see `store_of`); zero gradients.
    let mut store = store_of(&[vec![1.0; 3], vec![1.0; 2]]);
    let decay = AdamWConfig {
        lr: 0.1,
        weight_decay: WeightDecay::Decoupled(0.5),
        ..AdamWConfig::default()
    };
    let groups = [
        (
            Selector::tags(Tags::BIAS | Tags::NORM),
            AdamWConfig {
                weight_decay: WeightDecay::None,
                ..decay
            },
        ),
        (Selector::All, decay),
    ];
    let mut opt = AdamW::with_groups(&store, &groups).unwrap();
    opt.step(&mut store).unwrap();
    assert_eq!(store.value(store.id("p1").unwrap())[0], 1.0);
    assert!((store.value(store.id("p0").unwrap())[0] - 0.95).abs() < 1e-15);
    opt.set_group_lr(1, 0.2).unwrap();
    opt.step(&mut store).unwrap();
    assert!((store.value(store.id("p0").unwrap())[0] - 0.95 * 0.9).abs() < 1e-15);
    assert_eq!(opt.group_lr(0).unwrap(), 0.1);
    assert_eq!(
        opt.group_lr(2),
        Err(Error::NoSuchGroup { index: 2, len: 2 })
    );
}

#[test]
fn masked_matches_a_group_and_names_select_by_pattern() {
    let values = [vec![1.0, 2.0], vec![3.0]];
    let grads = [0.5, -1.0, 2.0];
    let run = |mut opt: Optimizer<f64>| {
        let mut store = store_of(&values);
        let (params, g) = store.split_mut();
        let mut flat = grads.iter();
        for (_, m) in params.values_mut().zip(g.iter_mut()).map(|(_, g)| g) {
            m.iter_mut().for_each(|x| *x = *flat.next().unwrap());
        }
        opt.step(&mut store).unwrap();
        opt.step(&mut store).unwrap();
        store
            .iter()
            .flat_map(|(_, _, v)| v.iter().copied().collect::<Vec<_>>())
            .collect::<Vec<_>>()
    };
    let store = store_of(&values);
    let no_bias_decay = chain((
        masked(add_decayed_weights(0.1), Selector::name("*0")),
        trace(0.9, 0.0, false),
        scale_by_learning_rate(),
    ));
    let a = run(Optimizer::new(&store, 0.1, no_bias_decay).unwrap());
    let sgd = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..SgdConfig::default()
    };
    let b = run(Sgd::with_groups(
        &store,
        &[
            (
                Selector::name("p0"),
                SgdConfig {
                    weight_decay: WeightDecay::L2(0.1),
                    ..sgd
                },
            ),
            (Selector::All, sgd),
        ],
    )
    .unwrap());
    assert_eq!(a, b);
}

/// A one-parameter store at 0 with gradient 1: each step moves it by −lr.
fn unit_problem() -> (ParamStore<f64>, descent_core::ParamId) {
    let mut store = store_of(&[vec![0.0]]);
    let id = store.ids().next().unwrap();
    store.grad_mut(id).fill(1.0);
    (store, id)
}

fn sgd(store: &ParamStore<f64>, lr: f64) -> Optimizer<f64> {
    SgdConfig {
        lr,
        ..SgdConfig::default()
    }
    .build(store)
    .unwrap()
}

/// The rates the next `n` steps use, read from how far each step moves.
fn rates(opt: &mut Optimizer<f64>, store: &mut ParamStore<f64>, n: usize) -> Vec<f64> {
    let id = store.ids().next().unwrap();
    (0..n)
        .map(|_| {
            let before = store.value(id)[0];
            let predicted = opt.effective_lr(0).unwrap();
            opt.step(store).unwrap();
            let moved = before - store.value(id)[0];
            assert!((moved - predicted).abs() < 1e-15, "{moved} vs {predicted}");
            predicted
        })
        .collect()
}

#[test]
fn a_value_rate_is_settable_between_steps() {
    let (mut store, id) = unit_problem();
    let mut opt = sgd(&store, 0.1);
    assert_eq!(rates(&mut opt, &mut store, 2), [0.1, 0.1]);
    opt.set_lr(0.5).unwrap();
    assert_eq!(rates(&mut opt, &mut store, 1), [0.5]);
    assert!((store.value(id)[0] + 0.7).abs() < 1e-15);
    assert_eq!(opt.steps(), 3);
    assert!(matches!(
        opt.set_lr(-1.0),
        Err(Error::Arg(ArgError { name: "lr", .. }))
    ));
    assert!(matches!(
        opt.set_group_lr_source(0, LrSource::Value(f64::NAN)),
        Err(Error::Arg(ArgError { name: "lr", .. }))
    ));
}

#[test]
fn sgd_given_step_lr_trains_at_the_schedules_absolute_rate() {
    let (mut store, _) = unit_problem();
    let mut opt = sgd(&store, 0.1);
    opt.set_lr_schedule(StepLr::new(0.1, 2, 0.5).unwrap());
    assert_eq!(opt.lr(), 0.1, "not 0.1 · 0.1");
    assert_eq!(opt.effective_lr(0).unwrap(), 0.1);
    assert_eq!(
        rates(&mut opt, &mut store, 5),
        [0.1, 0.1, 0.05, 0.05, 0.025]
    );
    // The optimizer's own lr does not enter: the schedule is the rate.
    let (mut store, _) = unit_problem();
    let mut opt = sgd(&store, 7.0);
    opt.set_lr_schedule(StepLr::new(0.1, 2, 0.5).unwrap());
    assert_eq!(rates(&mut opt, &mut store, 3), [0.1, 0.1, 0.05]);
    // A closure is a schedule too; a value replaces it again.
    opt.set_lr_schedule(|step: u64| 1.0 / (step + 1) as f64);
    assert_eq!(rates(&mut opt, &mut store, 1), [0.25]);
    opt.set_lr(0.3).unwrap();
    assert_eq!(rates(&mut opt, &mut store, 1), [0.3]);
}

#[test]
fn a_multiplier_scales_the_schedule_and_reaches_the_step_context() {
    let (mut store, _) = unit_problem();
    let mut opt = sgd(&store, 0.1);
    opt.set_lr_schedule(StepLr::new(0.2, 2, 0.5).unwrap());
    opt.set_lr_multiplier(|step: u64| if step >= 1 { 0.5 } else { 1.0 });
    assert!(opt.has_lr_multiplier());
    assert_eq!(opt.lr_multiplier(), 1.0);
    assert_eq!(rates(&mut opt, &mut store, 3), [0.2, 0.1, 0.05]);
    assert_eq!((opt.lr(), opt.lr_multiplier()), (0.1, 0.5));
    opt.clear_lr_multiplier();
    assert_eq!(rates(&mut opt, &mut store, 1), [0.1]);

    // Loshchilov & Hutter's decay follows the multiplier η_t, not the rate.
    let mut store = store_of(&[vec![2.0]]);
    let mut opt = SgdConfig {
        lr: 0.0,
        weight_decay: WeightDecay::DecoupledSchedule(0.1),
        ..SgdConfig::default()
    }
    .build(&store)
    .unwrap();
    opt.set_lr_multiplier(0.5);
    opt.step(&mut store).unwrap();
    let id = store.ids().next().unwrap();
    assert!((store.value(id)[0] - 2.0 * (1.0 - 0.05)).abs() < 1e-15);
}

#[test]
fn a_plateau_rate_falls_when_the_observed_metric_stalls() {
    let (mut store, _) = unit_problem();
    let mut opt = sgd(&store, 0.1);
    assert_eq!(opt.observe_metric(1.0), Err(Error::NoPlateau));
    let config = ReduceLrOnPlateauConfig {
        factor: 0.5,
        patience: 1,
        ..Default::default()
    };
    opt.set_lr_plateau(ReduceLrOnPlateau::new(0.2, config).unwrap());
    let mut used = Vec::new();
    for metric in [1.0, 0.9, 0.95, 0.95, 0.8, 0.85, 0.9] {
        used.extend(rates(&mut opt, &mut store, 1));
        opt.observe_metric(metric).unwrap();
    }
    assert_eq!(used, [0.2, 0.2, 0.2, 0.2, 0.1, 0.1, 0.1]);
    assert_eq!(opt.lr(), 0.05);
}

#[test]
fn groups_take_their_own_sources() {
    let mut store = store_of(&[vec![0.0], vec![0.0], vec![0.0]]);
    let ids: Vec<_> = store.ids().collect();
    ids.iter().for_each(|&id| store.grad_mut(id).fill(1.0));
    let cfg = SgdConfig {
        lr: 0.3,
        ..SgdConfig::default()
    };
    let mut opt = Sgd::with_groups(
        &store,
        &[
            (Selector::name("p0"), cfg),
            (Selector::name("p1"), cfg),
            (Selector::All, cfg),
        ],
    )
    .unwrap();
    opt.set_group_lr_schedule(0, StepLr::new(0.1, 1, 0.5).unwrap())
        .unwrap();
    let plateau = ReduceLrOnPlateauConfig {
        factor: 0.5,
        patience: 0,
        ..Default::default()
    };
    opt.set_group_lr_plateau(1, ReduceLrOnPlateau::new(0.4, plateau).unwrap())
        .unwrap();
    assert_eq!(
        opt.set_group_lr_schedule(3, 0.1),
        Err(Error::NoSuchGroup { index: 3, len: 3 })
    );
    opt.step(&mut store).unwrap();
    opt.observe_metric(1.0).unwrap(); // first metric: an improvement
    opt.step(&mut store).unwrap();
    opt.observe_metric(2.0).unwrap(); // worse, patience 0: halve group 1
    opt.step(&mut store).unwrap();
    let moved: Vec<f64> = ids.iter().map(|&id| -store.value(id)[0]).collect();
    let want = [0.1 + 0.05 + 0.025, 0.4 + 0.4 + 0.2, 0.9];
    for (m, w) in moved.iter().zip(want) {
        assert!((m - w).abs() < 1e-15, "{moved:?} vs {want:?}");
    }
    assert!(matches!(opt.lr_source(1).unwrap(), LrSource::Plateau(_)));
    assert_eq!(opt.group_lr(1).unwrap(), 0.2);
}

#[test]
fn a_run_saved_mid_way_under_schedules_replays_identically() {
    let values = [vec![1.0, -2.0], vec![0.5]];
    let build = |store: &ParamStore<f64>| {
        let cfg = SgdConfig {
            lr: 0.05,
            momentum: 0.9,
            ..SgdConfig::default()
        };
        let mut opt =
            Sgd::with_groups(store, &[(Selector::name("p0"), cfg), (Selector::All, cfg)]).unwrap();
        opt.set_group_lr_schedule(0, StepLr::new(0.1, 3, 0.5).unwrap())
            .unwrap();
        opt.set_lr_multiplier(|step: u64| 1.0 / (1.0 + 0.1 * step as f64));
        opt
    };
    let plateau = ReduceLrOnPlateau::new(
        0.2,
        ReduceLrOnPlateauConfig {
            factor: 0.5,
            patience: 1,
            ..Default::default()
        },
    )
    .unwrap();
    // Steps with a gradient of the values (a quadratic), a metric after each.
    let go = |opt: &mut Optimizer<f64>, store: &mut ParamStore<f64>, n: usize| {
        (0..n)
            .map(|_| {
                let ids: Vec<_> = store.ids().collect();
                for id in ids {
                    let v = store.value(id).clone();
                    store.grad_mut(id).copy_from(&v);
                }
                opt.step(store).unwrap();
                let metric: f64 = store.iter().map(|(_, _, v)| v.norm_squared()).sum();
                opt.observe_metric(metric.max(0.3)).unwrap();
                (opt.effective_lr(0).unwrap(), opt.effective_lr(1).unwrap())
            })
            .collect::<Vec<_>>()
    };
    let mut store = store_of(&values);
    let mut opt = build(&store);
    opt.set_group_lr_plateau(1, plateau.clone()).unwrap();
    go(&mut opt, &mut store, 5);
    let saved = serde_json::to_string(&opt.state()).unwrap();
    let at_save = store.clone();
    let rest = go(&mut opt, &mut store, 8);

    // A fresh optimizer without the schedule refuses the state and is unchanged.
    let mut bare = sgd(&at_save, 0.05);
    let mut two_groups = Sgd::with_groups(
        &at_save,
        &[
            (
                Selector::name("p0"),
                SgdConfig {
                    lr: 0.05,
                    momentum: 0.9,
                    ..SgdConfig::default()
                },
            ),
            (
                Selector::All,
                SgdConfig {
                    lr: 0.05,
                    momentum: 0.9,
                    ..SgdConfig::default()
                },
            ),
        ],
    )
    .unwrap();
    let parsed: OptimizerState = serde_json::from_str(&saved).unwrap();
    assert!(matches!(
        bare.load_state(&parsed),
        Err(Error::StateMismatch { .. })
    ));
    let before = two_groups.state();
    assert!(matches!(
        two_groups.load_state(&parsed),
        Err(Error::StateMismatch { .. })
    ));
    assert_eq!(two_groups.state(), before);

    // With the schedule and multiplier installed again it resumes exactly;
    // the plateau (value, counters) comes back from the state.
    let mut resumed_store = at_save.clone();
    let mut resumed = build(&resumed_store);
    resumed.load_state(&parsed).unwrap();
    assert!(matches!(
        resumed.lr_source(1).unwrap(),
        LrSource::Plateau(_)
    ));
    assert_eq!(resumed.state(), parsed);
    let resumed_rest = go(&mut resumed, &mut resumed_store, 8);
    assert_eq!(resumed_rest, rest);
    for ((_, _, a), (_, _, b)) in resumed_store.iter().zip(store.iter()) {
        assert_eq!(a, b);
    }
    assert_eq!(resumed.state(), opt.state());
}

#[test]
fn a_foreign_store_or_state_is_rejected_and_changes_nothing() {
    let mut store = store_of(&[vec![1.0, 2.0]]);
    let mut opt = AdamConfig::default().build(&store).unwrap();
    opt.step(&mut store).unwrap();
    let mut other = store_of(&[vec![1.0, 2.0, 3.0]]);
    assert!(matches!(
        opt.step(&mut other),
        Err(Error::StoreMismatch {
            expected: 1,
            got: 1,
            ..
        })
    ));
    let amsgrad = AdamConfig {
        amsgrad: true,
        ..AdamConfig::default()
    }
    .build(&store)
    .unwrap();
    let before = opt.state();
    assert!(matches!(
        opt.load_state(&amsgrad.state()),
        Err(Error::StateMismatch { .. })
    ));
    let sgd = SgdConfig::default().build(&store).unwrap();
    assert!(matches!(
        opt.load_state(&sgd.state()),
        Err(Error::StateMismatch { .. })
    ));
    assert_eq!(opt.state(), before);
    assert!(matches!(
        Optimizer::<f64>::builder(&store).build(),
        Err(Error::NoGroups)
    ));
}

#[test]
fn core_update_and_optimizer_step_agree() {
    let values = [vec![0.3, -0.7, 1.1]];
    let mut a = store_of(&values);
    let mut b = store_of(&values);
    let cfg = AdamWConfig {
        lr: 0.05,
        ..AdamWConfig::default()
    };
    let mut opt = cfg.build(&a).unwrap();
    let t = crate::OptimizerConfig::transform(&cfg);
    let mut state = GradientTransform::<f64>::init(&t, b.params());
    for k in 0..4 {
        for s in [&mut a, &mut b] {
            let id = s.ids().next().unwrap();
            s.grad_mut(id)
                .iter_mut()
                .enumerate()
                .for_each(|(j, g)| *g = (j + k) as f64 - 1.5);
        }
        opt.step(&mut a).unwrap();
        let ctx = StepCtx::new(k as u64, 0.05);
        let (params, grads) = b.split_mut();
        t.update(grads, &mut state, params, &ctx);
        let id = b.ids().next().unwrap();
        let u = b.grad(id).clone();
        *b.params_mut().value_mut(id) += u;
    }
    let id = a.ids().next().unwrap();
    assert_eq!(a.value(id), b.value(id));
}

/// Gradients for step `k` of a 3-element parameter: signs and sizes vary.
fn grad_at(k: usize) -> [f64; 3] {
    let k = k as f64;
    [(0.7 * k).sin(), 0.5 - 0.1 * k, (1.3 * k).cos() * 2.0]
}

fn feed(store: &mut ParamStore<f64>, k: usize) {
    let id = store.ids().next().unwrap();
    store.grad_mut(id).copy_from_slice(&grad_at(k));
}

#[test]
fn a_momentum_set_mid_run_applies_to_the_buffer_as_it_is() {
    let (lr, dampening) = (0.1, 0.1);
    let mut store = store_of(&[vec![1.0, -1.0, 0.5]]);
    let mut opt = SgdConfig {
        lr,
        momentum: 0.9,
        dampening,
        ..SgdConfig::default()
    }
    .build(&store)
    .unwrap();
    assert_eq!(opt.momentum(), Some(0.9));
    assert_eq!(opt.momentum_kind(0).unwrap(), Some(MomentumKind::Momentum));
    let momentums = [0.9, 0.9, 0.9, 0.5, 0.5, 0.0, 0.95];
    // PyTorch's SGD by hand: buf = g on the first step, then
    // buf = μ_t·buf + (1 − d)·g with the step's μ_t; p −= lr·buf.
    let (mut p, mut buf) = (vec![1.0, -1.0, 0.5], vec![0.0; 3]);
    for (k, &mu) in momentums.iter().enumerate() {
        if k == 3 {
            opt.set_momentum(0.5).unwrap();
        } else if k == 5 {
            opt.set_group_momentum(0, 0.0).unwrap();
        } else if k == 6 {
            opt.set_momentum(0.95).unwrap();
        }
        assert_eq!(opt.momentum(), Some(mu));
        feed(&mut store, k);
        opt.step(&mut store).unwrap();
        for j in 0..3 {
            let g = grad_at(k)[j];
            buf[j] = if k == 0 {
                g
            } else {
                mu * buf[j] + (1.0 - dampening) * g
            };
            p[j] -= lr * buf[j];
        }
        let got = store.value(store.ids().next().unwrap());
        for j in 0..3 {
            assert!((got[j] - p[j]).abs() < 1e-14, "step {k}: {got} vs {p:?}");
        }
    }
}

#[test]
fn adams_beta1_is_settable_and_enters_its_bias_correction() {
    let (lr, b2, eps) = (0.01, 0.999, 1e-8);
    let mut store = store_of(&[vec![1.0, -1.0, 0.5]]);
    let mut opt = AdamConfig {
        lr,
        ..AdamConfig::default()
    }
    .build(&store)
    .unwrap();
    assert_eq!(opt.momentum_kind(0).unwrap(), Some(MomentumKind::Beta1));
    let b1s = [0.9, 0.9, 0.85, 0.8, 0.85, 0.9];
    opt.set_momentum_schedule(move |t: u64| b1s[t as usize])
        .unwrap();
    let (mut p, mut m, mut v) = (vec![1.0, -1.0, 0.5], vec![0.0; 3], vec![0.0; 3]);
    for (k, &b1) in b1s.iter().enumerate() {
        assert_eq!(opt.momentum(), Some(b1));
        feed(&mut store, k);
        opt.step(&mut store).unwrap();
        // PyTorch's Adam reads betas[0] each step, bias correction included.
        let t = (k + 1) as f64;
        for j in 0..3 {
            let g = grad_at(k)[j];
            m[j] = b1 * m[j] + (1.0 - b1) * g;
            v[j] = b2 * v[j] + (1.0 - b2) * g * g;
            let denom = (v[j] / (1.0 - b2.powf(t))).sqrt() + eps;
            p[j] -= lr / (1.0 - b1.powf(t)) * m[j] / denom;
        }
        let got = store.value(store.ids().next().unwrap());
        for j in 0..3 {
            assert!((got[j] - p[j]).abs() < 1e-13, "step {k}: {got} vs {p:?}");
        }
    }
}

#[test]
fn momentum_errors_are_typed_and_change_nothing() {
    let store = store_of(&[vec![1.0], vec![2.0]]);
    let mut plain = sgd(&store, 0.1);
    assert_eq!(plain.momentum(), None);
    assert_eq!(plain.set_momentum(0.9), Err(Error::NoMomentum { group: 0 }));
    assert_eq!(
        plain.set_momentum_schedule(0.9),
        Err(Error::NoMomentum { group: 0 })
    );
    let cycle = descent_schedule::OneCycleLr::new(0.1, 10, Default::default()).unwrap();
    assert_eq!(
        plain.set_lr_and_momentum_schedule(cycle),
        Err(Error::NoMomentum { group: 0 })
    );
    assert!(matches!(plain.lr_source(0).unwrap(), LrSource::Value(_)));
    let adagrad = crate::AdagradConfig::default().build(&store).unwrap();
    assert_eq!(adagrad.group_momentum(0).unwrap(), None);

    // Groups with and without momentum: all-group setters refuse, nothing moves.
    let with = SgdConfig {
        momentum: 0.9,
        ..SgdConfig::default()
    };
    let mut mixed = Sgd::with_groups(
        &store,
        &[
            (Selector::name("p0"), with),
            (Selector::All, SgdConfig::default()),
        ],
    )
    .unwrap();
    assert_eq!(mixed.set_momentum(0.5), Err(Error::NoMomentum { group: 1 }));
    assert_eq!(mixed.momentum(), Some(0.9));
    mixed.set_group_momentum(0, 0.5).unwrap();
    assert_eq!(mixed.group_momentum(0).unwrap(), Some(0.5));
    assert_eq!(
        mixed.set_group_momentum(1, 0.5),
        Err(Error::NoMomentum { group: 1 })
    );

    let mut adam = AdamConfig::default().build(&store).unwrap();
    for bad in [1.0, -0.1, f64::NAN] {
        assert!(matches!(
            adam.set_momentum(bad),
            Err(Error::Arg(ArgError {
                name: "betas.0",
                ..
            }))
        ));
    }
    assert!(matches!(
        mixed.set_momentum(-1.0),
        Err(Error::NoMomentum { .. })
    ));
    assert!(matches!(
        mixed.set_group_momentum(0, -1.0),
        Err(Error::Arg(ArgError {
            name: "momentum",
            ..
        }))
    ));
    assert_eq!(adam.momentum(), Some(0.9));
}

#[test]
fn only_the_first_momentum_stage_of_a_chain_is_driven() {
    let run = |first: f64, drive: Option<f64>| {
        let mut store = store_of(&[vec![1.0, -1.0, 0.5]]);
        let t = chain((
            trace(first, 0.0, false),
            trace(0.5, 0.0, false),
            scale_by_learning_rate(),
        ));
        let mut opt = Optimizer::new(&store, 0.1, t).unwrap();
        if let Some(m) = drive {
            opt.set_momentum(m).unwrap();
        }
        for k in 0..4 {
            feed(&mut store, k);
            opt.step(&mut store).unwrap();
        }
        store.value(store.ids().next().unwrap()).clone()
    };
    assert_eq!(run(0.9, Some(0.3)), run(0.3, None));
    assert_ne!(run(0.9, Some(0.3)), run(0.9, None));
}

#[test]
fn a_momentum_set_or_scheduled_is_saved_and_restored() {
    let cfg = SgdConfig {
        lr: 0.05,
        momentum: 0.9,
        ..SgdConfig::default()
    };
    let mut store = store_of(&[vec![1.0, -1.0, 0.5]]);
    let mut opt = cfg.build(&store).unwrap();
    for k in 0..3 {
        feed(&mut store, k);
        opt.step(&mut store).unwrap();
    }
    opt.set_momentum(0.7).unwrap();
    let saved: OptimizerState =
        serde_json::from_str(&serde_json::to_string(&opt.state()).unwrap()).unwrap();
    assert_eq!(saved.groups[0].momentum, Some(HyperState::Value(0.7)));
    let mut resumed = cfg.build(&store).unwrap();
    resumed.load_state(&saved).unwrap();
    assert_eq!(resumed.momentum(), Some(0.7));

    let schedule = |t: u64| 0.8 + 0.01 * t as f64;
    opt.set_momentum_schedule(schedule).unwrap();
    let at_save = store.clone();
    let saved = opt.state();
    assert_eq!(saved.groups[0].momentum, Some(HyperState::Schedule));
    let mut unscheduled = cfg.build(&at_save).unwrap();
    let before = unscheduled.state();
    assert!(matches!(
        unscheduled.load_state(&saved),
        Err(Error::StateMismatch { .. })
    ));
    assert_eq!(unscheduled.state(), before);
    let mut plain = sgd(&at_save, 0.05);
    assert!(matches!(
        plain.load_state(&saved),
        Err(Error::StateMismatch { .. })
    ));

    let (mut a, mut b) = (store, at_save);
    let mut resumed = cfg.build(&b).unwrap();
    resumed.set_momentum_schedule(schedule).unwrap();
    resumed.load_state(&saved).unwrap();
    assert_eq!(resumed.momentum(), Some(schedule(3)));
    for k in 3..8 {
        feed(&mut a, k);
        feed(&mut b, k);
        opt.step(&mut a).unwrap();
        resumed.step(&mut b).unwrap();
    }
    let id = a.ids().next().unwrap();
    assert_eq!(a.value(id), b.value(id));
    assert_eq!(opt.state(), resumed.state());
}

#[test]
fn non_finite_state_round_trips_through_json_text() {
    use crate::transform::{NormType, clip_by_global_norm, scale_by_adam, scale_by_nadam};
    let build = |store: &ParamStore<f64>| {
        Optimizer::new(
            store,
            0.1,
            chain((
                clip_by_global_norm(f64::INFINITY, NormType::L2),
                scale_by_adam(0.9, 0.999, 1e-8, true),
                scale_by_nadam(0.9, 0.999, 1e-8, 4e-3),
                scale_by_learning_rate(),
            )),
        )
        .unwrap()
    };
    let mut store = store_of(&[vec![1.0, 2.0, 3.0], vec![4.0]]);
    let mut opt = build(&store);
    let p0 = store.id("p0").unwrap();
    let p1 = store.id("p1").unwrap();
    let g0 = store.grad_mut(p0);
    g0[0] = f64::INFINITY;
    g0[1] = f64::NEG_INFINITY;
    g0[2] = f64::NAN;
    store.grad_mut(p1)[0] = 0.5;
    opt.step(&mut store).unwrap();
    opt.set_lr(f64::INFINITY).ok();
    let saved = opt.state();
    let text = serde_json::to_string(&saved).unwrap();
    assert!(
        text.contains(r#""NaN""#) && text.contains(r#""inf""#),
        "{text}"
    );
    let back: OptimizerState = serde_json::from_str(&text).unwrap();
    let mut fresh = build(&store_of(&[vec![1.0, 2.0, 3.0], vec![4.0]]));
    fresh.load_state(&back).unwrap();
    assert_eq!(serde_json::to_string(&fresh.state()).unwrap(), text);
}
