use super::*;
use crate::ArgError;
use crate::SampleKey;
use crate::image::functional::{self as F, Image};
use crate::image::testutil::image;
use crate::image::{BatchConfig, apply_batch, batch_params, replay_batch};
use proptest::prelude::*;

fn test_image(dims: ImageShape) -> Vec<f32> {
    (0..dims.len())
        .map(|i| ((i * 29 + 7) % 97) as f32 / 96.0)
        .collect()
}

#[test]
fn a_forced_mixture_is_the_functional_ops_mixed_by_hand() {
    let dims = ImageShape::new(3, 8, 9);
    let bilinear = Interpolation::Bilinear;
    let draw = AugMixDraw {
        original_weight: 0.25,
        chain_weights: vec![0.5, 0.25],
        chains: vec![
            vec![PolicyOp::ShearY.params(0.2, bilinear, None)],
            vec![
                PolicyOp::Posterize.params(2.0, bilinear, None),
                PolicyOp::Rotate.params(-12.0, bilinear, None),
            ],
        ],
    };
    let mut ours = test_image(dims);
    draw.apply(dims, &mut ours, &mut Vec::new()).unwrap();

    let img = Image::new(dims, test_image(dims)).unwrap();
    let deg = 0.2f64.atan().to_degrees() as f32 as f64;
    let chain0 = F::affine_about(
        &img,
        0.0,
        [0.0; 2],
        1.0,
        [0.0, deg],
        [0.0; 2],
        bilinear,
        None,
    )
    .unwrap();
    let chain1 = F::rotate(&F::posterize(&img, 2).unwrap(), -12.0, bilinear, None).unwrap();
    let by_hand: Vec<f32> = (0..dims.len())
        .map(|k| {
            let mut m = 0.25 * img.data()[k];
            m += 0.5 * chain0.data()[k];
            m += 0.25 * chain1.data()[k];
            m.clamp(0.0, 1.0)
        })
        .collect();
    assert_eq!(ours, by_hand);
}

#[test]
fn a_logged_augmix_is_the_mixture_its_seed_draws() {
    let dims = ImageShape::new(3, 6, 6);
    let augmix = AugMix::new(AugMixConfig::default()).unwrap();
    let key = SampleKey::new(1, 2, 3);
    let params = augmix.params(key, dims);
    let [DrawnParams::AugMix { seed, config }] = params[..] else {
        panic!("one AugMix entry, got {params:?}")
    };
    assert_eq!(config, AugMixConfig::default());
    let mut a = test_image(dims);
    augmix.apply(key, dims, &mut a, &mut Vec::new()).unwrap();
    let mut b = test_image(dims);
    augmix
        .mixture(seed, dims)
        .apply(dims, &mut b, &mut Vec::new())
        .unwrap();
    assert_eq!(a, b);
}

#[test]
fn weights_follow_beta_and_dirichlet_and_depths_are_uniform() {
    let dims = ImageShape::new(3, 12, 12);
    let augmix = AugMix::new(AugMixConfig::default()).unwrap();
    let n = 4000;
    let (mut m0, mut m0_sq, mut w0) = (0.0f64, 0.0f64, 0.0f64);
    let mut depths = [0usize; 4];
    for seed in 0..n {
        let d = augmix.mixture(seed, dims);
        let total = d.original_weight + d.chain_weights.iter().sum::<f32>();
        assert!((total - 1.0).abs() < 1e-5, "weights sum to {total}");
        m0 += d.original_weight as f64;
        m0_sq += (d.original_weight as f64).powi(2);
        w0 += d.chain_weights[0] as f64;
        for chain in &d.chains {
            depths[chain.len()] += 1;
        }
    }
    let n = n as f64;
    // Beta(1, 1): mean 1/2, variance 1/12; a chain's weight: (1/3)·(1/2).
    assert!((m0 / n - 0.5).abs() < 0.02, "{}", m0 / n);
    assert!((m0_sq / n - (m0 / n).powi(2) - 1.0 / 12.0).abs() < 0.01);
    assert!((w0 / n - 1.0 / 6.0).abs() < 0.01, "{}", w0 / n);
    assert_eq!(depths[0], 0);
    for d in &depths[1..] {
        let share = *d as f64 / (3.0 * n);
        assert!((share - 1.0 / 3.0).abs() < 0.02, "{depths:?}");
    }
}

#[test]
fn severity_bounds_the_bins_and_all_ops_false_leaves_out_colour() {
    let dims = ImageShape::new(3, 30, 30);
    let config = AugMixConfig {
        severity: 1,
        all_ops: false,
        chain_depth: 3,
        ..Default::default()
    };
    let augmix = AugMix::new(config).unwrap();
    for seed in 0..300 {
        for p in augmix.mixture(seed, dims).chains.iter().flatten() {
            match *p {
                // Bin 0 only: every magnitude is its space's first value.
                DrawnParams::Affine(a) => {
                    assert_eq!(
                        (a.angle, a.translate, a.shear),
                        (0.0, [0.0; 2], [0.0; 2]),
                        "{p:?}"
                    )
                }
                DrawnParams::Posterize { bits } => assert_eq!(bits, 4),
                DrawnParams::Solarize { threshold } => assert_eq!(threshold, 1.0),
                DrawnParams::Identity | DrawnParams::AutoContrast | DrawnParams::Equalize => {}
                _ => panic!("{p:?} is outside AugMix's partial space"),
            }
        }
        assert!(
            augmix
                .mixture(seed, dims)
                .chains
                .iter()
                .all(|c| c.len() == 3)
        );
    }
}

#[test]
fn bad_settings_are_typed_errors() {
    let bad = [
        AugMixConfig {
            severity: 0,
            ..Default::default()
        },
        AugMixConfig {
            severity: 11,
            ..Default::default()
        },
        AugMixConfig {
            mixture_width: 0,
            ..Default::default()
        },
        AugMixConfig {
            mixture_width: MAX_AUGMIX_WIDTH + 1,
            ..Default::default()
        },
        AugMixConfig {
            chain_depth: MAX_AUGMIX_CHAIN_DEPTH + 1,
            ..Default::default()
        },
        AugMixConfig {
            alpha: 0.0,
            ..Default::default()
        },
        AugMixConfig {
            alpha: f64::NAN,
            ..Default::default()
        },
        AugMixConfig {
            fill: Some(-0.5),
            ..Default::default()
        },
    ];
    let dims = ImageShape::new(1, 2, 2);
    for config in bad {
        assert!(
            matches!(AugMix::new(config), Err(Error::Arg(ArgError { .. }))),
            "{config:?}"
        );
        let mut img = vec![0.5; 4];
        let logged = [DrawnParams::AugMix { seed: 1, config }];
        let err = crate::image::replay(&logged, dims, &mut img, &mut Vec::new());
        assert!(
            matches!(err, Err(Error::Arg(ArgError { .. }))),
            "{config:?}"
        );
        assert_eq!(img, [0.5; 4]);
    }
    let draw = AugMixDraw {
        original_weight: 1.0,
        chain_weights: vec![0.0],
        chains: vec![],
    };
    assert!(matches!(
        draw.apply(dims, &mut [0.5; 4], &mut Vec::new()),
        Err(Error::ShapeMismatch { .. })
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn augmix_keeps_shape_and_range_and_replays(
        (dims, img) in image(), seed in 0u64..1000, severity in 1u8..=10, width in 1usize..4,
        depth in -1i32..4, all_ops: bool, fill in proptest::option::of(0.0f32..=1.0),
    ) {
        let config = AugMixConfig { severity, mixture_width: width, chain_depth: depth, all_ops, fill, ..Default::default() };
        let op = AugMix::new(config).unwrap();
        let indices = [2usize, 4];
        let batch_config = BatchConfig::new(seed, 0).with_threads(1);
        let mut batch: Vec<f32> = indices.iter().flat_map(|_| img.iter().copied()).collect();
        let original = batch.clone();
        apply_batch(&op, dims, &mut batch, &indices, &batch_config).unwrap();
        prop_assert!(batch.iter().all(|v| (0.0..=1.0).contains(v)));
        let mut again = original.clone();
        apply_batch(&op, dims, &mut again, &indices, &batch_config).unwrap();
        prop_assert!(again.iter().zip(&batch).all(|(a, b)| a.to_bits() == b.to_bits()));
        let log = batch_params(&op, dims, &indices, &batch_config);
        let json = serde_json::to_string(&log).unwrap();
        let log: Vec<Vec<DrawnParams>> = serde_json::from_str(&json).unwrap();
        let mut replayed = original;
        replay_batch(&log, dims, &mut replayed).unwrap();
        prop_assert!(replayed.iter().zip(&batch).all(|(a, b)| a.to_bits() == b.to_bits()));
    }
}
