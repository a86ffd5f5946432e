//! One table of invalid arguments across every crate: each row must give its
//! crate's typed error (the variant named in the row), never a panic and
//! never `Ok`. The count of rows is printed; every row runs under
//! `catch_unwind`, so one panic fails the test with the row's name.

use descent_core::ArgError;
use descent_core::{ParamStore, Tags};
use descent_nn::{
    BatchNorm1d, BatchNormConfig, Builder, Conv2d, Conv2dConfig, Dropout, GaussianNoise, Linear,
    LinearConfig, MaxPool2d, MaxPool2dConfig, ModelState,
};
use descent_optim::{
    AdagradConfig, AdamConfig, AdamWConfig, OptimizerState, RmsPropConfig, SgdConfig, WeightDecay,
    clip_grad_norm, transform::NormType,
};
use nalgebra::DMatrix;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// `Ok(())` when `$e` is `Err($pat)`, else what it was.
macro_rules! expect {
    ($e:expr, $pat:pat $(if $guard:expr)?) => {{
        match $e.map(|_| ()) {
            Err($pat) $(if $guard)? => Ok(()),
            Err(other) => Err(format!("wrong error: {other}")),
            Ok(()) => Err("accepted".to_string()),
        }
    }};
}

type Row = (&'static str, &'static str, fn() -> Result<(), String>);

fn store() -> ParamStore<f32> {
    let mut s = ParamStore::new();
    s.register("w", Tags::WEIGHT, DMatrix::from_element(2, 2, 1.0))
        .unwrap();
    s
}

fn sgd(cfg: SgdConfig) -> Result<(), descent_optim::Error> {
    cfg.build(&store()).map(|_| ())
}

fn adam(cfg: AdamConfig) -> Result<(), descent_optim::Error> {
    cfg.build(&store()).map(|_| ())
}

fn model(hidden: usize) -> ModelState<f32> {
    let mut state = ModelState::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut b = Builder::new(&mut state, &mut rng);
    Linear::new(&mut b.pp("0"), LinearConfig::new(3, hidden)).unwrap();
    BatchNorm1d::new(&mut b.pp("1"), BatchNormConfig::new(hidden)).unwrap();
    state
}

fn build_nn(
    f: impl FnOnce(&mut Builder<'_, f32>) -> descent_nn::Result<()>,
) -> descent_nn::Result<()> {
    let mut state = ModelState::<f32>::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    f(&mut Builder::new(&mut state, &mut rng))
}

fn saved_adam_state() -> OptimizerState {
    let mut s = ParamStore::<f32>::new();
    s.register("w", Tags::WEIGHT, DMatrix::from_element(3, 1, 1.0))
        .unwrap();
    AdamConfig::default().build(&s).unwrap().state()
}

use descent_augment::Error as AugErr;
use descent_data::Error as DataErr;
use descent_hpo::Error as HpoErr;
use descent_nn::Error as NnErr;
use descent_optim::Error as OptErr;
use descent_regularize::Error as RegErr;
use descent_schedule::Error as SchErr;

const ROWS: &[Row] = &[
    // optim
    ("optim", "sgd negative lr", || {
        expect!(
            sgd(SgdConfig {
                lr: -0.1,
                ..SgdConfig::default()
            }),
            OptErr::Arg(ArgError { .. })
        )
    }),
    ("optim", "sgd NaN lr", || {
        expect!(
            sgd(SgdConfig {
                lr: f64::NAN,
                ..SgdConfig::default()
            }),
            OptErr::Arg(ArgError { .. })
        )
    }),
    ("optim", "sgd negative momentum", || {
        expect!(
            sgd(SgdConfig {
                momentum: -0.5,
                ..SgdConfig::default()
            }),
            OptErr::Arg(ArgError { .. })
        )
    }),
    ("optim", "sgd nesterov without momentum", || {
        expect!(
            sgd(SgdConfig {
                nesterov: true,
                ..SgdConfig::default()
            }),
            OptErr::NesterovRequiresMomentum { .. }
        )
    }),
    ("optim", "sgd NaN weight decay", || {
        expect!(
            sgd(SgdConfig {
                weight_decay: WeightDecay::L2(f64::NAN),
                ..SgdConfig::default()
            }),
            OptErr::Arg(ArgError { .. })
        )
    }),
    ("optim", "adam beta1 = 1", || {
        expect!(
            adam(AdamConfig {
                betas: (1.0, 0.999),
                ..AdamConfig::default()
            }),
            OptErr::Arg(ArgError { .. })
        )
    }),
    ("optim", "adam beta2 > 1", || {
        expect!(
            adam(AdamConfig {
                betas: (0.9, 1.5),
                ..AdamConfig::default()
            }),
            OptErr::Arg(ArgError { .. })
        )
    }),
    ("optim", "adam negative beta", || {
        expect!(
            adam(AdamConfig {
                betas: (-0.1, 0.999),
                ..AdamConfig::default()
            }),
            OptErr::Arg(ArgError { .. })
        )
    }),
    ("optim", "adam negative eps", || {
        expect!(
            adam(AdamConfig {
                eps: -1e-8,
                ..AdamConfig::default()
            }),
            OptErr::Arg(ArgError { .. })
        )
    }),
    ("optim", "adam infinite lr", || {
        expect!(
            adam(AdamConfig {
                lr: f64::INFINITY,
                ..AdamConfig::default()
            }),
            OptErr::Arg(ArgError { .. })
        )
    }),
    ("optim", "adamw negative decay", || {
        expect!(
            AdamWConfig {
                weight_decay: WeightDecay::Decoupled(-0.01),
                ..AdamWConfig::default()
            }
            .build(&store()),
            OptErr::Arg(ArgError { .. })
        )
    }),
    ("optim", "rmsprop alpha > 1", || {
        expect!(
            RmsPropConfig {
                alpha: 1.5,
                ..RmsPropConfig::default()
            }
            .build(&store()),
            OptErr::Arg(ArgError { .. })
        )
    }),
    ("optim", "adagrad negative lr_decay", || {
        expect!(
            AdagradConfig {
                lr_decay: -1.0,
                ..AdagradConfig::default()
            }
            .build(&store()),
            OptErr::Arg(ArgError { .. })
        )
    }),
    ("optim", "set_lr NaN", || {
        expect!(
            SgdConfig::default()
                .build(&store())
                .unwrap()
                .set_lr(f64::NAN),
            OptErr::Arg(ArgError { .. })
        )
    }),
    ("optim", "set_group_lr of a missing group", || {
        expect!(
            SgdConfig::default()
                .build(&store())
                .unwrap()
                .set_group_lr(3, 0.1),
            OptErr::NoSuchGroup { .. }
        )
    }),
    ("optim", "loading state of other buffer sizes", || {
        expect!(
            AdamConfig::default()
                .build(&store())
                .unwrap()
                .load_state(&saved_adam_state()),
            OptErr::StateMismatch { .. }
        )
    }),
    ("optim", "loading state with a NaN lr", || {
        let mut s = AdamConfig::default().build(&store()).unwrap();
        let mut saved = s.state();
        saved.groups[0].lr = descent_optim::LrState::Value(f64::NAN);
        expect!(s.load_state(&saved), OptErr::Arg(ArgError { .. }))
    }),
    ("optim", "clip_grad_norm negative max_norm", || {
        expect!(
            clip_grad_norm(store().grads_mut(), -1.0, NormType::L2, false),
            OptErr::Arg(ArgError { .. })
        )
    }),
    (
        "optim",
        "clip_grad_norm of a NaN gradient with error_if_nonfinite",
        || {
            let mut s = store();
            let id = s.id("w").unwrap();
            s.grad_mut(id)[0] = f32::NAN;
            expect!(
                clip_grad_norm(s.grads_mut(), 1.0, NormType::L2, true),
                OptErr::NonFiniteNorm { .. }
            )
        },
    ),
    // optim: PyTorch 2.15's newer optimizers
    ("optim", "rprop etaminus >= 1", || {
        let etas = (1.5, 1.2);
        let cfg = descent_optim::RpropConfig {
            etas,
            ..Default::default()
        };
        expect!(cfg.build(&store()), OptErr::Arg(ArgError { .. }))
    }),
    ("optim", "asgd infinite t0", || {
        let cfg = descent_optim::AsgdConfig {
            t0: f64::INFINITY,
            ..Default::default()
        };
        expect!(cfg.build(&store()), OptErr::Arg(ArgError { .. }))
    }),
    ("optim", "adafactor positive beta2_decay", || {
        let cfg = descent_optim::AdafactorConfig {
            beta2_decay: 0.5,
            ..Default::default()
        };
        expect!(cfg.build(&store()), OptErr::Arg(ArgError { .. }))
    }),
    ("optim", "muon on a one-row parameter", || {
        let mut s = store();
        s.register("b", Tags::BIAS, DMatrix::zeros(1, 2)).unwrap();
        let cfg = descent_optim::MuonConfig::default();
        expect!(cfg.build(&s), OptErr::UnsupportedShape { .. })
    }),
    ("optim", "lbfgs history_size 0", || {
        let cfg = descent_optim::LbfgsConfig {
            history_size: 0,
            ..Default::default()
        };
        expect!(
            descent_optim::Lbfgs::new(&store(), cfg),
            OptErr::Arg(ArgError { .. })
        )
    }),
    // schedule
    ("schedule", "StepLr step_size 0", || {
        expect!(
            descent_schedule::StepLr::new(0.1, 0, 0.5),
            SchErr::Arg(ArgError { reason, .. }) if reason == "must be positive"
        )
    }),
    ("schedule", "StepLr NaN gamma", || {
        expect!(
            descent_schedule::StepLr::new(0.1, 3, f64::NAN),
            SchErr::Arg(ArgError { reason, .. }) if reason == "must be finite"
        )
    }),
    ("schedule", "negative base lr", || {
        expect!(
            descent_schedule::ExponentialLr::new(-0.1, 0.9),
            SchErr::Arg(ArgError { reason, .. }) if reason == "must not be negative"
        )
    }),
    ("schedule", "warm restarts T_0 = 0", || {
        expect!(
            descent_schedule::CosineAnnealingWarmRestarts::new(0.1, 0, 1, 0.0),
            SchErr::Arg(ArgError { name: "t_0", reason, .. }) if reason == "must be positive"
        )
    }),
    ("schedule", "warm restarts T_mult = 0", || {
        expect!(
            descent_schedule::CosineAnnealingWarmRestarts::new(0.1, 1, 0, 0.0),
            SchErr::Arg(ArgError { name: "t_mult", reason, .. }) if reason == "must be positive"
        )
    }),
    ("schedule", "warm restarts at an infinite epoch", || {
        expect!(
            descent_schedule::CosineAnnealingWarmRestarts::new(0.1, 2, 2, 0.0)
                .unwrap()
                .lr_at_epoch(f64::INFINITY),
            SchErr::Arg(ArgError { reason, .. }) if reason == "must be finite"
        )
    }),
    ("schedule", "milestones out of order", || {
        expect!(
            descent_schedule::MultiStepLr::new(0.1, vec![5, 2], 0.1),
            SchErr::OutOfOrder { .. }
        )
    }),
    ("schedule", "cosine NaN eta_min", || {
        expect!(
            descent_schedule::CosineAnnealingLr::new(0.1, 10, f64::NAN),
            SchErr::Arg(ArgError { reason, .. }) if reason == "must be finite"
        )
    }),
    ("schedule", "one-cycle of 0 steps", || {
        expect!(
            descent_schedule::OneCycleLr::new(0.1, 0, Default::default()),
            SchErr::Arg(ArgError { reason, .. }) if reason == "must be positive"
        )
    }),
    ("schedule", "deserialized StepLr with step_size 0", || {
        let r = serde_json::from_str::<descent_schedule::StepLr>(
            r#"{"base_lr":0.1,"step_size":0,"gamma":0.5}"#,
        );
        match r {
            Err(e) if e.to_string().contains("step_size") => Ok(()),
            other => Err(format!("{other:?}")),
        }
    }),
    // nn
    ("nn", "linear with 0 inputs", || {
        expect!(
            build_nn(|b| Linear::new(b, LinearConfig::new(0, 3)).map(drop)),
            NnErr::Arg(_)
        )
    }),
    ("nn", "linear with 0 outputs", || {
        expect!(
            build_nn(|b| Linear::new(b, LinearConfig::new(3, 0)).map(drop)),
            NnErr::Arg(_)
        )
    }),
    ("nn", "batch norm of 0 features", || {
        expect!(
            build_nn(|b| BatchNorm1d::new(b, BatchNormConfig::new(0)).map(drop)),
            NnErr::Arg(_)
        )
    }),
    ("nn", "conv with a 0 kernel", || {
        expect!(
            build_nn(|b| Conv2d::new(b, Conv2dConfig::new(1, 2, 0, 3)).map(drop)),
            NnErr::Arg(_)
        )
    }),
    ("nn", "conv with 0 channels", || {
        expect!(
            build_nn(|b| Conv2d::new(b, Conv2dConfig::new(0, 2, 3, 3)).map(drop)),
            NnErr::Arg(_)
        )
    }),
    ("nn", "max pool padding over half the kernel", || {
        expect!(
            MaxPool2d::new(MaxPool2dConfig::new(2, 2).padding(2, 0)),
            NnErr::Arg(_)
        )
    }),
    ("nn", "dropout p = 1.5", || {
        expect!(Dropout::new(1.5), NnErr::Arg(_))
    }),
    ("nn", "dropout p NaN", || {
        expect!(Dropout::new(f64::NAN), NnErr::Arg(_))
    }),
    ("nn", "gaussian noise negative std", || {
        expect!(GaussianNoise::new(-1.0), NnErr::Arg(_))
    }),
    ("nn", "a layer registered twice", || {
        expect!(
            build_nn(|b| {
                Linear::new(&mut b.pp("0"), LinearConfig::new(2, 2))?;
                Linear::new(&mut b.pp("0"), LinearConfig::new(2, 2)).map(drop)
            }),
            NnErr::DuplicateName { .. }
        )
    }),
    ("nn", "loading a state of other shapes", || {
        expect!(
            model(4).load_safetensors(&model(5).to_safetensors().unwrap()),
            NnErr::StateMismatch { .. }
        )
    }),
    ("nn", "loading bytes that are no safetensors", || {
        expect!(
            model(4).load_safetensors(b"not a model"),
            NnErr::Format { .. }
        )
    }),
    // regularize
    ("regularize", "L2 negative lambda", || {
        expect!(
            descent_regularize::L2::new(-1.0),
            RegErr::Arg(ArgError { .. })
        )
    }),
    ("regularize", "L1 NaN lambda", || {
        expect!(
            descent_regularize::L1::new(f64::NAN),
            RegErr::Arg(ArgError { .. })
        )
    }),
    ("regularize", "elastic net negative l2", || {
        expect!(
            descent_regularize::ElasticNet::new(0.1, -0.1),
            RegErr::Arg(ArgError { .. })
        )
    }),
    ("regularize", "max norm 0", || {
        expect!(
            descent_regularize::MaxNorm::new(0.0),
            RegErr::Arg(ArgError { .. })
        )
    }),
    ("regularize", "early stopping NaN min_delta", || {
        expect!(
            descent_regularize::EarlyStopping::<f32>::new(
                descent_regularize::EarlyStoppingConfig {
                    min_delta: f64::NAN,
                    ..Default::default()
                }
            ),
            RegErr::Arg(ArgError { .. })
        )
    }),
    ("regularize", "gradient noise negative eta", || {
        expect!(
            descent_regularize::GradientNoise::new(descent_regularize::GradientNoiseConfig {
                eta: -1.0,
                ..Default::default()
            }),
            RegErr::Arg(ArgError { .. })
        )
    }),
    // data
    ("data", "loader batch size 0", || {
        let d = descent_data::digits::<f32>().unwrap();
        expect!(
            descent_data::DataLoader::new(
                &d,
                descent_data::LoaderConfig {
                    batch_size: 0,
                    ..Default::default()
                }
            ),
            DataErr::Arg(_)
        )
    }),
    ("data", "segmentation label out of range", || {
        expect!(
            descent_data::InMemory::segmentation(
                nalgebra::DMatrix::<f32>::zeros(1, 4),
                descent_data::ImageShape::new(1, 2, 2),
                vec![0, 1, 7, 0],
                3,
                Some(255)
            ),
            DataErr::Arg(_)
        )
    }),
    ("data", "segmentation maps of the wrong length", || {
        expect!(
            descent_data::InMemory::segmentation(
                nalgebra::DMatrix::<f32>::zeros(2, 4),
                descent_data::ImageShape::new(1, 2, 2),
                vec![0; 4],
                3,
                None
            ),
            DataErr::Arg(_)
        )
    }),
    ("data", "split fractions over 1", || {
        let d = descent_data::digits::<f32>().unwrap();
        let cfg = descent_data::SplitConfig {
            validation: 0.7,
            test: 0.7,
            stratify: false,
        };
        expect!(
            descent_data::Splits::new(&d, &cfg, &mut ChaCha8Rng::seed_from_u64(0)),
            DataErr::Arg(_)
        )
    }),
    ("data", "split fraction NaN", || {
        let d = descent_data::digits::<f32>().unwrap();
        let cfg = descent_data::SplitConfig {
            validation: f64::NAN,
            test: 0.1,
            stratify: false,
        };
        expect!(
            descent_data::Splits::new(&d, &cfg, &mut ChaCha8Rng::seed_from_u64(0)),
            DataErr::Arg(_)
        )
    }),
    ("data", "select an index past the end", || {
        expect!(
            descent_data::digits::<f32>().unwrap().select(&[5000]),
            DataErr::IndexOutOfRange { .. }
        )
    }),
    ("data", "moons with NaN noise", || {
        expect!(
            descent_data::make_moons::<f32>(
                &descent_data::MoonsConfig {
                    noise: f64::NAN,
                    ..Default::default()
                },
                &mut ChaCha8Rng::seed_from_u64(0)
            ),
            DataErr::Arg(_)
        )
    }),
    ("data", "an explicit data directory without the set", || {
        expect!(
            descent_data::mnist::<f32>(
                descent_data::Split::Test,
                Some(std::path::Path::new("/nonexistent/descent"))
            ),
            DataErr::NotInDataDir { .. }
        )
    }),
    (
        "data",
        "an IDX header promising more than the file holds",
        || {
            expect!(
                descent_data::parse_idx(
                    &[0, 0, 8, 1, 0x7f, 0xff, 0xff, 0xff, 1],
                    std::path::Path::new("x"),
                    descent_data::IDX_LABELS_MAGIC
                ),
                DataErr::Truncated { .. }
            )
        },
    ),
    // augment
    ("augment", "box with a NaN coordinate", || {
        expect!(
            descent_augment::image::Boxes::new(
                descent_augment::image::BoxFormat::Xywh,
                [4, 4],
                vec![[0.0, f64::NAN, 1.0, 1.0]]
            ),
            AugErr::Arg(_)
        )
    }),
    ("augment", "box labels of another count", || {
        let b = descent_augment::image::Boxes::new(
            descent_augment::image::BoxFormat::Xyxy,
            [4, 4],
            vec![[0.0; 4]],
        )
        .unwrap();
        expect!(b.with_labels(vec![1, 2]), AugErr::ShapeMismatch { .. })
    }),
    ("augment", "mask of the wrong length", || {
        expect!(
            descent_augment::image::Mask::new(2, 3, vec![0; 5]),
            AugErr::ShapeMismatch { .. }
        )
    }),
    ("augment", "sample mask of another size", || {
        let img = descent_augment::image::functional::Image::new(
            descent_augment::image::ImageShape::new(1, 2, 3),
            vec![0.0f32; 6],
        )
        .unwrap();
        let mask = descent_augment::image::Mask::new(3, 2, vec![0; 6]).unwrap();
        expect!(
            descent_augment::image::Sample::new(img).with_mask(mask),
            AugErr::Arg(_)
        )
    }),
    ("augment", "sanitize min_size NaN", || {
        let mut b = descent_augment::image::Boxes::new(
            descent_augment::image::BoxFormat::Xyxy,
            [4, 4],
            vec![[0.0; 4]],
        )
        .unwrap();
        expect!(
            b.sanitize(&descent_augment::image::SanitizeConfig {
                min_size: f64::NAN,
                min_area: 1.0
            }),
            AugErr::Arg(_)
        )
    }),
    ("augment", "singular perspective on boxes", || {
        let b = descent_augment::image::Boxes::new(
            descent_augment::image::BoxFormat::Xyxy,
            [4, 4],
            vec![[0.0, 0.0, 1.0, 1.0]],
        )
        .unwrap();
        expect!(
            descent_augment::image::functional::perspective_boxes(&b, [0.0; 8]),
            AugErr::Arg(_)
        )
    }),
    ("augment", "horizontal flip p = 1.5", || {
        expect!(
            descent_augment::image::HorizontalFlip::new(1.5),
            AugErr::Arg(_)
        )
    }),
    ("augment", "vertical flip p NaN", || {
        expect!(
            descent_augment::image::VerticalFlip::new(f64::NAN),
            AugErr::Arg(_)
        )
    }),
    ("augment", "random crop fill outside [0, 1]", || {
        expect!(
            descent_augment::image::RandomCrop::new(
                4,
                descent_augment::image::PadMode::Constant(2.0)
            ),
            AugErr::Arg(_)
        )
    }),
    ("augment", "random crop pad overflowing", || {
        expect!(
            descent_augment::image::RandomCrop::new(
                usize::MAX,
                descent_augment::image::PadMode::Reflect
            ),
            AugErr::Arg(_)
        )
    }),
    ("augment", "color jitter negative brightness", || {
        expect!(
            descent_augment::image::ColorJitter::new(descent_augment::image::ColorJitterConfig {
                brightness: -1.0,
                ..Default::default()
            }),
            AugErr::Arg(_)
        )
    }),
    ("augment", "mixup alpha 0", || {
        expect!(descent_augment::image::MixUp::new(0.0), AugErr::Arg(_))
    }),
    ("augment", "cutmix alpha NaN", || {
        expect!(
            descent_augment::image::CutMix::new(f64::NAN),
            AugErr::Arg(_)
        )
    }),
    ("augment", "autoaugment fill outside [0, 1]", || {
        expect!(
            descent_augment::image::AutoAugment::new(descent_augment::image::AutoAugmentConfig {
                fill: Some(1.5),
                ..Default::default()
            }),
            AugErr::Arg(ArgError { name: "fill", .. })
        )
    }),
    ("augment", "autoaugment draw outside the policy", || {
        let policy = descent_augment::image::AutoAugment::new(Default::default()).unwrap();
        let draw = descent_augment::image::AutoAugmentDraw {
            sub_policy: 99,
            ..Default::default()
        };
        expect!(
            policy.params_for(&draw, descent_augment::image::ImageShape::new(3, 4, 4)),
            AugErr::Arg(ArgError {
                name: "sub_policy",
                ..
            })
        )
    }),
    ("augment", "augmix severity 0", || {
        expect!(
            descent_augment::image::AugMix::new(descent_augment::image::AugMixConfig {
                severity: 0,
                ..Default::default()
            }),
            AugErr::Arg(ArgError {
                name: "severity",
                ..
            })
        )
    }),
    ("augment", "augmix mixture width 0", || {
        expect!(
            descent_augment::image::AugMix::new(descent_augment::image::AugMixConfig {
                mixture_width: 0,
                ..Default::default()
            }),
            AugErr::Arg(ArgError {
                name: "mixture_width",
                ..
            })
        )
    }),
    ("augment", "augmix alpha negative", || {
        expect!(
            descent_augment::image::AugMix::new(descent_augment::image::AugMixConfig {
                alpha: -1.0,
                ..Default::default()
            }),
            AugErr::Arg(ArgError { name: "alpha", .. })
        )
    }),
    ("augment", "gaussian noise negative sigma", || {
        expect!(
            descent_augment::image::GaussianNoiseImage::new(0.0, -1.0),
            AugErr::Arg(_)
        )
    }),
    ("augment", "random deletion p = -0.1", || {
        let words = vec!["a".to_string(), "b".to_string()];
        let mut rng = descent_augment::OpCtx::root(descent_augment::SampleKey::new(0, 0, 0)).rng();
        expect!(
            descent_augment::text::random_deletion(&words, -0.1, &mut rng),
            AugErr::Arg(_)
        )
    }),
    ("augment", "eda alpha_sr = 2", || {
        let mut rng = descent_augment::OpCtx::root(descent_augment::SampleKey::new(0, 0, 0)).rng();
        let cfg = descent_augment::text::EdaConfig {
            alpha_sr: 2.0,
            ..Default::default()
        };
        expect!(
            descent_augment::text::eda(
                "a movie",
                &descent_augment::text::Lexicon::embedded(),
                &cfg,
                &mut rng
            ),
            AugErr::Arg(_)
        )
    }),
    ("augment", "replay onto an image of the wrong size", || {
        let dims = descent_augment::image::ImageShape::new(1, 2, 2);
        expect!(
            descent_augment::image::replay(&[], dims, &mut [0.0; 3], &mut Vec::new()),
            AugErr::ShapeMismatch { .. }
        )
    }),
    ("augment", "replay of a crop overflowing the image", || {
        let dims = descent_augment::image::ImageShape::new(1, 2, 2);
        let p = descent_augment::image::DrawnParams::ResizedCrop {
            top: usize::MAX,
            left: 0,
            height: 2,
            width: 2,
        };
        expect!(
            descent_augment::image::replay(&[p], dims, &mut [0.0; 4], &mut Vec::new()),
            AugErr::Arg(_)
        )
    }),
    ("augment", "a WordNet word count beyond the line", || {
        let p = std::path::Path::new("data.noun");
        expect!(
            descent_augment::text::Lexicon::parse_wordnet(
                b"00000010 03 n ffffffff film 0\n",
                p,
                b"",
                p
            ),
            AugErr::Malformed { .. }
        )
    }),
    ("augment", "jpeg quality 0", || {
        let dims = descent_augment::image::ImageShape::new(3, 2, 2);
        expect!(
            descent_augment::image::jpeg(dims, &mut [0.5; 12], 0),
            AugErr::Arg(_)
        )
    }),
    ("augment", "Jpeg quality range 90..=50", || {
        expect!(descent_augment::image::Jpeg::new(90, 50), AugErr::Arg(_))
    }),
    ("augment", "replay of a JPEG quality 101", || {
        let dims = descent_augment::image::ImageShape::new(1, 2, 2);
        let p = descent_augment::image::DrawnParams::Jpeg { quality: 101 };
        expect!(
            descent_augment::image::replay(&[p], dims, &mut [0.0; 4], &mut Vec::new()),
            AugErr::Arg(_)
        )
    }),
    ("augment", "aeda punc_ratio = 1.5", || {
        let mut rng = descent_augment::OpCtx::root(descent_augment::SampleKey::new(0, 0, 0)).rng();
        let cfg = descent_augment::text::AedaConfig { punc_ratio: 1.5 };
        expect!(
            descent_augment::text::aeda("a movie", &cfg, &mut rng),
            AugErr::Arg(_)
        )
    }),
    (
        "augment",
        "an exception-list line without a base form",
        || {
            let mut lex = descent_augment::text::Lexicon::embedded();
            expect!(
                lex.add_exceptions(
                    descent_augment::text::Pos::Verb,
                    "went\n",
                    std::path::Path::new("verb.exc")
                ),
                AugErr::Malformed { .. }
            )
        },
    ),
    // hpo
    ("hpo", "float range low > high", || {
        expect!(
            descent_hpo::SearchSpace::new().float("x", 1.0, 0.0),
            HpoErr::EmptyRange { .. }
        )
    }),
    ("hpo", "float range with NaN", || {
        expect!(
            descent_hpo::SearchSpace::new().float("x", f64::NAN, 1.0),
            HpoErr::EmptyRange { .. }
        )
    }),
    ("hpo", "log range from 0", || {
        expect!(
            descent_hpo::SearchSpace::new().float_log("lr", 0.0, 1.0),
            HpoErr::NonPositiveLog { .. }
        )
    }),
    ("hpo", "int step 0", || {
        expect!(
            descent_hpo::SearchSpace::new().int("n", 1, 10, 0),
            HpoErr::InvalidStep { .. }
        )
    }),
    ("hpo", "empty categorical", || {
        expect!(
            descent_hpo::SearchSpace::new().categorical::<&str>("opt", []),
            HpoErr::EmptyCategorical { .. }
        )
    }),
    // core
    ("core", "a name registered twice", || {
        let mut s = store();
        expect!(
            s.register("w", Tags::WEIGHT, DMatrix::zeros(1, 1)),
            descent_core::Error::DuplicateName { .. }
        )
    }),
    ("core", "set_value of another shape", || {
        let mut s = store();
        let id = s.id("w").unwrap();
        expect!(
            s.params_mut().set_value(id, DMatrix::zeros(3, 1)),
            descent_core::Error::ShapeMismatch { .. }
        )
    }),
    ("core", "an empty parameter name", || {
        expect!(
            store().register("", Tags::WEIGHT, DMatrix::zeros(1, 1)),
            descent_core::Error::InvalidName { .. }
        )
    }),
    ("nn", "an AveragedModel EMA decay above 1", || {
        let cfg = descent_nn::AveragedModelConfig {
            avg_fn: descent_nn::AvgFn::EmaMulti { decay: 1.5 },
            use_buffers: false,
        };
        expect!(
            descent_nn::AveragedModel::new(&model(4), cfg),
            descent_nn::Error::Arg(ArgError { name: "decay", .. })
        )
    }),
    ("nn", "averaging a model of another shape", || {
        let mut avg = descent_nn::AveragedModel::new(&model(4), Default::default()).unwrap();
        expect!(
            avg.update_parameters(&model(5)),
            descent_nn::Error::StateMismatch { .. }
        )
    }),
    ("schedule", "SWALR with a negative swa_lr", || {
        expect!(
            descent_schedule::Swalr::new(0.1, -0.01, 10, descent_schedule::AnnealStrategy::Cos),
            descent_schedule::Error::Arg(ArgError { name: "swa_lr", reason, .. }) if reason == "must not be negative"
        )
    }),
    ("optim", "SAM with a negative rho", || {
        let cfg = descent_optim::SamConfig {
            rho: -0.05,
            adaptive: false,
        };
        expect!(
            descent_optim::SamPerturbation::new(store().params(), cfg),
            descent_optim::Error::Arg(ArgError { name: "rho", .. })
        )
    }),
    ("optim", "a layer decay above 1", || {
        expect!(
            descent_optim::ParamGroups::layer_decay(&store(), SgdConfig::default(), 2.0, 1, |_| 0),
            descent_optim::Error::Arg(ArgError {
                name: "layer_decay",
                ..
            })
        )
    }),
];

#[test]
fn every_invalid_argument_is_a_typed_error_never_a_panic() {
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures = Vec::new();
    for (krate, what, row) in ROWS {
        match catch_unwind(AssertUnwindSafe(row)) {
            Ok(Ok(())) => {}
            Ok(Err(why)) => failures.push(format!("{krate}: {what}: {why}")),
            Err(_) => failures.push(format!("{krate}: {what}: PANICKED")),
        }
    }
    std::panic::set_hook(quiet);
    let crates: std::collections::BTreeSet<_> = ROWS.iter().map(|r| r.0).collect();
    eprintln!(
        "{} invalid arguments across {} crates",
        ROWS.len(),
        crates.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        ROWS.len(),
        failures.join("\n")
    );
}
