//! Automatic augmentation policies with torchvision's op spaces:
//! RandAugment (Cubuk et al. 2020), TrivialAugment Wide (Müller & Hutter
//! 2021), AutoAugment (Cubuk et al. 2019, `policy/auto_augment.rs`) and
//! AugMix (Hendrycks et al. 2020, `policy/augmix.rs`). Every op is applied
//! as torchvision's `_apply_image_or_video_transform` does ([`PolicyOp`],
//! `policy/op.rs`); shears turn about the top-left corner (`center=[0, 0]`)
//! as torchvision's do.
//!
//! Deviation: RandAugment and TrivialAugment Wide resample bilinearly and
//! blend a fill value (default 0) where torchvision defaults to nearest and
//! `fill=None`; AutoAugment and AugMix take both as parameters.
//! Until issue 19's AutoAugment they also sheared about the centre.

mod augmix;
mod auto_augment;
mod op;

pub use augmix::{AugMix, AugMixConfig, AugMixDraw, MAX_AUGMIX_CHAIN_DEPTH, MAX_AUGMIX_WIDTH};
pub use auto_augment::{
    AUTOAUGMENT_NUM_BINS, AutoAugment, AutoAugmentConfig, AutoAugmentDraw, AutoAugmentPolicy,
    SubPolicyStep,
};
pub use op::PolicyOp;

use super::spec::OpSpec;
use super::{DrawnParams, ImageAugment, ImageShape, Interpolation};
use crate::ArgError;
use crate::{Error, OpCtx, Result};
use op::{Bins, SpaceEntry};
use rand::RngExt;

/// RandAugment's and TrivialAugment Wide's op space, in torchvision's order,
/// with the magnitude bounds `(shear, translate, rotate, colour)` and the
/// posterize divisor `drop` (bits run from 8 down to `8 − drop`).
fn space(shear: f32, translate: Bins, rotate: f32, color: f32, drop: f32) -> [SpaceEntry; 14] {
    let translate_y = match translate {
        Bins::LinspaceWidth { mul, div } => Bins::LinspaceHeight { mul, div },
        other => other,
    };
    [
        (PolicyOp::Identity, Bins::None, false),
        (PolicyOp::ShearX, Bins::Linspace(shear), true),
        (PolicyOp::ShearY, Bins::Linspace(shear), true),
        (PolicyOp::TranslateX, translate, true),
        (PolicyOp::TranslateY, translate_y, true),
        (PolicyOp::Rotate, Bins::Linspace(rotate), true),
        (PolicyOp::Brightness, Bins::Linspace(color), true),
        (PolicyOp::Color, Bins::Linspace(color), true),
        (PolicyOp::Contrast, Bins::Linspace(color), true),
        (PolicyOp::Sharpness, Bins::Linspace(color), true),
        (PolicyOp::Posterize, Bins::PosterizeDrop(drop), false),
        (PolicyOp::Solarize, Bins::Descending, false),
        (PolicyOp::AutoContrast, Bins::None, false),
        (PolicyOp::Equalize, Bins::None, false),
    ]
}

/// Draws one op of `space` as torchvision does (op, then the bin from
/// `bin`, then the sign), bilinear with a blended `fill`.
fn draw_op(
    rng: &mut rand_chacha::ChaCha8Rng,
    space: &[SpaceEntry],
    bin: impl FnOnce(&mut rand_chacha::ChaCha8Rng) -> usize,
    num_bins: usize,
    dims: ImageShape,
    fill: f32,
) -> DrawnParams {
    let (op, bins, signed) = space[rng.random_range(0..space.len())];
    let magnitude = op::signed_magnitude(rng, bins, signed, bin, num_bins, dims);
    op.params(magnitude, Interpolation::Bilinear, Some(fill))
}

/// The configuration of [`RandAugment`]; `Default` is torchvision's.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RandAugmentConfig {
    /// Ops applied per image (default 2).
    pub num_ops: usize,
    /// Magnitude bin (default 9).
    pub magnitude: usize,
    /// Number of magnitude bins (default 31).
    pub num_magnitude_bins: usize,
    /// Fill value of geometric ops (default 0).
    pub fill: f32,
}

impl Default for RandAugmentConfig {
    fn default() -> Self {
        RandAugmentConfig {
            num_ops: 2,
            magnitude: 9,
            num_magnitude_bins: 31,
            fill: 0.0,
        }
    }
}

/// torchvision `RandAugment`: `num_ops` ops drawn uniformly, at a fixed magnitude.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandAugment {
    config: RandAugmentConfig,
}

impl RandAugment {
    /// RandAugment.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{RandAugment, RandAugmentConfig};
    ///
    /// let policy = RandAugment::new(RandAugmentConfig::default())?;
    /// assert!(RandAugment::new(RandAugmentConfig { magnitude: 31, ..Default::default() }).is_err());
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(config: RandAugmentConfig) -> Result<Self> {
        if config.num_magnitude_bins < 2 || config.magnitude >= config.num_magnitude_bins {
            return Err(Error::Arg(ArgError::new(
                "magnitude",
                config.magnitude,
                "must be below num_magnitude_bins (at least 2)",
            )));
        }
        if !(0.0..=1.0).contains(&config.fill) {
            return Err(Error::Arg(ArgError::new(
                "fill",
                config.fill,
                "must lie in [0, 1]",
            )));
        }
        Ok(RandAugment { config })
    }
}

impl ImageAugment for RandAugment {
    fn spec(&self) -> Option<OpSpec> {
        Some(OpSpec::RandAugment(self.config))
    }

    fn draw(&self, ctx: OpCtx, dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        let translate = Bins::LinspaceWidth {
            mul: 150.0 / 331.0,
            div: 1.0,
        };
        let space = space(0.3, translate, 30.0, 0.9, 4.0);
        let c = &self.config;
        let mut rng = ctx.rng();
        for _ in 0..c.num_ops {
            let bin = |_: &mut _| c.magnitude;
            emit(draw_op(
                &mut rng,
                &space,
                bin,
                c.num_magnitude_bins,
                dims,
                c.fill,
            ));
        }
    }
}

/// torchvision `TrivialAugmentWide` (31 bins, fill 0): one op, uniform
/// magnitude.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TrivialAugmentWide {
    fill: f32,
}

impl TrivialAugmentWide {
    /// TrivialAugment Wide with a fill value for geometric ops.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::TrivialAugmentWide;
    ///
    /// let policy = TrivialAugmentWide::new(0.0)?;
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(fill: f32) -> Result<Self> {
        if !(0.0..=1.0).contains(&fill) {
            return Err(Error::Arg(ArgError::new(
                "fill",
                fill,
                "must lie in [0, 1]",
            )));
        }
        Ok(TrivialAugmentWide { fill })
    }
}

impl ImageAugment for TrivialAugmentWide {
    fn spec(&self) -> Option<OpSpec> {
        Some(OpSpec::TrivialAugmentWide { fill: self.fill })
    }

    fn draw(&self, ctx: OpCtx, dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        let space = space(0.99, Bins::Linspace(32.0), 135.0, 0.99, 6.0);
        let mut rng = ctx.rng();
        let bin = |rng: &mut rand_chacha::ChaCha8Rng| rng.random_range(0..31);
        emit(draw_op(&mut rng, &space, bin, 31, dims, self.fill))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::testutil::{check_in_range, image};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn policies_keep_shape_and_range((dims, img) in image(), index in 0u64..1000) {
            check_in_range(&RandAugment::new(RandAugmentConfig::default()).unwrap(), dims, &img, index);
            check_in_range(&TrivialAugmentWide::new(0.0).unwrap(), dims, &img, index);
        }
    }

    #[test]
    fn every_op_of_the_space_builds_at_every_bin() {
        let dims = ImageShape::new(3, 8, 8);
        for (op, bins, _) in space(0.99, Bins::Linspace(32.0), 135.0, 0.99, 6.0) {
            for bin in [1, 30] {
                let m = bins.at(bin, 31, dims).unwrap_or(0.0);
                let p = op.params(m, Interpolation::Bilinear, Some(0.0));
                assert_eq!(
                    p == DrawnParams::Identity,
                    op == PolicyOp::Identity,
                    "{op:?}"
                );
            }
        }
    }

    #[test]
    fn randaugment_shears_about_the_top_left_corner_as_torchvision() {
        let dims = ImageShape::new(1, 8, 8);
        let policy = RandAugment::new(RandAugmentConfig::default()).unwrap();
        let shears = (0..200)
            .flat_map(|i| policy.params(crate::SampleKey::new(0, 0, i), dims))
            .filter_map(|p| match p {
                DrawnParams::Affine(a) if a.shear != [0.0; 2] => Some(a),
                _ => None,
            })
            .collect::<Vec<_>>();
        assert!(!shears.is_empty());
        for a in shears {
            assert_eq!(a.center, Some([0.0, 0.0]));
            let deg = a.shear[0].abs().max(a.shear[1].abs()) as f64;
            // bin 9 of 31 of linspace(0, 0.3): atan(0.09) in degrees.
            assert!((deg - 0.09f64.atan().to_degrees()).abs() < 1e-5, "{deg}");
        }
    }
}
