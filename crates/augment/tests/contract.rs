//! The contract every `ImageAugment` keeps, checked over a table of every
//! built-in op (the optimizer and schedule contract tables' counterpart):
//! - shape: an op keeps the image's length, and refuses a buffer of the
//!   wrong length with `Error::ShapeMismatch`, leaving it unchanged;
//! - range: values in [0, 1] stay in [0, 1] (a blur within an ulp, as
//!   torchvision does not clamp);
//! - determinism: the same `(seed, epoch, index)` gives the same bits, and
//!   the drawn parameters are a function of the key alone;
//! - replay: `replay` of the drawn `DrawnParams` gives the bits `apply` gave.

use descent_augment::image::*;
use descent_augment::{Error, SampleKey};
use proptest::prelude::*;

/// Every built-in op, by name.
fn ops() -> Vec<(&'static str, Box<dyn ImageAugment>)> {
    vec![
        (
            "HorizontalFlip",
            Box::new(HorizontalFlip::new(0.5).unwrap()),
        ),
        ("VerticalFlip", Box::new(VerticalFlip::new(0.5).unwrap())),
        (
            "RandomCrop",
            Box::new(RandomCrop::new(2, PadMode::Symmetric).unwrap()),
        ),
        (
            "RandomResizedCrop",
            Box::new(RandomResizedCrop::new(RandomResizedCropConfig::default()).unwrap()),
        ),
        (
            "RandomAffine",
            Box::new(
                RandomAffine::new(RandomAffineConfig {
                    degrees: (-20.0, 20.0),
                    shear: (-5.0, 5.0),
                    ..Default::default()
                })
                .unwrap(),
            ),
        ),
        (
            "ColorJitter",
            Box::new(
                ColorJitter::new(ColorJitterConfig {
                    brightness: 0.3,
                    contrast: 0.3,
                    saturation: 0.3,
                    hue: 0.1,
                })
                .unwrap(),
            ),
        ),
        ("ChannelShift", Box::new(ChannelShift::new(0.1).unwrap())),
        (
            "RandomGrayscale",
            Box::new(RandomGrayscale::new(0.5).unwrap()),
        ),
        (
            "GaussianNoise",
            Box::new(GaussianNoiseImage::new(0.0, 0.05).unwrap()),
        ),
        ("Cutout", Box::new(Cutout::new(2, 0.5).unwrap())),
        (
            "RandomErasing",
            Box::new(RandomErasing::new(RandomErasingConfig::default()).unwrap()),
        ),
        (
            "GaussianBlur",
            Box::new(GaussianBlur::new([3, 3], (0.1, 2.0)).unwrap()),
        ),
        ("Jpeg", Box::new(Jpeg::new(40, 90).unwrap())),
        (
            "RandomPerspective",
            Box::new(RandomPerspective::new(0.5, 0.5, Interpolation::Nearest, 0.0).unwrap()),
        ),
        (
            "ElasticTransform",
            Box::new(
                ElasticTransform::new(ElasticTransformConfig {
                    alpha: [5.0, 5.0],
                    sigma: [1.0, 1.0],
                    ..Default::default()
                })
                .unwrap(),
            ),
        ),
        ("RandomInvert", Box::new(RandomInvert::new(0.5).unwrap())),
        (
            "RandomPosterize",
            Box::new(RandomPosterize::new(4, 0.5).unwrap()),
        ),
        (
            "RandomSolarize",
            Box::new(RandomSolarize::new(0.7, 0.5).unwrap()),
        ),
        (
            "RandomEqualize",
            Box::new(RandomEqualize::new(0.5).unwrap()),
        ),
        (
            "RandomAutocontrast",
            Box::new(RandomAutocontrast::new(0.5).unwrap()),
        ),
        (
            "RandomAdjustSharpness",
            Box::new(RandomAdjustSharpness::new(2.0, 0.5).unwrap()),
        ),
        (
            "RandAugment",
            Box::new(RandAugment::new(RandAugmentConfig::default()).unwrap()),
        ),
        (
            "TrivialAugmentWide",
            Box::new(TrivialAugmentWide::new(0.0).unwrap()),
        ),
        (
            "AutoAugment",
            Box::new(AutoAugment::new(AutoAugmentConfig::default()).unwrap()),
        ),
        (
            "AugMix",
            Box::new(AugMix::new(AugMixConfig::default()).unwrap()),
        ),
        (
            "RandomApply",
            Box::new(RandomApply::new(Box::new(RandomInvert::new(1.0).unwrap()), 0.5).unwrap()),
        ),
        (
            "OneOf",
            Box::new(
                OneOf::new(vec![
                    Box::new(HorizontalFlip::new(1.0).unwrap()),
                    Box::new(VerticalFlip::new(1.0).unwrap()),
                ])
                .unwrap(),
            ),
        ),
        (
            "RandomOrder",
            Box::new(
                RandomOrder::new(vec![
                    Box::new(RandomInvert::new(0.5).unwrap()),
                    Box::new(RandomGrayscale::new(0.5).unwrap()),
                ])
                .unwrap(),
            ),
        ),
    ]
}

/// RGB images of 8 to 12 pixels a side, values in [0, 1].
fn image() -> impl Strategy<Value = (ImageShape, Vec<f32>)> {
    (8usize..=12, 8usize..=12).prop_flat_map(|(h, w)| {
        let dims = ImageShape::new(3, h, w);
        (
            Just(dims),
            proptest::collection::vec(0.0f32..=1.0, dims.len()),
        )
    })
}

/// How far past [0, 1] a value may land: an ulp, for the blur.
const RANGE_SLACK: f32 = f32::EPSILON;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn every_image_op_keeps_the_contract(
        (dims, img) in image(),
        seed in 0u64..1000,
        epoch in 0u64..5,
        index in 0u64..1000,
    ) {
        let key = SampleKey::new(seed, epoch, index);
        let mut scratch = Vec::new();
        for (name, op) in ops() {
            let mut a = img.clone();
            op.apply(key, dims, &mut a, &mut scratch).unwrap();
            prop_assert_eq!(a.len(), img.len(), "{}: length", name);
            prop_assert!(
                a.iter().all(|v| (-RANGE_SLACK..=1.0 + RANGE_SLACK).contains(v)),
                "{}: a value left [0, 1]", name
            );
            let mut b = img.clone();
            op.apply(key, dims, &mut b, &mut scratch).unwrap();
            prop_assert!(
                a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
                "{}: the same key gave other bits", name
            );
            let params = op.params(key, dims);
            prop_assert_eq!(&params, &op.params(key, dims), "{}: params", name);
            let mut c = img.clone();
            replay(&params, dims, &mut c, &mut scratch).unwrap();
            prop_assert!(
                a.iter().zip(&c).all(|(x, y)| x.to_bits() == y.to_bits()),
                "{}: replay gave other bits", name
            );
            let mut short = img[1..].to_vec();
            let before = short.clone();
            let err = op.apply(key, dims, &mut short, &mut scratch);
            prop_assert!(matches!(err, Err(Error::ShapeMismatch { .. })), "{}: {:?}", name, err);
            prop_assert_eq!(short, before, "{}: a refused buffer changed", name);
        }
    }
}
