//! Pipelines as data: [`OpSpec`] describes an op or a whole composition
//! (its ops, their settings and probabilities) as plain serde data, and
//! [`OpSpec::build`] turns it back into the op, validated by the op's own
//! constructor.
//!
//! Invariant: a pipeline saved as an `OpSpec` and rebuilt draws the same
//! parameters and gives the same bits for the same seed (proptest over every
//! built-in op); every built-in op and composite reports its spec through
//! `ImageAugment::spec`.

use super::compose::BoxedOp;
use super::{
    AugMix, AugMixConfig, AutoAugment, AutoAugmentConfig, ChannelShift, ColorJitter,
    ColorJitterConfig, Compose, Cutout, ElasticTransform, ElasticTransformConfig, GaussianBlur,
    GaussianNoiseImage, HorizontalFlip, Interpolation, Jpeg, OneOf, PadMode, RandAugment,
    RandAugmentConfig, RandomAdjustSharpness, RandomAffine, RandomAffineConfig, RandomApply,
    RandomAutocontrast, RandomCrop, RandomEqualize, RandomErasing, RandomErasingConfig,
    RandomGrayscale, RandomInvert, RandomOrder, RandomPerspective, RandomPosterize,
    RandomResizedCrop, RandomResizedCropConfig, RandomSolarize, TrivialAugmentWide, VerticalFlip,
};
use crate::Result;
use serde::{Deserialize, Serialize};

/// The serializable description of an image op or pipeline: each variant
/// names a descent op and carries its constructor's arguments (`p` is the
/// probability where the op has one). Every built-in op reports its spec
/// ([`ImageAugment::spec`](super::ImageAugment::spec)), so a pipeline
/// saved as JSON loads back to one that draws the same parameters for the
/// same seed.
///
/// # Examples
///
/// ```
/// use descent_augment::image::{Compose, HorizontalFlip, ImageAugment, ImageShape, OpSpec, RandomApply, RandomInvert};
/// use descent_augment::SampleKey;
///
/// let pipeline = Compose::new(vec![
///     Box::new(HorizontalFlip::new(0.5)?),
///     Box::new(RandomApply::new(Box::new(RandomInvert::new(1.0)?), 0.3)?),
/// ]);
/// let json = serde_json::to_string(&pipeline.spec().unwrap()).unwrap();
/// let back = serde_json::from_str::<OpSpec>(&json).unwrap().build()?;
/// let (key, dims) = (SampleKey::new(1, 0, 7), ImageShape::new(3, 4, 4));
/// assert_eq!(back.params(key, dims), pipeline.params(key, dims));
/// # Ok::<(), descent_augment::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "transform")]
#[non_exhaustive]
pub enum OpSpec {
    /// [`HorizontalFlip`].
    HorizontalFlip {
        /// Probability.
        p: f64,
    },
    /// [`VerticalFlip`].
    VerticalFlip {
        /// Probability.
        p: f64,
    },
    /// [`RandomCrop`].
    RandomCrop {
        /// Padding on each side.
        pad: usize,
        /// How the padding is filled.
        mode: PadMode,
    },
    /// [`RandomResizedCrop`].
    RandomResizedCrop(RandomResizedCropConfig),
    /// [`RandomAffine`].
    RandomAffine(RandomAffineConfig),
    /// [`ColorJitter`].
    ColorJitter(ColorJitterConfig),
    /// [`ChannelShift`].
    ChannelShift {
        /// Largest shift.
        limit: f32,
    },
    /// [`RandomGrayscale`].
    RandomGrayscale {
        /// Probability.
        p: f64,
    },
    /// [`GaussianNoiseImage`].
    GaussianNoise {
        /// Mean.
        mean: f32,
        /// Standard deviation.
        sigma: f32,
    },
    /// [`Cutout`].
    Cutout {
        /// Side of the square.
        size: usize,
        /// Value written.
        value: f32,
    },
    /// [`RandomErasing`].
    RandomErasing(RandomErasingConfig),
    /// [`Jpeg`].
    Jpeg {
        /// Lowest quality drawn, in `[1, 100]`.
        lo: u8,
        /// Highest quality drawn, in `[lo, 100]`.
        hi: u8,
    },
    /// [`GaussianBlur`].
    GaussianBlur {
        /// `[kx, ky]`, odd.
        kernel_size: [usize; 2],
        /// Range σ is drawn from.
        sigma: (f32, f32),
    },
    /// [`RandomPerspective`].
    RandomPerspective {
        /// How far corners move, in `[0, 1]`.
        distortion_scale: f32,
        /// Probability.
        p: f64,
        /// Resampling.
        interpolation: Interpolation,
        /// Fill outside the image.
        fill: f32,
    },
    /// [`ElasticTransform`].
    ElasticTransform(ElasticTransformConfig),
    /// [`RandomInvert`].
    RandomInvert {
        /// Probability.
        p: f64,
    },
    /// [`RandomPosterize`].
    RandomPosterize {
        /// Bits kept.
        bits: u8,
        /// Probability.
        p: f64,
    },
    /// [`RandomSolarize`].
    RandomSolarize {
        /// Threshold.
        threshold: f32,
        /// Probability.
        p: f64,
    },
    /// [`RandomEqualize`].
    RandomEqualize {
        /// Probability.
        p: f64,
    },
    /// [`RandomAutocontrast`].
    RandomAutocontrast {
        /// Probability.
        p: f64,
    },
    /// [`RandomAdjustSharpness`].
    RandomAdjustSharpness {
        /// Sharpness factor.
        sharpness_factor: f32,
        /// Probability.
        p: f64,
    },
    /// [`RandAugment`].
    RandAugment(RandAugmentConfig),
    /// [`AutoAugment`].
    AutoAugment(AutoAugmentConfig),
    /// [`AugMix`].
    AugMix(AugMixConfig),
    /// [`TrivialAugmentWide`].
    TrivialAugmentWide {
        /// Fill of the geometric ops.
        fill: f32,
    },
    /// [`Compose`].
    Compose {
        /// The ops, in order.
        ops: Vec<OpSpec>,
    },
    /// [`RandomApply`].
    RandomApply {
        /// The op.
        op: Box<OpSpec>,
        /// Probability.
        p: f64,
    },
    /// [`OneOf`].
    OneOf {
        /// The choices.
        ops: Vec<OpSpec>,
    },
    /// [`RandomOrder`].
    RandomOrder {
        /// The ops.
        ops: Vec<OpSpec>,
    },
}

fn all(ops: &[OpSpec]) -> Result<Vec<BoxedOp>> {
    ops.iter().map(OpSpec::build).collect()
}

impl OpSpec {
    /// Builds the op this spec describes, through its constructor (so an
    /// invalid setting is the constructor's typed error).
    pub fn build(&self) -> Result<BoxedOp> {
        Ok(match self {
            OpSpec::HorizontalFlip { p } => Box::new(HorizontalFlip::new(*p)?),
            OpSpec::VerticalFlip { p } => Box::new(VerticalFlip::new(*p)?),
            OpSpec::RandomCrop { pad, mode } => Box::new(RandomCrop::new(*pad, *mode)?),
            OpSpec::RandomResizedCrop(c) => Box::new(RandomResizedCrop::new(*c)?),
            OpSpec::RandomAffine(c) => Box::new(RandomAffine::new(*c)?),
            OpSpec::ColorJitter(c) => Box::new(ColorJitter::new(*c)?),
            OpSpec::ChannelShift { limit } => Box::new(ChannelShift::new(*limit)?),
            OpSpec::RandomGrayscale { p } => Box::new(RandomGrayscale::new(*p)?),
            OpSpec::GaussianNoise { mean, sigma } => {
                Box::new(GaussianNoiseImage::new(*mean, *sigma)?)
            }
            OpSpec::Cutout { size, value } => Box::new(Cutout::new(*size, *value)?),
            OpSpec::RandomErasing(c) => Box::new(RandomErasing::new(*c)?),
            OpSpec::Jpeg { lo, hi } => Box::new(Jpeg::new(*lo, *hi)?),
            OpSpec::GaussianBlur { kernel_size, sigma } => {
                Box::new(GaussianBlur::new(*kernel_size, *sigma)?)
            }
            OpSpec::RandomPerspective {
                distortion_scale,
                p,
                interpolation,
                fill,
            } => Box::new(RandomPerspective::new(
                *distortion_scale,
                *p,
                *interpolation,
                *fill,
            )?),
            OpSpec::ElasticTransform(c) => Box::new(ElasticTransform::new(*c)?),
            OpSpec::RandomInvert { p } => Box::new(RandomInvert::new(*p)?),
            OpSpec::RandomPosterize { bits, p } => Box::new(RandomPosterize::new(*bits, *p)?),
            OpSpec::RandomSolarize { threshold, p } => {
                Box::new(RandomSolarize::new(*threshold, *p)?)
            }
            OpSpec::RandomEqualize { p } => Box::new(RandomEqualize::new(*p)?),
            OpSpec::RandomAutocontrast { p } => Box::new(RandomAutocontrast::new(*p)?),
            OpSpec::RandomAdjustSharpness {
                sharpness_factor,
                p,
            } => Box::new(RandomAdjustSharpness::new(*sharpness_factor, *p)?),
            OpSpec::RandAugment(c) => Box::new(RandAugment::new(*c)?),
            OpSpec::AutoAugment(c) => Box::new(AutoAugment::new(*c)?),
            OpSpec::AugMix(c) => Box::new(AugMix::new(*c)?),
            OpSpec::TrivialAugmentWide { fill } => Box::new(TrivialAugmentWide::new(*fill)?),
            OpSpec::Compose { ops } => Box::new(Compose::new(all(ops)?)),
            OpSpec::RandomApply { op, p } => Box::new(RandomApply::new(op.build()?, *p)?),
            OpSpec::OneOf { ops } => Box::new(OneOf::new(all(ops)?)?),
            OpSpec::RandomOrder { ops } => Box::new(RandomOrder::new(all(ops)?)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ArgError;
    use crate::SampleKey;
    use crate::image::testutil::image;
    use crate::image::{ImageAugment, ImageShape};
    use proptest::prelude::*;

    /// A pipeline using every built-in op.
    fn everything() -> Compose {
        let ops: Vec<BoxedOp> = vec![
            Box::new(HorizontalFlip::new(0.5).unwrap()),
            Box::new(VerticalFlip::new(0.3).unwrap()),
            Box::new(RandomCrop::new(2, PadMode::Symmetric).unwrap()),
            Box::new(RandomResizedCrop::new(RandomResizedCropConfig::default()).unwrap()),
            Box::new(
                RandomAffine::new(RandomAffineConfig {
                    degrees: (-20.0, 20.0),
                    shear: (-5.0, 5.0),
                    ..Default::default()
                })
                .unwrap(),
            ),
            Box::new(
                ColorJitter::new(ColorJitterConfig {
                    brightness: 0.3,
                    hue: 0.1,
                    ..Default::default()
                })
                .unwrap(),
            ),
            Box::new(ChannelShift::new(0.1).unwrap()),
            Box::new(RandomGrayscale::new(0.2).unwrap()),
            Box::new(GaussianNoiseImage::new(0.0, 0.05).unwrap()),
            Box::new(Cutout::new(2, 0.5).unwrap()),
            Box::new(RandomErasing::new(RandomErasingConfig::default()).unwrap()),
            Box::new(GaussianBlur::new([3, 3], (0.1, 2.0)).unwrap()),
            Box::new(Jpeg::new(40, 90).unwrap()),
            Box::new(RandomPerspective::new(0.5, 0.5, Interpolation::Nearest, 0.0).unwrap()),
            Box::new(
                ElasticTransform::new(ElasticTransformConfig {
                    alpha: [5.0, 5.0],
                    sigma: [1.0, 1.0],
                    ..Default::default()
                })
                .unwrap(),
            ),
            Box::new(RandomInvert::new(0.2).unwrap()),
            Box::new(RandomPosterize::new(4, 0.5).unwrap()),
            Box::new(RandomSolarize::new(0.7, 0.5).unwrap()),
            Box::new(RandomEqualize::new(0.5).unwrap()),
            Box::new(RandomAutocontrast::new(0.5).unwrap()),
            Box::new(RandomAdjustSharpness::new(2.0, 0.5).unwrap()),
            Box::new(RandAugment::new(RandAugmentConfig::default()).unwrap()),
            Box::new(TrivialAugmentWide::new(0.0).unwrap()),
            Box::new(
                AutoAugment::new(AutoAugmentConfig {
                    policy: crate::image::AutoAugmentPolicy::Svhn,
                    fill: Some(0.5),
                    ..Default::default()
                })
                .unwrap(),
            ),
            Box::new(
                AugMix::new(AugMixConfig {
                    severity: 5,
                    ..Default::default()
                })
                .unwrap(),
            ),
            Box::new(RandomApply::new(Box::new(RandomInvert::new(1.0).unwrap()), 0.4).unwrap()),
            Box::new(
                OneOf::new(vec![
                    Box::new(HorizontalFlip::new(1.0).unwrap()),
                    Box::new(VerticalFlip::new(1.0).unwrap()),
                ])
                .unwrap(),
            ),
            Box::new(
                RandomOrder::new(vec![
                    Box::new(RandomInvert::new(0.5).unwrap()),
                    Box::new(RandomGrayscale::new(0.5).unwrap()),
                ])
                .unwrap(),
            ),
        ];
        Compose::new(ops)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        #[test]
        fn a_reloaded_pipeline_gives_identical_outputs((dims, img) in image(), seed in 0u64..1000, index in 0u64..1000) {
            let pipeline = everything();
            let spec = pipeline.spec().expect("every built-in op has a spec");
            let json = serde_json::to_string(&spec).unwrap();
            let back: OpSpec = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&back, &spec);
            let rebuilt = back.build().unwrap();
            prop_assert_eq!(rebuilt.spec(), Some(spec));
            let key = SampleKey::new(seed, 2, index);
            prop_assert_eq!(rebuilt.params(key, dims), pipeline.params(key, dims));
            let (mut a, mut b) = (img.clone(), img);
            pipeline.apply(key, dims, &mut a, &mut Vec::new()).unwrap();
            rebuilt.apply(key, dims, &mut b, &mut Vec::new()).unwrap();
            prop_assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
        }
    }

    #[test]
    fn an_invalid_spec_is_the_constructors_typed_error() {
        let json =
            r#"{"transform": "Compose", "ops": [{"transform": "HorizontalFlip", "p": 1.5}]}"#;
        let spec: OpSpec = serde_json::from_str(json).unwrap();
        assert!(matches!(
            spec.build(),
            Err(crate::Error::Arg(ArgError { name: "p", .. }))
        ));
        let dims = ImageShape::new(1, 2, 2);
        let ok = r#"{"transform": "RandomApply", "op": {"transform": "RandomInvert", "p": 1.0}, "p": 1.0}"#;
        let op = serde_json::from_str::<OpSpec>(ok).unwrap().build().unwrap();
        assert_eq!(
            op.params(SampleKey::new(0, 0, 0), dims),
            [crate::image::DrawnParams::Invert]
        );
    }
}
