use super::*;
use crate::ArgError;
use crate::SampleKey;
use crate::image::functional::{self as F, Image};
use crate::image::testutil::image;
use crate::image::{BatchConfig, apply_batch, batch_params, replay, replay_batch};
use proptest::prelude::*;

/// torchvision v2 `AutoAugment._get_policies`, copied entry by entry
/// (`(transform_id, probability, magnitude_idx)` pairs).
#[rustfmt::skip]
mod torchvision {
    pub const TV_IMAGENET: [[(&str, f32, Option<u8>); 2]; 25] = [
        [("Posterize", 0.4, Some(8)), ("Rotate", 0.6, Some(9))],
        [("Solarize", 0.6, Some(5)), ("AutoContrast", 0.6, None)],
        [("Equalize", 0.8, None), ("Equalize", 0.6, None)],
        [("Posterize", 0.6, Some(7)), ("Posterize", 0.6, Some(6))],
        [("Equalize", 0.4, None), ("Solarize", 0.2, Some(4))],
        [("Equalize", 0.4, None), ("Rotate", 0.8, Some(8))],
        [("Solarize", 0.6, Some(3)), ("Equalize", 0.6, None)],
        [("Posterize", 0.8, Some(5)), ("Equalize", 1.0, None)],
        [("Rotate", 0.2, Some(3)), ("Solarize", 0.6, Some(8))],
        [("Equalize", 0.6, None), ("Posterize", 0.4, Some(6))],
        [("Rotate", 0.8, Some(8)), ("Color", 0.4, Some(0))],
        [("Rotate", 0.4, Some(9)), ("Equalize", 0.6, None)],
        [("Equalize", 0.0, None), ("Equalize", 0.8, None)],
        [("Invert", 0.6, None), ("Equalize", 1.0, None)],
        [("Color", 0.6, Some(4)), ("Contrast", 1.0, Some(8))],
        [("Rotate", 0.8, Some(8)), ("Color", 1.0, Some(2))],
        [("Color", 0.8, Some(8)), ("Solarize", 0.8, Some(7))],
        [("Sharpness", 0.4, Some(7)), ("Invert", 0.6, None)],
        [("ShearX", 0.6, Some(5)), ("Equalize", 1.0, None)],
        [("Color", 0.4, Some(0)), ("Equalize", 0.6, None)],
        [("Equalize", 0.4, None), ("Solarize", 0.2, Some(4))],
        [("Solarize", 0.6, Some(5)), ("AutoContrast", 0.6, None)],
        [("Invert", 0.6, None), ("Equalize", 1.0, None)],
        [("Color", 0.6, Some(4)), ("Contrast", 1.0, Some(8))],
        [("Equalize", 0.8, None), ("Equalize", 0.6, None)],
    ];

    pub const TV_CIFAR10: [[(&str, f32, Option<u8>); 2]; 25] = [
        [("Invert", 0.1, None), ("Contrast", 0.2, Some(6))],
        [("Rotate", 0.7, Some(2)), ("TranslateX", 0.3, Some(9))],
        [("Sharpness", 0.8, Some(1)), ("Sharpness", 0.9, Some(3))],
        [("ShearY", 0.5, Some(8)), ("TranslateY", 0.7, Some(9))],
        [("AutoContrast", 0.5, None), ("Equalize", 0.9, None)],
        [("ShearY", 0.2, Some(7)), ("Posterize", 0.3, Some(7))],
        [("Color", 0.4, Some(3)), ("Brightness", 0.6, Some(7))],
        [("Sharpness", 0.3, Some(9)), ("Brightness", 0.7, Some(9))],
        [("Equalize", 0.6, None), ("Equalize", 0.5, None)],
        [("Contrast", 0.6, Some(7)), ("Sharpness", 0.6, Some(5))],
        [("Color", 0.7, Some(7)), ("TranslateX", 0.5, Some(8))],
        [("Equalize", 0.3, None), ("AutoContrast", 0.4, None)],
        [("TranslateY", 0.4, Some(3)), ("Sharpness", 0.2, Some(6))],
        [("Brightness", 0.9, Some(6)), ("Color", 0.2, Some(8))],
        [("Solarize", 0.5, Some(2)), ("Invert", 0.0, None)],
        [("Equalize", 0.2, None), ("AutoContrast", 0.6, None)],
        [("Equalize", 0.2, None), ("Equalize", 0.6, None)],
        [("Color", 0.9, Some(9)), ("Equalize", 0.6, None)],
        [("AutoContrast", 0.8, None), ("Solarize", 0.2, Some(8))],
        [("Brightness", 0.1, Some(3)), ("Color", 0.7, Some(0))],
        [("Solarize", 0.4, Some(5)), ("AutoContrast", 0.9, None)],
        [("TranslateY", 0.9, Some(9)), ("TranslateY", 0.7, Some(9))],
        [("AutoContrast", 0.9, None), ("Solarize", 0.8, Some(3))],
        [("Equalize", 0.8, None), ("Invert", 0.1, None)],
        [("TranslateY", 0.7, Some(9)), ("AutoContrast", 0.9, None)],
    ];

    pub const TV_SVHN: [[(&str, f32, Option<u8>); 2]; 25] = [
        [("ShearX", 0.9, Some(4)), ("Invert", 0.2, None)],
        [("ShearY", 0.9, Some(8)), ("Invert", 0.7, None)],
        [("Equalize", 0.6, None), ("Solarize", 0.6, Some(6))],
        [("Invert", 0.9, None), ("Equalize", 0.6, None)],
        [("Equalize", 0.6, None), ("Rotate", 0.9, Some(3))],
        [("ShearX", 0.9, Some(4)), ("AutoContrast", 0.8, None)],
        [("ShearY", 0.9, Some(8)), ("Invert", 0.4, None)],
        [("ShearY", 0.9, Some(5)), ("Solarize", 0.2, Some(6))],
        [("Invert", 0.9, None), ("AutoContrast", 0.8, None)],
        [("Equalize", 0.6, None), ("Rotate", 0.9, Some(3))],
        [("ShearX", 0.9, Some(4)), ("Solarize", 0.3, Some(3))],
        [("ShearY", 0.8, Some(8)), ("Invert", 0.7, None)],
        [("Equalize", 0.9, None), ("TranslateY", 0.6, Some(6))],
        [("Invert", 0.9, None), ("Equalize", 0.6, None)],
        [("Contrast", 0.3, Some(3)), ("Rotate", 0.8, Some(4))],
        [("Invert", 0.8, None), ("TranslateY", 0.0, Some(2))],
        [("ShearY", 0.7, Some(6)), ("Solarize", 0.4, Some(8))],
        [("Invert", 0.6, None), ("Rotate", 0.8, Some(4))],
        [("ShearY", 0.3, Some(7)), ("TranslateX", 0.9, Some(3))],
        [("ShearX", 0.1, Some(6)), ("Invert", 0.6, None)],
        [("Solarize", 0.7, Some(2)), ("TranslateY", 0.6, Some(7))],
        [("ShearY", 0.8, Some(4)), ("Invert", 0.8, None)],
        [("ShearX", 0.7, Some(9)), ("TranslateY", 0.8, Some(3))],
        [("ShearY", 0.8, Some(5)), ("AutoContrast", 0.7, None)],
        [("ShearX", 0.7, Some(2)), ("Invert", 0.1, None)],
    ];
}

#[test]
fn the_policy_tables_are_torchvisions_entry_by_entry() {
    let cases = [
        (AutoAugmentPolicy::ImageNet, &torchvision::TV_IMAGENET),
        (AutoAugmentPolicy::Cifar10, &torchvision::TV_CIFAR10),
        (AutoAugmentPolicy::Svhn, &torchvision::TV_SVHN),
    ];
    for (policy, expected) in cases {
        let ours = policy.sub_policies();
        assert_eq!(ours.len(), expected.len(), "{policy:?}");
        for (i, (sub, tv)) in ours.iter().zip(expected.iter()).enumerate() {
            for (step, &(name, p, bin)) in sub.iter().zip(tv) {
                let got = (step.op.name(), step.probability, step.magnitude_bin);
                assert_eq!(got, (name, p, bin), "{policy:?} sub-policy {i}");
            }
        }
    }
}

#[test]
fn magnitudes_are_torchvisions_ten_bins() {
    let dims = ImageShape::new(3, 20, 32);
    let at = |op, bin| space(op).0.at(bin, AUTOAUGMENT_NUM_BINS, dims).unwrap();
    // torch.linspace(0.0, 0.3, 10)[4], (0.0, 30.0)[9], (1.0, 0.0)[3]
    assert_eq!(at(PolicyOp::ShearX, 4), 0.3f32 / 9.0 * 4.0);
    assert_eq!(at(PolicyOp::Rotate, 9), 30.0);
    assert_eq!(at(PolicyOp::Solarize, 3), 1.0 - 3.0 * (1.0f32 / 9.0));
    // torch.linspace(0.0, 150.0 / 331.0 * width, 10)[9] and height
    assert_eq!(
        at(PolicyOp::TranslateX, 9),
        (150.0 / 331.0 * 32.0f64) as f32
    );
    assert_eq!(
        at(PolicyOp::TranslateY, 9),
        (150.0 / 331.0 * 20.0f64) as f32
    );
    assert_eq!(at(PolicyOp::Posterize, 7), 5.0);
    for op in [PolicyOp::AutoContrast, PolicyOp::Equalize, PolicyOp::Invert] {
        assert_eq!(space(op), (Bins::None, false));
    }
    let signed = [
        PolicyOp::ShearX,
        PolicyOp::ShearY,
        PolicyOp::TranslateX,
        PolicyOp::TranslateY,
        PolicyOp::Rotate,
        PolicyOp::Brightness,
        PolicyOp::Color,
        PolicyOp::Contrast,
        PolicyOp::Sharpness,
    ];
    for op in signed {
        assert!(space(op).1, "{op:?}");
    }
    assert!(!space(PolicyOp::Posterize).1 && !space(PolicyOp::Solarize).1);
}

fn test_image(dims: ImageShape) -> Vec<f32> {
    (0..dims.len())
        .map(|i| ((i * 37 + 11) % 101) as f32 / 100.0)
        .collect()
}

fn replayed(policy: &AutoAugment, draw: AutoAugmentDraw, dims: ImageShape) -> Vec<f32> {
    let mut out = test_image(dims);
    let params = policy.params_for(&draw, dims).unwrap();
    replay(&params, dims, &mut out, &mut Vec::new()).unwrap();
    out
}

#[test]
fn a_forced_svhn_sub_policy_is_the_functional_ops_composed_by_hand() {
    // SVHN sub-policy 0: (ShearX, 0.9, 4), (Invert, 0.2, None); the shear negated.
    let dims = ImageShape::new(3, 9, 11);
    let policy = AutoAugment::new(AutoAugmentConfig {
        policy: AutoAugmentPolicy::Svhn,
        ..Default::default()
    })
    .unwrap();
    let draw = AutoAugmentDraw {
        sub_policy: 0,
        applied: [true, true],
        negated: [true, false],
    };
    let m = -(0.3f32 / 9.0 * 4.0);
    // DrawnParams hold f32 degrees.
    let deg = (m as f64).atan().to_degrees() as f32 as f64;
    let img = Image::new(dims, test_image(dims)).unwrap();
    let sheared = F::affine_about(
        &img,
        0.0,
        [0.0; 2],
        1.0,
        [deg, 0.0],
        [0.0, 0.0],
        Interpolation::Nearest,
        None,
    )
    .unwrap();
    let by_hand = F::invert(&sheared);
    assert_eq!(replayed(&policy, draw, dims), by_hand.into_data());
}

#[test]
fn a_forced_cifar10_sub_policy_is_the_functional_ops_composed_by_hand() {
    // CIFAR-10 sub-policy 1: (Rotate, 0.7, 2), (TranslateX, 0.3, 9); the translation negated.
    let dims = ImageShape::new(3, 10, 12);
    let config = AutoAugmentConfig {
        policy: AutoAugmentPolicy::Cifar10,
        interpolation: Interpolation::Bilinear,
        fill: Some(0.25),
    };
    let policy = AutoAugment::new(config).unwrap();
    let draw = AutoAugmentDraw {
        sub_policy: 1,
        applied: [true, true],
        negated: [false, true],
    };
    let angle = 30.0f32 / 9.0 * 2.0;
    let shift = -((150.0 / 331.0 * 12.0f64) as f32).trunc();
    let img = Image::new(dims, test_image(dims)).unwrap();
    let fill = Some(&[0.25f32][..]);
    let rotated = F::rotate(&img, angle as f64, Interpolation::Bilinear, fill).unwrap();
    let by_hand = F::affine(
        &rotated,
        0.0,
        [shift as f64, 0.0],
        1.0,
        [0.0; 2],
        Interpolation::Bilinear,
        fill,
    )
    .unwrap();
    assert_eq!(replayed(&policy, draw, dims), by_hand.into_data());
    // Only the second step applied.
    let second = AutoAugmentDraw {
        applied: [false, true],
        ..draw
    };
    let translated = F::affine(
        &img,
        0.0,
        [shift as f64, 0.0],
        1.0,
        [0.0; 2],
        Interpolation::Bilinear,
        fill,
    )
    .unwrap();
    assert_eq!(replayed(&policy, second, dims), translated.into_data());
}

#[test]
fn a_forced_imagenet_colour_sub_policy_is_the_functional_ops_composed_by_hand() {
    // ImageNet sub-policy 14: (Color, 0.6, 4), (Contrast, 1.0, 8); colour negated.
    let dims = ImageShape::new(3, 6, 7);
    let policy = AutoAugment::new(AutoAugmentConfig::default()).unwrap();
    let draw = AutoAugmentDraw {
        sub_policy: 14,
        applied: [true, true],
        negated: [true, false],
    };
    let (m1, m2) = (0.9f32 / 9.0 * 4.0, 0.9f32 - 0.9f32 / 9.0);
    let img = Image::new(dims, test_image(dims)).unwrap();
    let saturated = F::adjust_saturation(&img, (1.0 - m1) as f64).unwrap();
    let by_hand = F::adjust_contrast(&saturated, (1.0 + m2) as f64).unwrap();
    assert_eq!(replayed(&policy, draw, dims), by_hand.into_data());
}

#[test]
fn a_draw_outside_the_policy_is_a_typed_error() {
    let policy = AutoAugment::new(AutoAugmentConfig::default()).unwrap();
    let draw = AutoAugmentDraw {
        sub_policy: 25,
        ..Default::default()
    };
    let err = policy.params_for(&draw, ImageShape::new(1, 2, 2));
    assert!(matches!(
        err,
        Err(Error::Arg(ArgError {
            name: "sub_policy",
            ..
        }))
    ));
}

#[test]
fn every_sub_policy_is_drawn_and_step_probabilities_hold() {
    let policy = AutoAugment::new(AutoAugmentConfig::default()).unwrap();
    let n = 20_000;
    let mut seen = [0usize; 25];
    let mut applied = [[0usize; 2]; 25];
    for i in 0..n {
        let d = policy.choose(OpCtx::root(SampleKey::new(3, 0, i)));
        seen[d.sub_policy] += 1;
        for k in 0..2 {
            applied[d.sub_policy][k] += d.applied[k] as usize;
        }
    }
    for (s, sub) in AutoAugmentPolicy::ImageNet
        .sub_policies()
        .iter()
        .enumerate()
    {
        // 800 expected per sub-policy; 5 standard deviations is about ±140.
        assert!(
            (600..1000).contains(&seen[s]),
            "sub-policy {s}: {}",
            seen[s]
        );
        for k in 0..2 {
            let rate = applied[s][k] as f32 / seen[s] as f32;
            assert!((rate - sub[k].probability).abs() < 0.09, "{s}/{k}: {rate}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn autoaugment_keeps_shape_and_range_and_replays(
        (dims, img) in image(), seed in 0u64..1000, policy in 0usize..3, bilinear: bool,
        fill in proptest::option::of(0.0f32..=1.0),
    ) {
        let policy = [AutoAugmentPolicy::ImageNet, AutoAugmentPolicy::Cifar10, AutoAugmentPolicy::Svhn][policy];
        let interpolation = if bilinear { Interpolation::Bilinear } else { Interpolation::Nearest };
        let op = AutoAugment::new(AutoAugmentConfig { policy, interpolation, fill }).unwrap();
        let indices = [0usize, 5, 9];
        let config = BatchConfig::new(seed, 1).with_threads(1);
        let mut batch: Vec<f32> = indices.iter().flat_map(|_| img.iter().copied()).collect();
        let original = batch.clone();
        apply_batch(&op, dims, &mut batch, &indices, &config).unwrap();
        prop_assert_eq!(batch.len(), original.len());
        prop_assert!(batch.iter().all(|v| (0.0..=1.0).contains(v)));
        // Same seed, same output.
        let mut again = original.clone();
        apply_batch(&op, dims, &mut again, &indices, &config).unwrap();
        prop_assert!(again.iter().zip(&batch).all(|(a, b)| a.to_bits() == b.to_bits()));
        // The logged parameters replay to the same bits.
        let log = batch_params(&op, dims, &indices, &config);
        let json = serde_json::to_string(&log).unwrap();
        let log: Vec<Vec<DrawnParams>> = serde_json::from_str(&json).unwrap();
        let mut replayed = original;
        replay_batch(&log, dims, &mut replayed).unwrap();
        prop_assert!(replayed.iter().zip(&batch).all(|(a, b)| a.to_bits() == b.to_bits()));
    }
}

#[test]
fn the_default_config_is_torchvisions_and_fills_in_absent_fields() {
    let c = AutoAugmentConfig::default();
    assert_eq!(
        (c.policy, c.interpolation, c.fill),
        (AutoAugmentPolicy::ImageNet, Interpolation::Nearest, None)
    );
    let back: AutoAugmentConfig = serde_json::from_str(r#"{"policy": "svhn"}"#).unwrap();
    assert_eq!(
        back,
        AutoAugmentConfig {
            policy: AutoAugmentPolicy::Svhn,
            ..c
        }
    );
}
