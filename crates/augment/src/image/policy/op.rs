//! The ops of torchvision's automatic augmentation policies and how one is
//! applied at a given magnitude: torchvision's
//! `_AutoAugmentBase._apply_image_or_video_transform`, shared by
//! [`RandAugment`](super::RandAugment), [`TrivialAugmentWide`](super::TrivialAugmentWide),
//! [`AutoAugment`](super::AutoAugment) and [`AugMix`](super::AugMix).

use super::super::{Affine, DrawnParams, ImageShape, Interpolation};
use serde::{Deserialize, Serialize};

/// One op of an automatic augmentation policy (torchvision's
/// `transform_id` strings, which [`PolicyOp::name`] returns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PolicyOp {
    /// Leave the image unchanged.
    Identity,
    /// Shear along x about the top-left corner by `atan(magnitude)`.
    ShearX,
    /// Shear along y about the top-left corner by `atan(magnitude)`.
    ShearY,
    /// Translate along x by `trunc(magnitude)` pixels.
    TranslateX,
    /// Translate along y by `trunc(magnitude)` pixels.
    TranslateY,
    /// Rotate `magnitude` degrees counter-clockwise (`rotate`).
    Rotate,
    /// `adjust_brightness` by `1 + magnitude`.
    Brightness,
    /// `adjust_saturation` by `1 + magnitude`.
    Color,
    /// `adjust_contrast` by `1 + magnitude`.
    Contrast,
    /// `adjust_sharpness` by `1 + magnitude`.
    Sharpness,
    /// `posterize` to `trunc(magnitude)` bits.
    Posterize,
    /// `solarize` at threshold `magnitude`.
    Solarize,
    /// `autocontrast`.
    AutoContrast,
    /// `equalize`.
    Equalize,
    /// `invert`.
    Invert,
}

impl PolicyOp {
    /// torchvision's name of the op (`"ShearX"`, `"AutoContrast"`, …).
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::PolicyOp;
    ///
    /// assert_eq!(PolicyOp::Color.name(), "Color");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            PolicyOp::Identity => "Identity",
            PolicyOp::ShearX => "ShearX",
            PolicyOp::ShearY => "ShearY",
            PolicyOp::TranslateX => "TranslateX",
            PolicyOp::TranslateY => "TranslateY",
            PolicyOp::Rotate => "Rotate",
            PolicyOp::Brightness => "Brightness",
            PolicyOp::Color => "Color",
            PolicyOp::Contrast => "Contrast",
            PolicyOp::Sharpness => "Sharpness",
            PolicyOp::Posterize => "Posterize",
            PolicyOp::Solarize => "Solarize",
            PolicyOp::AutoContrast => "AutoContrast",
            PolicyOp::Equalize => "Equalize",
            PolicyOp::Invert => "Invert",
        }
    }

    /// The op applied at `magnitude` (already signed), as torchvision's
    /// `_apply_image_or_video_transform(image, op, magnitude,
    /// interpolation, fill)` does on a float image:
    ///
    /// | op | torchvision call |
    /// |---|---|
    /// | `ShearX`/`ShearY` | `affine(shear=[degrees(atan(m)), 0] or [0, …], center=[0, 0])` |
    /// | `TranslateX`/`TranslateY` | `affine(translate=[int(m), 0] or [0, int(m)])` |
    /// | `Rotate` | `rotate(angle=m)` (angle 0 is torchvision's exact fast path: [`DrawnParams::Identity`]) |
    /// | `Brightness`, `Color`, `Contrast`, `Sharpness` | `adjust_*(1 + m)` (`Color` is saturation) |
    /// | `Posterize` | `posterize(bits=int(m))` |
    /// | `Solarize` | `solarize(threshold=1.0·m)` |
    /// | `AutoContrast`, `Equalize`, `Invert`, `Identity` | no magnitude |
    ///
    /// Shear angles are stored as f32 degrees in [`Affine`], so they match
    /// torchvision's double `degrees(atan(m))` to f32 rounding.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{Interpolation, DrawnParams, PolicyOp};
    ///
    /// let p = PolicyOp::Brightness.params(-0.3, Interpolation::Nearest, None);
    /// assert_eq!(p, DrawnParams::Brightness { factor: 0.7 });
    /// let DrawnParams::Affine(shear) = PolicyOp::ShearX.params(0.3, Interpolation::Nearest, None) else { panic!() };
    /// assert_eq!(shear.center, Some([0.0, 0.0]));
    /// ```
    pub fn params(
        self,
        magnitude: f32,
        interpolation: Interpolation,
        fill: Option<f32>,
    ) -> DrawnParams {
        let affine = Affine {
            fill,
            interpolation,
            ..Affine::identity(0.0)
        };
        let factor = 1.0 + magnitude;
        match self {
            PolicyOp::Identity => DrawnParams::Identity,
            PolicyOp::ShearX | PolicyOp::ShearY => {
                let deg = (magnitude as f64).atan().to_degrees() as f32;
                let shear = if self == PolicyOp::ShearX {
                    [deg, 0.0]
                } else {
                    [0.0, deg]
                };
                DrawnParams::Affine(Affine {
                    shear,
                    center: Some([0.0, 0.0]),
                    ..affine
                })
            }
            PolicyOp::TranslateX | PolicyOp::TranslateY => {
                let d = magnitude.trunc();
                let translate = if self == PolicyOp::TranslateX {
                    [d, 0.0]
                } else {
                    [0.0, d]
                };
                DrawnParams::Affine(Affine {
                    translate,
                    ..affine
                })
            }
            PolicyOp::Rotate => {
                if (magnitude as f64).rem_euclid(360.0) == 0.0 {
                    DrawnParams::Identity
                } else {
                    DrawnParams::Affine(Affine {
                        angle: -magnitude,
                        ..affine
                    })
                }
            }
            PolicyOp::Brightness => DrawnParams::Brightness { factor },
            PolicyOp::Color => DrawnParams::Saturation { factor },
            PolicyOp::Contrast => DrawnParams::Contrast { factor },
            PolicyOp::Sharpness => DrawnParams::Sharpness { factor },
            PolicyOp::Posterize => DrawnParams::Posterize {
                bits: magnitude.trunc().clamp(0.0, 8.0) as u8,
            },
            PolicyOp::Solarize => DrawnParams::Solarize {
                threshold: magnitude,
            },
            PolicyOp::AutoContrast => DrawnParams::AutoContrast,
            PolicyOp::Equalize => DrawnParams::Equalize,
            PolicyOp::Invert => DrawnParams::Invert,
        }
    }
}

/// The magnitudes of one op over `num_bins` bins, each a function of the
/// image size as torchvision's `_AUGMENTATION_SPACE` lambdas are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Bins {
    /// No magnitude.
    None,
    /// `torch.linspace(0, hi, num_bins)` in f32; `hi` a constant.
    Linspace(f32),
    /// `torch.linspace(0, mul·W / div, num_bins)`, the bound computed in
    /// double as torchvision's lambda writes it.
    LinspaceWidth {
        /// Factor before the size.
        mul: f64,
        /// Divisor after it.
        div: f64,
    },
    /// `torch.linspace(0, mul·H / div, num_bins)`.
    LinspaceHeight {
        /// Factor before the size.
        mul: f64,
        /// Divisor after it.
        div: f64,
    },
    /// `torch.linspace(1, 0, num_bins)` (solarize thresholds).
    Descending,
    /// `(top − arange(num_bins) / ((num_bins − 1) / 4)).round()`
    /// (AutoAugment's and AugMix's posterize bits).
    Posterize(f32),
    /// `(8 − arange(num_bins) / ((num_bins − 1) / drop)).round()`
    /// (RandAugment's and TrivialAugment Wide's posterize bits).
    PosterizeDrop(f32),
}

impl Bins {
    /// The magnitude at `bin` of `num_bins` (`None` for ops without one).
    pub(crate) fn at(self, bin: usize, num_bins: usize, dims: ImageShape) -> Option<f32> {
        use super::super::grid::linspace;
        Some(match self {
            Bins::None => return None,
            Bins::Linspace(hi) => linspace(0.0f32, hi, num_bins, bin),
            Bins::LinspaceWidth { mul, div } => {
                linspace(0.0f32, (mul * dims.w as f64 / div) as f32, num_bins, bin)
            }
            Bins::LinspaceHeight { mul, div } => {
                linspace(0.0f32, (mul * dims.h as f64 / div) as f32, num_bins, bin)
            }
            Bins::Descending => linspace(1.0f32, 0.0, num_bins, bin),
            Bins::Posterize(top) => posterize_bits(top, 4.0, bin, num_bins),
            Bins::PosterizeDrop(drop) => posterize_bits(8.0, drop, bin, num_bins),
        })
    }
}

/// `(top − arange(n) / ((n − 1) / drop)).round()`: an int tensor over a
/// double, computed in f32; `round` is half to even.
fn posterize_bits(top: f32, drop: f32, bin: usize, num_bins: usize) -> f32 {
    let div = ((num_bins - 1) as f64 / drop as f64) as f32;
    (top - bin as f32 / div).round_ties_even()
}

/// torchvision's magnitude draw: no magnitude (0) for an op without bins;
/// else the bin from `bin` (drawn only then), negated when `signed` and
/// `torch.rand(()) <= 0.5`.
pub(crate) fn signed_magnitude<R: rand::Rng>(
    rng: &mut R,
    bins: Bins,
    signed: bool,
    bin: impl FnOnce(&mut R) -> usize,
    num_bins: usize,
    dims: ImageShape,
) -> f32 {
    if bins == Bins::None {
        return 0.0;
    }
    let m = bins.at(bin(rng), num_bins, dims).unwrap_or(0.0);
    if signed && rand::RngExt::random::<f32>(rng) <= 0.5 {
        -m
    } else {
        m
    }
}

/// One entry of an op space: the op, its magnitudes and whether a random
/// sign applies.
pub(crate) type SpaceEntry = (PolicyOp, Bins, bool);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posterize_bins_are_torchvisions() {
        let dims = ImageShape::new(3, 32, 32);
        let bits = |top| -> Vec<f32> {
            (0..10)
                .map(|b| Bins::Posterize(top).at(b, 10, dims).unwrap())
                .collect()
        };
        // (8 - arange(10) / (9 / 4)).round() and (4 - …) in torch.
        assert_eq!(bits(8.0), [8., 8., 7., 7., 6., 6., 5., 5., 4., 4.]);
        assert_eq!(bits(4.0), [4., 4., 3., 3., 2., 2., 1., 1., 0., 0.]);
    }

    #[test]
    fn linspace_bins_end_on_their_bounds() {
        let dims = ImageShape::new(3, 20, 33);
        assert_eq!(Bins::Linspace(0.3).at(9, 10, dims), Some(0.3));
        assert_eq!(Bins::Linspace(0.3).at(0, 10, dims), Some(0.0));
        assert_eq!(Bins::Descending.at(0, 10, dims), Some(1.0));
        assert_eq!(Bins::Descending.at(9, 10, dims), Some(0.0));
        let third = Bins::LinspaceWidth { mul: 1.0, div: 3.0 };
        assert_eq!(third.at(9, 10, dims), Some(11.0));
        let autoaugment = Bins::LinspaceHeight {
            mul: 150.0 / 331.0,
            div: 1.0,
        };
        assert_eq!(
            autoaugment.at(9, 10, dims),
            Some((150.0 / 331.0 * 20.0f64) as f32)
        );
        assert_eq!(Bins::None.at(3, 10, dims), None);
    }

    #[test]
    fn a_zero_rotation_is_torchvisions_exact_identity() {
        let p = PolicyOp::Rotate.params(-0.0, Interpolation::Bilinear, Some(0.5));
        assert_eq!(p, DrawnParams::Identity);
        let DrawnParams::Affine(a) = PolicyOp::Rotate.params(10.0, Interpolation::Bilinear, None)
        else {
            panic!("a rotation is an affine warp")
        };
        assert_eq!((a.angle, a.center, a.fill), (-10.0, None, None));
    }

    #[test]
    fn translations_truncate_toward_zero() {
        let p = PolicyOp::TranslateY.params(-7.9, Interpolation::Nearest, Some(0.0));
        let DrawnParams::Affine(a) = p else {
            panic!("a translation is an affine warp")
        };
        assert_eq!(a.translate, [0.0, -7.0]);
    }
}
