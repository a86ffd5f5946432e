//! Learned-free augmentation policies: RandAugment (Cubuk et al. 2020) and
//! TrivialAugment Wide (Müller & Hutter 2021), with torchvision's op spaces.
//!
//! Deviation: torchvision shears about the top-left corner; we shear about
//! the centre like every other affine op here.

use super::spec::OpSpec;
use super::{Affine, ImageAugment, ImageShape, Params};
use crate::{Error, OpCtx, Result};
use rand::RngExt;

/// The op space shared by both policies, in torchvision's order.
const OPS: [&str; 14] = [
    "Identity",
    "ShearX",
    "ShearY",
    "TranslateX",
    "TranslateY",
    "Rotate",
    "Brightness",
    "Color",
    "Contrast",
    "Sharpness",
    "Posterize",
    "Solarize",
    "AutoContrast",
    "Equalize",
];

/// Magnitude ranges of an op space: (shear, translate as a fraction of the
/// size or in pixels, rotate degrees, colour factor, posterize bits dropped).
#[derive(Debug, Clone, Copy)]
struct Space {
    shear: f32,
    translate: Translate,
    rotate: f32,
    color: f32,
    posterize_drop: f32,
}

#[derive(Debug, Clone, Copy)]
enum Translate {
    Fraction(f32),
    Pixels(f32),
}

/// Builds op `op` at bin `bin` of `bins`, with a sign flip when `negate`.
fn op_params(
    space: &Space,
    op: usize,
    bin: usize,
    bins: usize,
    negate: bool,
    dims: ImageShape,
    fill: f32,
) -> Params {
    let t = if bins > 1 {
        bin as f32 / (bins - 1) as f32
    } else {
        0.0
    };
    let sign = if negate { -1.0 } else { 1.0 };
    let affine = Affine::identity(fill);
    match OPS[op] {
        "ShearX" | "ShearY" => {
            let deg = (sign * space.shear * t).atan().to_degrees();
            let shear = if OPS[op] == "ShearX" {
                [deg, 0.0]
            } else {
                [0.0, deg]
            };
            Params::Affine(Affine { shear, ..affine })
        }
        "TranslateX" | "TranslateY" => {
            let x = OPS[op] == "TranslateX";
            let max = match space.translate {
                Translate::Fraction(f) => f * if x { dims.w } else { dims.h } as f32,
                Translate::Pixels(p) => p,
            };
            let d = (sign * max * t).trunc();
            Params::Affine(Affine {
                translate: if x { [d, 0.0] } else { [0.0, d] },
                ..affine
            })
        }
        // torchvision's `_apply_op` rotates with `F.rotate` (counter-clockwise).
        "Rotate" => Params::Affine(Affine::rotation(sign * space.rotate * t, fill)),
        "Brightness" => Params::Brightness {
            factor: 1.0 + sign * space.color * t,
        },
        "Color" => Params::Saturation {
            factor: 1.0 + sign * space.color * t,
        },
        "Contrast" => Params::Contrast {
            factor: 1.0 + sign * space.color * t,
        },
        "Sharpness" => Params::Sharpness {
            factor: 1.0 + sign * space.color * t,
        },
        "Posterize" => Params::Posterize {
            bits: 8 - (bin as f32 / ((bins - 1) as f32 / space.posterize_drop)).round() as u8,
        },
        "Solarize" => Params::Solarize { threshold: 1.0 - t },
        "AutoContrast" => Params::AutoContrast,
        "Equalize" => Params::Equalize,
        _ => Params::Identity,
    }
}

/// Whether op `op` takes a random sign.
fn signed(op: usize) -> bool {
    (1..=9).contains(&op)
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
            return Err(Error::config(
                "magnitude",
                config.magnitude,
                "must be below num_magnitude_bins (at least 2)",
            ));
        }
        if !(0.0..=1.0).contains(&config.fill) {
            return Err(Error::config("fill", config.fill, "must lie in [0, 1]"));
        }
        Ok(RandAugment { config })
    }
}

impl ImageAugment for RandAugment {
    fn spec(&self) -> Option<OpSpec> {
        Some(OpSpec::RandAugment(self.config))
    }

    fn draw(&self, ctx: OpCtx, dims: ImageShape, emit: &mut dyn FnMut(Params)) {
        let space = Space {
            shear: 0.3,
            translate: Translate::Fraction(150.0 / 331.0),
            rotate: 30.0,
            color: 0.9,
            posterize_drop: 4.0,
        };
        let c = &self.config;
        let mut rng = ctx.rng();
        for _ in 0..c.num_ops {
            let op = rng.random_range(0..OPS.len());
            let negate = signed(op) && rng.random_bool(0.5);
            emit(op_params(
                &space,
                op,
                c.magnitude,
                c.num_magnitude_bins,
                negate,
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
            return Err(Error::config("fill", fill, "must lie in [0, 1]"));
        }
        Ok(TrivialAugmentWide { fill })
    }
}

impl ImageAugment for TrivialAugmentWide {
    fn spec(&self) -> Option<OpSpec> {
        Some(OpSpec::TrivialAugmentWide { fill: self.fill })
    }

    fn draw(&self, ctx: OpCtx, dims: ImageShape, emit: &mut dyn FnMut(Params)) {
        let space = Space {
            shear: 0.99,
            translate: Translate::Pixels(32.0),
            rotate: 135.0,
            color: 0.99,
            posterize_drop: 6.0,
        };
        let mut rng = ctx.rng();
        let op = rng.random_range(0..OPS.len());
        let bin = rng.random_range(0..31);
        let negate = signed(op) && rng.random_bool(0.5);
        emit(op_params(&space, op, bin, 31, negate, dims, self.fill))
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
        for op in 0..OPS.len() {
            for bin in [0, 30] {
                let p = op_params(
                    &Space {
                        shear: 0.99,
                        translate: Translate::Pixels(32.0),
                        rotate: 135.0,
                        color: 0.99,
                        posterize_drop: 6.0,
                    },
                    op,
                    bin,
                    31,
                    false,
                    dims,
                    0.0,
                );
                assert_eq!(p == Params::Identity, op == 0, "{}", OPS[op]);
            }
        }
    }
}
