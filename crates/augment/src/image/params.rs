//! `DrawnParams`: what one op does to one sample, drawn once and replayable.
//!
//! Invariant: drawn parameters say everything their application needs, so a
//! logged list replays without the op that drew it; `replay` checks each
//! logged entry (`DrawnParams::check`, checked arithmetic) before applying
//! any. Each op has one kernel, generic over the float type, that both
//! `functional` and `DrawnParams::apply` call. Every consumer of
//! `DrawnParams::Affine` honours `center` (AutoAugment's shears turn about the
//! top-left corner) and `fill: None`; image, mask and boxes share
//! `affine::inverse_matrix` / the forward box matrix about the same centre.

use super::{
    Affine, ImageShape, Interpolation, PadMode, affine, blur, color, crop, erase, flip, grid,
    stash, tone, warp,
};
use crate::ArgError;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// The drawn parameters of one leaf op for one sample.
///
/// Each variant carries everything its application needs (fill values,
/// padding modes, noise seeds), so a logged `Vec<DrawnParams>` replays exactly
/// through [`replay`](super::replay).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DrawnParams {
    /// Leave the image unchanged.
    Identity,
    /// Mirror left–right when `flip`.
    HFlip {
        /// Whether to flip.
        flip: bool,
    },
    /// Mirror top–bottom when `flip`.
    VFlip {
        /// Whether to flip.
        flip: bool,
    },
    /// Pad by `pad` on every side, then crop `H × W` at `(top, left)` of the
    /// padded image.
    Crop {
        /// Row of the crop in the padded image.
        top: usize,
        /// Column of the crop in the padded image.
        left: usize,
        /// Padding on each side.
        pad: usize,
        /// How the padding is filled.
        mode: PadMode,
    },
    /// Crop `height × width` at `(top, left)` and resize it (bilinear) back
    /// to `H × W`.
    ResizedCrop {
        /// Row of the crop.
        top: usize,
        /// Column of the crop.
        left: usize,
        /// Height of the crop.
        height: usize,
        /// Width of the crop.
        width: usize,
    },
    /// An affine warp (rotation, translation, zoom, shear) about the image
    /// centre or [`Affine::center`], nearest or bilinear, with an optional
    /// fill outside the image.
    Affine(Affine),
    /// Multiply by `factor` (torchvision `adjust_brightness`), clamped to [0, 1].
    Brightness {
        /// The factor (1 is the identity).
        factor: f32,
    },
    /// Blend with the image's mean grey level (torchvision `adjust_contrast`).
    Contrast {
        /// The factor (1 is the identity).
        factor: f32,
    },
    /// Blend the RGB channels with their grey level (torchvision `adjust_saturation`).
    Saturation {
        /// The factor (1 is the identity).
        factor: f32,
    },
    /// Rotate the hue of the RGB channels by `shift` turns, in [-0.5, 0.5].
    Hue {
        /// The hue shift (0 is the identity).
        shift: f32,
    },
    /// Add `shifts[ch % 8]` to channel `ch`, clamped to [0, 1].
    ChannelShift {
        /// Per-channel shifts.
        shifts: [f32; 8],
    },
    /// Replace the RGB channels by their luminance when `apply`.
    Grayscale {
        /// Whether to convert.
        apply: bool,
    },
    /// Add Gaussian noise drawn from ChaCha8 seeded by `seed`, clamped to [0, 1].
    Noise {
        /// Mean of the noise.
        mean: f32,
        /// Standard deviation of the noise.
        sigma: f32,
        /// Seed of the per-pixel noise stream.
        seed: u64,
    },
    /// Set a rectangle of every channel to `value` (cutout, random erasing).
    Erase {
        /// Row of the rectangle.
        top: usize,
        /// Column of the rectangle.
        left: usize,
        /// Height of the rectangle.
        height: usize,
        /// Width of the rectangle.
        width: usize,
        /// The value written.
        value: f32,
    },
    /// Invert values at or above `threshold` (torchvision `solarize`).
    Solarize {
        /// The threshold.
        threshold: f32,
    },
    /// Quantize to `2^bits` levels by torchvision's float `posterize` rule,
    /// `floor(x·2^bits)/2^bits` (until issue 19 the uint8 rule on `round(255x)`).
    Posterize {
        /// Bits kept, 0 to 8.
        bits: u8,
    },
    /// Stretch each channel to span [0, 1] (torchvision `autocontrast`).
    AutoContrast,
    /// Equalize each channel's 256-bin histogram (torchvision's float
    /// `equalize`: through uint8 by `trunc(255.999·x)`, then `/255`).
    Equalize,
    /// Blend with a 3×3 smoothed image (torchvision `adjust_sharpness`).
    Sharpness {
        /// The factor (1 is the identity).
        factor: f32,
    },
    /// `1 − x` (torchvision `invert`).
    Invert,
    /// Gaussian blur (torchvision `gaussian_blur`), reflect border.
    Blur {
        /// Kernel size `[kx, ky]`, odd, x (width) first.
        kernel_size: [usize; 2],
        /// Standard deviations `[σx, σy]`.
        sigma: [f32; 2],
    },
    /// A perspective warp (torchvision `perspective`) by the coefficients
    /// of [`perspective_coefficients`](super::functional::perspective_coefficients).
    Perspective {
        /// `[a, b, c, d, e, f, g, h]`, output pixel → input point.
        coefficients: [f64; 8],
        /// Value of pixels from outside the image (torchvision `fill`).
        fill: f32,
        /// How pixels are resampled.
        interpolation: Interpolation,
    },
    /// An elastic warp (torchvision `ElasticTransform`): a displacement
    /// field of uniform noise in `[−1, 1]` from ChaCha8 seeded by `seed`,
    /// blurred by `sigma` and scaled by `alpha`, as torchvision draws it.
    Elastic {
        /// Magnitudes `[αx, αy]`.
        alpha: [f32; 2],
        /// Smoothness `[σx, σy]`.
        sigma: [f32; 2],
        /// Seed of the noise field.
        seed: u64,
        /// Value of pixels from outside the image (torchvision `fill`).
        fill: f32,
        /// How pixels are resampled.
        interpolation: Interpolation,
    },
    /// Encode as a JPEG at `quality` in `[1, 100]` and decode back
    /// (torchvision `jpeg`, see [`jpeg`](super::jpeg())).
    Jpeg {
        /// The JPEG quality.
        quality: u8,
    },
    /// An AugMix mixture (torchvision `AugMix`): the chains and weights
    /// [`AugMix::mixture`](super::AugMix::mixture)`(seed, dims)` draws for
    /// `config`, mixed with the image.
    AugMix {
        /// Seed of the mixture's draws.
        seed: u64,
        /// The AugMix settings.
        config: super::AugMixConfig,
    },
}

impl DrawnParams {
    /// Checks that these parameters fit an image of `dims` without any
    /// arithmetic overflowing: a crop window inside the (padded) image, an
    /// erased rectangle whose end is representable. Logged parameters are
    /// user data; [`replay`](super::replay) checks each before applying it.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{ImageShape, DrawnParams};
    ///
    /// let dims = ImageShape::new(1, 4, 4);
    /// let ok = DrawnParams::ResizedCrop { top: 1, left: 0, height: 3, width: 4 };
    /// assert!(ok.check(dims).is_ok());
    /// let bad = DrawnParams::ResizedCrop { top: usize::MAX, left: 0, height: 2, width: 4 };
    /// assert!(bad.check(dims).is_err());
    /// ```
    pub fn check(&self, dims: ImageShape) -> Result<()> {
        let bad = |field: &'static str, value: usize, reason: &'static str| {
            Err(Error::Arg(ArgError::new(field, value, reason)))
        };
        match *self {
            DrawnParams::Crop { top, left, pad, .. } => {
                let span = pad.checked_mul(2).filter(|&s| s <= isize::MAX as usize);
                let Some(span) = span else {
                    return bad("pad", pad, "is too large to pad an image by");
                };
                if top > span {
                    return bad("top", top, "lies outside the padded image");
                }
                if left > span {
                    return bad("left", left, "lies outside the padded image");
                }
            }
            DrawnParams::ResizedCrop {
                top,
                left,
                height,
                width,
            } => {
                if top.checked_add(height).is_none_or(|end| end > dims.h) {
                    return bad("top", top, "crop rows reach past the image");
                }
                if left.checked_add(width).is_none_or(|end| end > dims.w) {
                    return bad("left", left, "crop columns reach past the image");
                }
            }
            DrawnParams::Blur { kernel_size, sigma } => {
                let most = 2 * dims.h.max(dims.w) + 1;
                for k in kernel_size {
                    if k % 2 == 0 || k > most {
                        return bad("kernel_size", k, "must be odd and at most 2·max(H, W) + 1");
                    }
                }
                if !sigma.iter().all(|s| s.is_finite() && *s > 0.0) {
                    return Err(Error::Arg(ArgError::new(
                        "sigma",
                        format!("{sigma:?}"),
                        "must be finite and positive",
                    )));
                }
            }
            DrawnParams::Perspective { coefficients, .. }
                if !coefficients.iter().all(|c| c.is_finite()) =>
            {
                return Err(Error::Arg(ArgError::new(
                    "coefficients",
                    format!("{coefficients:?}"),
                    "must be finite",
                )));
            }
            DrawnParams::Elastic { alpha, sigma, .. }
                if !alpha
                    .iter()
                    .chain(&sigma)
                    .all(|v| v.is_finite() && *v >= 0.0) =>
            {
                return Err(Error::Arg(ArgError::new(
                    "alpha/sigma",
                    format!("{alpha:?}/{sigma:?}"),
                    "must be finite and non-negative",
                )));
            }
            DrawnParams::Erase {
                top,
                left,
                height,
                width,
                ..
            } => {
                if top.checked_add(height).is_none() {
                    return bad("height", height, "top + height overflows");
                }
                if left.checked_add(width).is_none() {
                    return bad("width", width, "left + width overflows");
                }
            }
            DrawnParams::Jpeg { quality } => super::jpeg::check(dims, quality)?,
            DrawnParams::AugMix { config, .. } => config.check()?,
            _ => {}
        }
        Ok(())
    }

    /// Applies these parameters to one image in place.
    ///
    /// # Panics
    ///
    /// If `img.len() != dims.len()` (a programming error; the public entry
    /// points check it and return [`Error::ShapeMismatch`](crate::Error::ShapeMismatch)).
    pub fn apply(&self, dims: ImageShape, img: &mut [f32], scratch: &mut Vec<f32>) {
        self.apply_with_field(dims, img, scratch, None);
    }

    /// [`apply`](Self::apply), an elastic warp reading `field` (its
    /// displacement field, built by the caller for the image and its mask
    /// alike) when given instead of building its own.
    pub(crate) fn apply_with_field(
        &self,
        dims: ImageShape,
        img: &mut [f32],
        scratch: &mut Vec<f32>,
        field: Option<&[f32]>,
    ) {
        assert_eq!(
            img.len(),
            dims.len(),
            "DrawnParams::apply: image length vs dims {dims:?}"
        );
        match *self {
            DrawnParams::Identity => {}
            DrawnParams::HFlip { flip } => {
                if flip {
                    flip::hflip(dims, img)
                }
            }
            DrawnParams::VFlip { flip } => {
                if flip {
                    flip::vflip(dims, img)
                }
            }
            DrawnParams::Crop {
                top,
                left,
                pad,
                mode,
            } => crop::pad_crop(dims, img, scratch, top, left, pad, mode),
            DrawnParams::ResizedCrop {
                top,
                left,
                height,
                width,
            } => crop::resized_crop(dims, img, scratch, top, left, height, width),
            DrawnParams::Affine(a) => affine::warp(dims, img, scratch, &a),
            DrawnParams::Brightness { factor } => color::brightness(img, factor as f64),
            DrawnParams::Contrast { factor } => color::contrast(dims, img, factor as f64),
            DrawnParams::Saturation { factor } => color::saturation(dims, img, factor as f64),
            DrawnParams::Hue { shift } => color::hue(dims, img, shift as f64),
            DrawnParams::ChannelShift { shifts } => color::channel_shift(dims, img, &shifts),
            DrawnParams::Grayscale { apply } => {
                if apply {
                    color::grayscale(dims, img)
                }
            }
            DrawnParams::Noise { mean, sigma, seed } => color::noise(img, mean, sigma, seed),
            DrawnParams::Erase {
                top,
                left,
                height,
                width,
                value,
            } => erase::erase(dims, img, top, left, height, width, value),
            DrawnParams::Solarize { threshold } => tone::solarize(img, threshold as f64),
            DrawnParams::Posterize { bits } => tone::posterize(img, bits),
            DrawnParams::AutoContrast => tone::autocontrast(dims, img),
            DrawnParams::Equalize => tone::equalize(dims, img),
            DrawnParams::Sharpness { factor } => tone::sharpness(dims, img, scratch, factor as f64),
            DrawnParams::Invert => tone::invert(img),
            DrawnParams::Blur { kernel_size, sigma } => {
                if self.check(dims).is_ok() && !dims.is_empty() {
                    let kx = blur::gaussian_kernel1d::<f32>(kernel_size[0], sigma[0] as f64);
                    let ky = blur::gaussian_kernel1d::<f32>(kernel_size[1], sigma[1] as f64);
                    let src = stash(img, scratch);
                    blur::gaussian_blur(src, dims, img, &kx, &ky);
                }
            }
            DrawnParams::Perspective {
                coefficients,
                fill,
                interpolation,
            } => {
                if !dims.is_empty() {
                    let src = stash(img, scratch);
                    grid::perspective(src, dims, img, &coefficients, interpolation, Some(&[fill]));
                }
            }
            DrawnParams::Elastic {
                alpha,
                sigma,
                seed,
                fill,
                interpolation,
            } => {
                if self.check(dims).is_ok() && !dims.is_empty() {
                    let field = warp::given_or_built(field, dims, alpha, sigma, seed);
                    let src = stash(img, scratch);
                    grid::elastic(src, dims, img, &field, interpolation, Some(&[fill]));
                }
            }
            DrawnParams::Jpeg { quality } => super::jpeg::apply(dims, img, quality),
            DrawnParams::AugMix { seed, config } => {
                if let Ok(augmix) = super::AugMix::new(config)
                    && !dims.is_empty()
                {
                    augmix.mixture(seed, dims).mix(dims, img, scratch);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::replay;
    use proptest::prelude::*;

    const BIG: [usize; 4] = [usize::MAX, usize::MAX / 2, isize::MAX as usize, 1 << 40];

    #[test]
    #[allow(deprecated)]
    fn the_old_names_still_name_the_renamed_types() {
        let old: crate::image::Params = crate::image::Params::HFlip { flip: true };
        let new: DrawnParams = serde_json::from_str(&serde_json::to_string(&old).unwrap()).unwrap();
        assert_eq!(new, DrawnParams::HFlip { flip: true });
        let noise: crate::image::GaussianNoise =
            crate::image::GaussianNoise::new(0.0, 0.1).unwrap();
        let _: &crate::image::GaussianNoiseImage = &noise;
    }

    fn logged() -> Vec<DrawnParams> {
        let mut out = Vec::new();
        for &a in &BIG {
            for &b in &[0, 1, 3, a] {
                out.push(DrawnParams::Crop {
                    top: a,
                    left: b,
                    pad: b,
                    mode: PadMode::Reflect,
                });
                out.push(DrawnParams::Crop {
                    top: b,
                    left: b,
                    pad: a,
                    mode: PadMode::Constant(0.5),
                });
                out.push(DrawnParams::ResizedCrop {
                    top: a,
                    left: 0,
                    height: b.max(1),
                    width: 2,
                });
                out.push(DrawnParams::ResizedCrop {
                    top: 0,
                    left: b,
                    height: 2,
                    width: a,
                });
                out.push(DrawnParams::Erase {
                    top: a,
                    left: b,
                    height: a,
                    width: b,
                    value: 0.0,
                });
            }
        }
        out
    }

    #[test]
    fn replaying_huge_logged_crops_and_erasures_is_a_typed_error_or_fits() {
        let dims = ImageShape::new(2, 3, 4);
        let mut scratch = Vec::new();
        for p in logged() {
            let img: Vec<f32> = (0..dims.len()).map(|i| i as f32 / 24.0).collect();
            let mut out = img.clone();
            match replay(&[p], dims, &mut out, &mut scratch) {
                Ok(()) => assert!(out.iter().all(|v| (0.0..=1.0).contains(v)), "{p:?}"),
                Err(e) => {
                    assert!(matches!(e, Error::Arg(ArgError { .. })), "{p:?}: {e}");
                    assert_eq!(out, img, "{p:?} changed the image before failing");
                }
            }
            // applying them directly never panics either
            p.apply(dims, &mut out, &mut scratch);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_window_params_never_panic(
            top in any::<usize>(), left in any::<usize>(), a in any::<usize>(), b in any::<usize>(),
            small: bool,
        ) {
            let (top, left, a, b) = if small { (top % 8, left % 8, a % 8, b % 8) } else { (top, left, a, b) };
            let dims = ImageShape::new(1, 3, 5);
            let mut scratch = Vec::new();
            for p in [
                DrawnParams::Crop { top, left, pad: a, mode: PadMode::Reflect },
                DrawnParams::Crop { top, left, pad: a, mode: PadMode::Constant(0.0) },
                DrawnParams::ResizedCrop { top, left, height: a, width: b },
                DrawnParams::Erase { top, left, height: a, width: b, value: 1.0 },
                DrawnParams::Blur { kernel_size: [a, b], sigma: [1.0, 0.5] },
                DrawnParams::Elastic {
                    alpha: [a as f32, 1e30], sigma: [b as f32, 1e30], seed: 1,
                    fill: 0.5, interpolation: Interpolation::Nearest,
                },
                DrawnParams::Perspective {
                    coefficients: [a as f64, 0.0, 1e300, 0.0, b as f64, 0.0, 1e-300, 0.0],
                    fill: 0.0, interpolation: Interpolation::Bilinear,
                },
            ] {
                let mut img = vec![0.5f32; dims.len()];
                let _ = replay(&[p], dims, &mut img, &mut scratch);
                p.apply(dims, &mut img, &mut scratch);
            }
        }
    }
}
