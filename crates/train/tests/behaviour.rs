//! What a run does: accumulation equals a large batch, a non-finite loss
//! is a typed error with the last checkpoint intact, the guard rolls back,
//! early stopping restores the best epoch, augmentation and MixUp train a
//! CNN, the range test finds a stable rate and puts everything back.

mod support;

use descent_augment::image::{Compose, HorizontalFlip, MixUp, PadMode, RandomCrop};
use descent_core::Scalar;
use descent_data::{Dataset, InMemory};
use descent_nn::{
    Builder, Conv2d, Conv2dConfig, Flatten, Linear, LinearConfig, MaxPool2d, MaxPool2dConfig,
    ModelState, Relu, Sequential,
};
use descent_optim::SgdConfig;
use descent_regularize::{EarlyStoppingConfig, GuardConfig, L2};
use descent_train::lr_find::LrFindConfig;
use descent_train::{
    Augmentation, CheckpointConfig, Clip, Data, Error, Loss, Mix, Monitor, TrainConfig, Trainer,
    WeightAveraging, latest_checkpoint, seed,
};
use nalgebra::DMatrix;
use support::*;

fn sgd_trainer<S: Scalar>(config: TrainConfig, lr: f64) -> Trainer<S, Sequential<S>> {
    let (model, state) = mlp::<S>(3, 16, false);
    let opt = SgdConfig {
        lr,
        momentum: 0.9,
        ..SgdConfig::default()
    }
    .build(&state.params)
    .unwrap();
    Trainer::new(model, state, opt, Loss::cross_entropy(), config).unwrap()
}

#[test]
fn k_micro_batches_step_like_one_batch_of_k_times_the_size() {
    let train = digits_subset::<f64>(250);
    let base = quiet(TrainConfig {
        epochs: 2,
        seed: 5,
        clip: Some(Clip::Norm {
            max_norm: 0.5,
            norm_type: descent_optim::transform::NormType::L2,
        }),
        ..TrainConfig::default()
    });
    let mut big = sgd_trainer::<f64>(
        TrainConfig {
            batch_size: 32,
            accumulation: 1,
            ..base.clone()
        },
        0.05,
    )
    .with_penalty(L2::new(1e-3).unwrap());
    let mut small = sgd_trainer::<f64>(
        TrainConfig {
            batch_size: 8,
            accumulation: 4,
            ..base
        },
        0.05,
    )
    .with_penalty(L2::new(1e-3).unwrap());
    let hb = big.fit(Data::train(&train)).unwrap();
    let hs = small.fit(Data::train(&train)).unwrap();
    // 250 = 7·32 + 26: the short last group (3 batches of 8 and one of 2)
    // is weighted by its samples, like the short last batch of 26.
    assert_eq!(hb.last().unwrap().step, hs.last().unwrap().step);
    assert_eq!(big.optimizer().steps(), 16);
    let (a, b) = (big.state().params.params(), small.state().params.params());
    let mut worst = 0.0f64;
    for ((_, _, x), (_, _, y)) in a.iter().zip(b.iter()) {
        for (p, q) in x.iter().zip(y.iter()) {
            worst = worst.max((p - q).abs() / p.abs().max(1e-3));
        }
    }
    assert!(worst < 1e-10, "largest relative difference {worst}");
    let (lb, ls) = (hb.last().unwrap().train.loss, hs.last().unwrap().train.loss);
    assert!((lb - ls).abs() < 1e-10 * lb, "{lb} vs {ls}");
}

/// Digits whose sample `bad` has a NaN pixel.
fn poisoned(n: usize, bad: usize) -> InMemory<f32> {
    let data = digits_subset::<f32>(n);
    let mut x = data.features().clone();
    x[(bad, 10)] = f32::NAN;
    InMemory::classification(x, data.class_labels().unwrap().to_vec(), 10).unwrap()
}

#[test]
fn a_nan_loss_is_a_typed_error_and_the_last_checkpoint_is_the_state_before_it() {
    // the bad sample at a random position: seeded here, so the test is fixed
    let mut rng = seed::rng(17, seed::Purpose::Split);
    for accumulation in [1usize, 3] {
        let bad = rand::RngExt::random_range(&mut rng, 20..180usize);
        let train = poisoned(200, bad);
        let clean = digits_subset::<f32>(200);
        let config = quiet(TrainConfig {
            epochs: 2,
            batch_size: 16,
            accumulation,
            seed: 9,
            ..TrainConfig::default()
        });
        let (dir, reference) = (
            scratch(&format!("nan-{bad}")),
            scratch(&format!("nan-ref-{bad}")),
        );
        let mut t = trainer::<f32>(config.clone())
            .with_checkpoints(CheckpointConfig {
                every_batches: Some(1),
                keep_last: 2,
                ..CheckpointConfig::new(&dir)
            })
            .unwrap();
        let err = t.fit(Data::train(&train)).unwrap_err();
        // ReLU maps a NaN activation to 0, so the loss may stay finite while
        // the first layer's gradient (x · δ) is NaN: either error names the step.
        let (epoch, step) = match err {
            Error::NonFiniteLoss { epoch, step, .. } => (epoch, step),
            Error::NonFiniteGrad { epoch, step, .. } => (epoch, step),
            other => panic!("{other}"),
        };
        assert_eq!(epoch, 0, "the bad sample is in the first epoch");
        assert_eq!(step, t.optimizer().steps());
        let last = latest_checkpoint(&dir)
            .unwrap()
            .expect("checkpoints before the bad batch");
        // The same run on clean data writes the same checkpoint at that position.
        let mut clean_run = trainer::<f32>(config.clone())
            .with_checkpoints(CheckpointConfig {
                every_batches: Some(1),
                keep_last: 0,
                ..CheckpointConfig::new(&reference)
            })
            .unwrap();
        clean_run.fit(Data::train(&clean)).unwrap();
        let same = reference.join(last.file_name().unwrap());
        assert_eq!(
            std::fs::read(&last).unwrap(),
            std::fs::read(&same).unwrap(),
            "accumulation {accumulation}, bad sample {bad}"
        );
        let mut resumed = trainer::<f32>(config);
        resumed.load_checkpoint(&last).unwrap();
        assert!(resumed.state().params.grads().all_finite());
        std::fs::remove_dir_all(&dir).ok();
        std::fs::remove_dir_all(&reference).ok();
    }
}

#[test]
fn a_non_finite_gradient_is_never_applied() {
    // The bad step is refused before any parameter moves: after the error
    // the trainer's parameters are those of the last checkpoint, bit for bit.
    for accumulation in [1usize, 3] {
        let train = poisoned(120, 70);
        let dir = scratch(&format!("nan-kept-{accumulation}"));
        let config = quiet(TrainConfig {
            epochs: 1,
            batch_size: 16,
            accumulation,
            shuffle: false,
            ..TrainConfig::default()
        });
        let mut t = trainer::<f32>(config.clone())
            .with_checkpoints(CheckpointConfig {
                every_batches: Some(1),
                keep_last: 1,
                ..CheckpointConfig::new(&dir)
            })
            .unwrap();
        let err = t.fit(Data::train(&train)).unwrap_err();
        assert!(
            matches!(
                err,
                Error::NonFiniteGrad { .. } | Error::NonFiniteLoss { .. }
            ),
            "{err}"
        );
        let mut before = trainer::<f32>(config);
        before
            .load_checkpoint(latest_checkpoint(&dir).unwrap().unwrap())
            .unwrap();
        let bits = |t: &Trainer<f32, _>| -> Vec<u32> {
            t.state()
                .params
                .params()
                .iter()
                .flat_map(|(_, _, v)| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
                .collect()
        };
        let (now, then) = (bits(&t), bits(&before));
        let moved = now.iter().zip(&then).filter(|(a, b)| a != b).count();
        assert!(
            now.len() == then.len() && moved == 0,
            "accumulation {accumulation}: {moved} parameters moved"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn the_guard_rolls_back_each_bad_batch_and_lowers_the_rate() {
    let train = poisoned(96, 50);
    let config = quiet(TrainConfig {
        epochs: 3,
        batch_size: 16,
        shuffle: false,
        ..TrainConfig::default()
    });
    let mut t = sgd_trainer::<f32>(config, 0.1)
        .with_guard(GuardConfig {
            min_history: 1,
            snapshot_every: 1,
            ..GuardConfig::default()
        })
        .unwrap();
    let h = t.fit(Data::train(&train)).unwrap();
    // batch 3 of every epoch holds sample 50: one rollback per epoch
    assert_eq!(h.guard_events.len(), 3, "{:?}", h.guard_events);
    assert!(h.guard_events.iter().all(|e| matches!(
        e.kind,
        descent_regularize::Instability::NonFiniteGrad
            | descent_regularize::Instability::NonFiniteLoss
    )));
    assert_eq!(h.epochs.len(), 3);
    assert!(h.epochs.iter().all(|e| e.train.loss.is_finite()));
    assert_eq!(t.optimizer().effective_lr(0).unwrap(), 0.1 * 0.125);
    // 6 batches per epoch, the bad one skipped: 5 steps each
    assert_eq!(t.optimizer().steps(), 15);
    assert!(t.state().params.grads().all_finite());
}

#[test]
fn early_stopping_restores_the_best_epoch() {
    let data = digits_subset::<f32>(300);
    let train = data.select(&(0..60).collect::<Vec<_>>()).unwrap();
    let val = data.select(&(60..300).collect::<Vec<_>>()).unwrap();
    let config = quiet(TrainConfig {
        epochs: 60,
        batch_size: 8,
        seed: 2,
        ..TrainConfig::default()
    });
    let mut t = sgd_trainer::<f32>(config, 0.3)
        .with_early_stopping(
            Monitor::new("val_loss"),
            EarlyStoppingConfig {
                patience: 3,
                restore_best: true,
                ..Default::default()
            },
        )
        .unwrap();
    let h = t.fit(Data::train(&train).with_validation(&val)).unwrap();
    let Some(descent_train::Stop::EarlyStopping { epoch, best_epoch }) = h.stopped.clone() else {
        panic!("60 samples at a high rate overfit: {:?}", h.summary_table())
    };
    let best = best_epoch.unwrap();
    assert_eq!(h.restored_epoch, Some(best));
    assert_eq!(epoch, best + 3);
    let best_loss = h.epochs[best as usize].validation.as_ref().unwrap().loss;
    let now = t.evaluate(&val).unwrap().loss;
    assert_eq!(
        now, best_loss,
        "the restored weights give the best epoch's validation loss"
    );
}

fn small_cnn(seed_: u64) -> (Sequential<f32>, ModelState<f32>) {
    let mut state = ModelState::new();
    let mut model = Sequential::new();
    let mut rng = seed::rng(seed_, seed::Purpose::Init);
    let mut b = Builder::new(&mut state, &mut rng);
    let mut conv = Conv2dConfig::new(1, 8, 3, 3);
    conv.geometry.padding = (1, 1);
    model
        .add(&mut b, |b| Conv2d::new(b, conv))
        .unwrap()
        .push(Relu)
        .push(MaxPool2d::new(MaxPool2dConfig::new(2, 2)).unwrap())
        .push(Flatten)
        .add(&mut b, |b| Linear::new(b, LinearConfig::new(8 * 4 * 4, 10)))
        .unwrap();
    (model, state)
}

/// Stops the run after a number of micro-batches.
struct StopAt(u64, u64);

impl descent_train::Callback for StopAt {
    fn on_batch_end(&mut self, _: &descent_train::BatchInfo) -> descent_train::Control {
        self.1 += 1;
        if self.1 == self.0 {
            descent_train::Control::Stop
        } else {
            descent_train::Control::Continue
        }
    }
}

#[test]
fn a_cnn_learns_through_augmentation_and_mixup_and_resumes_exactly() {
    let data = digits_subset::<f32>(600);
    assert_eq!(
        data.schema().image,
        Some(descent_core::ImageShape::new(1, 8, 8))
    );
    let train = data.select(&(0..500).collect::<Vec<_>>()).unwrap();
    let test = data.select(&(500..600).collect::<Vec<_>>()).unwrap();
    let make = || {
        let (model, state) = small_cnn(1);
        let opt = descent_optim::AdamConfig {
            lr: 3e-3,
            ..Default::default()
        }
        .build(&state.params)
        .unwrap();
        let ops = Compose::new(vec![
            Box::new(RandomCrop::new(1, PadMode::Constant(0.0)).unwrap()),
            Box::new(HorizontalFlip::new(0.0).unwrap()),
        ]);
        let aug = Augmentation::new(ops).with_mix(Mix::MixUp(MixUp::new(0.2).unwrap()));
        Trainer::new(
            model,
            state,
            opt,
            Loss::CrossEntropy {
                label_smoothing: 0.05,
            },
            quiet(TrainConfig {
                epochs: 12,
                batch_size: 25,
                seed: 4,
                top_k: 2,
                ..TrainConfig::default()
            }),
        )
        .unwrap()
        .with_augmentation(aug)
    };
    let d = Data::train(&train).with_test(&test);
    let mut whole = make();
    let h = whole.fit(d).unwrap();
    let acc = h.last().unwrap().test.as_ref().unwrap().accuracy.unwrap();
    // chance is 10%; MixUp halves the train accuracy counted against own labels
    assert!(
        acc > 0.7,
        "test accuracy {acc} on 10 classes:\n{}",
        h.summary_table()
    );
    // stopped after 23 batches (mid-epoch 2), resumed: the same run
    let dir = scratch("cnn");
    let mut first = make()
        .with_checkpoints(CheckpointConfig::new(&dir))
        .unwrap()
        .with_callback(StopAt(23, 0));
    first.fit(d).unwrap();
    let mut second = make()
        .with_checkpoints(CheckpointConfig::new(&dir))
        .unwrap();
    second
        .load_checkpoint(latest_checkpoint(&dir).unwrap().unwrap())
        .unwrap();
    let h2 = second.fit(d).unwrap();
    assert_eq!(h2.without_timing(), h.without_timing());
    assert_eq!(bits(second.state()), bits(whole.state()));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_range_test_finds_a_stable_rate_on_a_quadratic_and_changes_nothing() {
    // least squares y = X w: the loss is a quadratic whose Hessian is (2/N) XᵀX
    // (MSE averages over N samples), so plain GD is stable below 2 / λ_max.
    let n = 64;
    let mut rng = seed::rng(1, seed::Purpose::Split);
    let x = DMatrix::<f64>::from_fn(n, 4, |_, _| rand::RngExt::random_range(&mut rng, -1.0..1.0));
    let w = DMatrix::from_row_slice(4, 1, &[0.5, -1.0, 2.0, 0.3]);
    let y = &x * &w;
    let data = InMemory::regression(x.clone(), y).unwrap();
    let mut state = ModelState::<f64>::new();
    let mut model = Sequential::new();
    {
        let mut b = Builder::new(&mut state, &mut rng);
        model
            .add(&mut b, |b| {
                Linear::new(
                    b,
                    LinearConfig {
                        bias: false,
                        ..LinearConfig::new(4, 1)
                    },
                )
            })
            .unwrap();
    }
    let opt = SgdConfig {
        lr: 0.01,
        ..Default::default()
    }
    .build(&state.params)
    .unwrap();
    let mut t = Trainer::new(
        model,
        state,
        opt,
        Loss::Mse,
        quiet(TrainConfig {
            batch_size: n,
            ..TrainConfig::default()
        }),
    )
    .unwrap();
    let before = bits(t.state());
    let before_opt = t.optimizer().state();
    let r = t
        .lr_find(
            &data,
            LrFindConfig {
                start_lr: 1e-5,
                end_lr: 100.0,
                num_iter: 200,
                ..Default::default()
            },
        )
        .unwrap();
    let h = x.transpose() * &x * (2.0 / n as f64);
    let lambda_max = h.symmetric_eigenvalues().max();
    let stable = 2.0 / lambda_max;
    let s = r.suggestion.expect("a suggestion");
    assert!(
        r.diverged,
        "rates up to 100 diverge on this quadratic (stable below {stable})"
    );
    assert!(
        s < stable && s > stable / 1000.0,
        "suggested {s}, stable below {stable}"
    );
    assert_eq!(bits(t.state()), before);
    assert_eq!(t.optimizer().state(), before_opt);
}

#[test]
fn bad_arguments_and_mismatched_data_are_typed_errors() {
    let (model, state) = mlp::<f32>(0, 8, false);
    let opt = SgdConfig::default().build(&state.params).unwrap();
    let err = Trainer::new(
        model,
        state,
        opt,
        Loss::cross_entropy(),
        TrainConfig {
            batch_size: 0,
            ..TrainConfig::default()
        },
    );
    assert!(matches!(
        err,
        Err(Error::Arg(descent_train::ArgError {
            name: "batch_size",
            ..
        }))
    ));
    let mut t = trainer::<f32>(quiet(TrainConfig::default()));
    let regression =
        InMemory::regression(DMatrix::<f32>::zeros(4, 64), DMatrix::zeros(4, 1)).unwrap();
    assert!(matches!(
        t.fit(Data::train(&regression)),
        Err(Error::Data { .. })
    ));
    let tiny = digits_subset::<f32>(3);
    let mut t = trainer::<f32>(quiet(TrainConfig {
        batch_size: 8,
        drop_last: true,
        ..TrainConfig::default()
    }));
    assert!(matches!(t.fit(Data::train(&tiny)), Err(Error::Data { .. })));
    let mut t = trainer::<f32>(quiet(TrainConfig::default()))
        .with_early_stopping(Monitor::new("val_loss"), Default::default())
        .unwrap();
    let err = t.fit(Data::train(&digits_subset::<f32>(40))).unwrap_err();
    assert!(err.to_string().contains("val_loss"), "{err}");
}

#[test]
fn a_guarded_run_resumes_bit_identical_with_its_rollbacks() {
    let train = poisoned(96, 50);
    let config = quiet(TrainConfig {
        epochs: 3,
        batch_size: 16,
        shuffle: false,
        ..TrainConfig::default()
    });
    let guard = GuardConfig {
        min_history: 1,
        snapshot_every: 2,
        ..GuardConfig::default()
    };
    let make = || {
        sgd_trainer::<f32>(config.clone(), 0.1)
            .with_guard(guard)
            .unwrap()
    };
    let mut whole = make();
    let want = whole.fit(Data::train(&train)).unwrap();
    assert_eq!(want.guard_events.len(), 3);
    let want_lr = whole.optimizer().effective_lr(0).unwrap();
    // before the first rollback, just after it, and in later epochs
    for stop in [2u64, 4, 5, 9, 12, 14] {
        let dir = scratch(&format!("guard-resume-{stop}"));
        let mut first = make()
            .with_checkpoints(CheckpointConfig {
                every_epochs: None,
                ..CheckpointConfig::new(&dir)
            })
            .unwrap()
            .with_callback(StopAt(stop, 0));
        first.fit(Data::train(&train)).unwrap();
        let mut second = make();
        second
            .load_checkpoint(latest_checkpoint(&dir).unwrap().unwrap())
            .unwrap();
        let got = second.fit(Data::train(&train)).unwrap();
        assert_eq!(got.without_timing(), want.without_timing(), "stop {stop}");
        assert_eq!(bits(second.state()), bits(whole.state()), "stop {stop}");
        assert_eq!(
            second.optimizer().state(),
            whole.optimizer().state(),
            "stop {stop}"
        );
        assert_eq!(
            second.optimizer().effective_lr(0).unwrap(),
            want_lr,
            "stop {stop}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn weight_averaging_counts_optimizer_steps_evaluates_the_average_and_updates_bn() {
    let data = digits_subset::<f32>(200);
    let (train, val) = (
        data.select(&(0..150).collect::<Vec<_>>()).unwrap(),
        data.select(&(150..200).collect::<Vec<_>>()).unwrap(),
    );
    // 15 micro-batches per epoch in groups of 3: 5 optimizer steps per epoch.
    let config = quiet(TrainConfig {
        epochs: 2,
        batch_size: 10,
        accumulation: 3,
        seed: 5,
        ..TrainConfig::default()
    });
    let mut ema = trainer::<f32>(config.clone())
        .with_averaging(WeightAveraging::ema(0.8))
        .unwrap();
    let history = ema.fit(Data::train(&train).with_validation(&val)).unwrap();
    assert_eq!(ema.optimizer().steps(), 10);
    assert_eq!(ema.averaged().unwrap().n_averaged(), 10);
    // validation was measured on the averaged weights
    let raw = ema.evaluate(&val).unwrap();
    *ema.state_mut() = ema.averaged().unwrap().state().clone();
    let on_average = ema.evaluate(&val).unwrap();
    assert_eq!(history.epochs[1].validation.as_ref(), Some(&on_average));
    assert_ne!(raw, on_average);

    // SWA after steps 4, 6, 8 and 10, then update_bn over the 15 training batches
    let mut swa = trainer::<f32>(config.clone())
        .with_averaging(WeightAveraging::swa(4, 2))
        .unwrap();
    swa.fit(Data::train(&train)).unwrap();
    let avg = swa.averaged().unwrap();
    assert_eq!(avg.n_averaged(), 4);
    let count = avg.state().buffers.id("1.num_batches_tracked").unwrap();
    assert_eq!(avg.state().buffers.count(count), 15);
    assert_eq!(
        swa.state().buffers.count(count),
        30,
        "the model's own statistics"
    );

    for bad in [WeightAveraging::swa(0, 1), WeightAveraging::swa(1, 0)] {
        let err = trainer::<f32>(config.clone())
            .with_averaging(bad)
            .unwrap_err();
        assert!(matches!(err, Error::Arg(_)), "{err}");
    }
    let mut bad_decay = WeightAveraging::ema(0.9);
    bad_decay.config.avg_fn = descent_nn::AvgFn::EmaMulti { decay: 2.0 };
    assert!(matches!(
        trainer::<f32>(config).with_averaging(bad_decay),
        Err(Error::Nn(_))
    ));
}

/// The parameter values alone, as bits.
fn param_bits(state: &ModelState<f32>) -> Vec<u32> {
    state
        .params
        .params()
        .iter()
        .flat_map(|(_, _, v)| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
        .collect()
}

#[test]
fn sam_with_rho_0_is_the_plain_run_and_a_sam_run_resumes_bit_identical() {
    use descent_optim::SamConfig;
    let train = digits_subset::<f32>(120);
    let config = quiet(TrainConfig {
        epochs: 2,
        batch_size: 20,
        accumulation: 1,
        seed: 3,
        ..TrainConfig::default()
    });
    let d = Data::train(&train);
    let mut plain = trainer::<f32>(config.clone());
    plain.fit(d).unwrap();
    // ρ = 0: the second gradient is the first, recomputed with the same masks
    let rho0 = Some(SamConfig {
        rho: 0.0,
        adaptive: false,
    });
    let mut sam0 = trainer::<f32>(TrainConfig {
        sam: rho0,
        ..config.clone()
    });
    sam0.fit(d).unwrap();
    assert_eq!(param_bits(sam0.state()), param_bits(plain.state()));

    let sam_config = TrainConfig {
        sam: Some(SamConfig::default()),
        ..config.clone()
    };
    let mut whole = trainer::<f32>(sam_config.clone());
    let want = whole.fit(d).unwrap().without_timing();
    assert_ne!(param_bits(whole.state()), param_bits(plain.state()));
    assert!(want.epochs[1].train.loss < want.epochs[0].train.loss);
    let dir = scratch("sam-resume");
    let checkpoints = CheckpointConfig {
        every_epochs: None,
        ..CheckpointConfig::new(&dir)
    };
    let mut first = trainer::<f32>(sam_config.clone())
        .with_callback(StopAt(8, 0))
        .with_checkpoints(checkpoints.clone())
        .unwrap();
    first.fit(d).unwrap();
    let mut second = trainer::<f32>(sam_config)
        .with_checkpoints(checkpoints)
        .unwrap();
    second
        .load_checkpoint(latest_checkpoint(&dir).unwrap().unwrap())
        .unwrap();
    assert_eq!(second.fit(d).unwrap().without_timing(), want);
    assert_eq!(bits(second.state()), bits(whole.state()));
    std::fs::remove_dir_all(&dir).ok();

    let err = trainer_result(TrainConfig {
        accumulation: 2,
        sam: Some(SamConfig::default()),
        ..config
    });
    assert!(matches!(err, Err(Error::Config { .. })), "{err:?}");
}

fn trainer_result(config: TrainConfig) -> Result<Trainer<f32, Sequential<f32>>, Error> {
    let (model, state) = mlp::<f32>(config.seed, 32, true);
    let opt = descent_optim::AdamWConfig::default()
        .build(&state.params)
        .unwrap();
    Trainer::new(model, state, opt, Loss::cross_entropy(), config)
}
