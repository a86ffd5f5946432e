//! Colour ops: brightness, contrast, saturation, hue (torchvision
//! `ColorJitter`), per-channel shift, grayscale and Gaussian noise.
//!
//! Saturation, hue and grayscale act on the first three channels (RGB) and
//! leave images with fewer than three channels unchanged.

use super::{ImageAugment, ImageShape, Params};
use crate::error::check_prob;
use crate::{Error, OpCtx, Result};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// ITU-R 601 luma weights, as torchvision's `rgb_to_grayscale`.
const LUMA: [f32; 3] = [0.2989, 0.587, 0.114];

/// The configuration of [`ColorJitter`]; `Default` is torchvision's (all 0: no change).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ColorJitterConfig {
    /// Brightness factor drawn from `[max(0, 1 - b), 1 + b]`.
    pub brightness: f32,
    /// Contrast factor drawn from `[max(0, 1 - c), 1 + c]`.
    pub contrast: f32,
    /// Saturation factor drawn from `[max(0, 1 - s), 1 + s]`.
    pub saturation: f32,
    /// Hue shift drawn from `[-h, h]`, `h <= 0.5`.
    pub hue: f32,
}

/// torchvision `ColorJitter`: the enabled adjustments in a random order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColorJitter {
    config: ColorJitterConfig,
}

impl ColorJitter {
    /// A colour jitter.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{ColorJitter, ColorJitterConfig};
    ///
    /// let jitter = ColorJitter::new(ColorJitterConfig { brightness: 0.2, contrast: 0.2, ..Default::default() })?;
    /// assert!(ColorJitter::new(ColorJitterConfig { hue: 0.7, ..Default::default() }).is_err());
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(config: ColorJitterConfig) -> Result<Self> {
        for (name, v) in [
            ("brightness", config.brightness),
            ("contrast", config.contrast),
            ("saturation", config.saturation),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::config(name, v, "must be finite and non-negative"));
            }
        }
        if !(0.0..=0.5).contains(&config.hue) {
            return Err(Error::config("hue", config.hue, "must lie in [0, 0.5]"));
        }
        Ok(ColorJitter { config })
    }
}

impl ImageAugment for ColorJitter {
    fn draw(&self, ctx: OpCtx, _dims: ImageShape, emit: &mut dyn FnMut(Params)) {
        let c = &self.config;
        let mut rng = ctx.rng();
        let mut order = [0usize, 1, 2, 3];
        for i in (1..4).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        let mut factor = |r: f32| {
            if r > 0.0 {
                Some(rng.random_range((1.0 - r).max(0.0)..=1.0 + r))
            } else {
                None
            }
        };
        let b = factor(c.brightness);
        let k = factor(c.contrast);
        let s = factor(c.saturation);
        let hue = (c.hue > 0.0).then(|| rng.random_range(-c.hue..=c.hue));
        for i in order {
            match i {
                0 => b.map(|factor| emit(Params::Brightness { factor })),
                1 => k.map(|factor| emit(Params::Contrast { factor })),
                2 => s.map(|factor| emit(Params::Saturation { factor })),
                _ => hue.map(|shift| emit(Params::Hue { shift })),
            };
        }
    }
}

/// Adds a shift uniform in `[-limit, limit]` to each channel
/// (albumentations `RGBShift`, any channel count).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChannelShift {
    limit: f32,
}

impl ChannelShift {
    /// A per-channel shift; albumentations' default limit is 20/255.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::ChannelShift;
    ///
    /// let shift = ChannelShift::new(20.0 / 255.0)?;
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(limit: f32) -> Result<Self> {
        if !(0.0..=1.0).contains(&limit) {
            return Err(Error::config("limit", limit, "must lie in [0, 1]"));
        }
        Ok(ChannelShift { limit })
    }
}

impl ImageAugment for ChannelShift {
    fn draw(&self, ctx: OpCtx, _dims: ImageShape, emit: &mut dyn FnMut(Params)) {
        let mut rng = ctx.rng();
        let shifts = std::array::from_fn(|_| rng.random_range(-self.limit..=self.limit));
        emit(Params::ChannelShift { shifts })
    }
}

/// torchvision `RandomGrayscale` (default `p = 0.1`), keeping the channel count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomGrayscale {
    p: f64,
}

impl RandomGrayscale {
    /// Grayscale with probability `p`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::RandomGrayscale;
    ///
    /// let gray = RandomGrayscale::new(0.1)?;
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(p: f64) -> Result<Self> {
        check_prob("p", p)?;
        Ok(RandomGrayscale { p })
    }
}

impl ImageAugment for RandomGrayscale {
    fn draw(&self, ctx: OpCtx, _dims: ImageShape, emit: &mut dyn FnMut(Params)) {
        emit(Params::Grayscale {
            apply: ctx.rng().random_bool(self.p),
        })
    }
}

/// torchvision `GaussianNoise` (defaults `mean = 0`, `sigma = 0.1`, clipped).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GaussianNoise {
    mean: f32,
    sigma: f32,
}

impl GaussianNoise {
    /// Additive Gaussian noise.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::GaussianNoise;
    ///
    /// let noise = GaussianNoise::new(0.0, 0.1)?;
    /// assert!(GaussianNoise::new(0.0, -1.0).is_err());
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(mean: f32, sigma: f32) -> Result<Self> {
        if !(sigma.is_finite() && sigma >= 0.0 && mean.is_finite()) {
            return Err(Error::config(
                "sigma",
                sigma,
                "must be finite and non-negative",
            ));
        }
        Ok(GaussianNoise { mean, sigma })
    }
}

impl ImageAugment for GaussianNoise {
    fn draw(&self, ctx: OpCtx, _dims: ImageShape, emit: &mut dyn FnMut(Params)) {
        emit(Params::Noise {
            mean: self.mean,
            sigma: self.sigma,
            seed: ctx.rng().random(),
        })
    }
}

pub(crate) fn brightness(img: &mut [f32], factor: f32) {
    for v in img {
        *v = (*v * factor).clamp(0.0, 1.0);
    }
}

/// The grey level of pixel `i` (the value itself for non-RGB images).
fn gray_at(dims: ImageShape, img: &[f32], i: usize) -> f32 {
    let p = dims.plane();
    if dims.c >= 3 {
        LUMA[0] * img[i] + LUMA[1] * img[p + i] + LUMA[2] * img[2 * p + i]
    } else {
        img[i]
    }
}

pub(crate) fn contrast(dims: ImageShape, img: &mut [f32], factor: f32) {
    let p = dims.plane();
    if p == 0 {
        return;
    }
    let mean = if dims.c >= 3 {
        (0..p).map(|i| gray_at(dims, img, i)).sum::<f32>() / p as f32
    } else {
        img.iter().sum::<f32>() / img.len() as f32
    };
    let offset = (1.0 - factor) * mean;
    for v in img {
        *v = (factor * *v + offset).clamp(0.0, 1.0);
    }
}

pub(crate) fn saturation(dims: ImageShape, img: &mut [f32], factor: f32) {
    let p = dims.plane();
    if dims.c < 3 {
        return;
    }
    for i in 0..p {
        let g = (1.0 - factor) * gray_at(dims, img, i);
        for ch in 0..3 {
            img[ch * p + i] = (factor * img[ch * p + i] + g).clamp(0.0, 1.0);
        }
    }
}

pub(crate) fn grayscale(dims: ImageShape, img: &mut [f32]) {
    let p = dims.plane();
    if dims.c < 3 {
        return;
    }
    for i in 0..p {
        let g = gray_at(dims, img, i).clamp(0.0, 1.0);
        for ch in 0..3 {
            img[ch * p + i] = g;
        }
    }
}

/// torchvision `adjust_hue`: RGB → HSV, rotate hue, back.
pub(crate) fn hue(dims: ImageShape, img: &mut [f32], shift: f32) {
    let p = dims.plane();
    if dims.c < 3 || shift == 0.0 {
        return;
    }
    for i in 0..p {
        let (r, g, b) = (img[i], img[p + i], img[2 * p + i]);
        let max = r.max(g).max(b);
        let min = r.min(g).min(b);
        let cr = max - min;
        let s = if max > 0.0 { cr / max } else { 0.0 };
        let mut h = if cr == 0.0 {
            0.0
        } else if max == r {
            ((g - b) / cr).rem_euclid(6.0) / 6.0
        } else if max == g {
            ((b - r) / cr + 2.0) / 6.0
        } else {
            ((r - g) / cr + 4.0) / 6.0
        };
        h = (h + shift).rem_euclid(1.0);
        let (h6, v) = (h * 6.0, max);
        let sector = (h6.floor() as i32).rem_euclid(6);
        let f = h6 - h6.floor();
        let (pp, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
        let (r, g, b) = match sector {
            0 => (v, t, pp),
            1 => (q, v, pp),
            2 => (pp, v, t),
            3 => (pp, q, v),
            4 => (t, pp, v),
            _ => (v, pp, q),
        };
        img[i] = r.clamp(0.0, 1.0);
        img[p + i] = g.clamp(0.0, 1.0);
        img[2 * p + i] = b.clamp(0.0, 1.0);
    }
}

pub(crate) fn channel_shift(dims: ImageShape, img: &mut [f32], shifts: &[f32; 8]) {
    if dims.plane() == 0 {
        return;
    }
    for (ch, plane) in img.chunks_exact_mut(dims.plane()).enumerate() {
        let s = shifts[ch % 8];
        for v in plane {
            *v = (*v + s).clamp(0.0, 1.0);
        }
    }
}

/// Adds `N(mean, sigma²)` noise from a ChaCha8 stream seeded by `seed`
/// (Box–Muller: `rand_distr` is not a workspace dependency).
pub(crate) fn noise(img: &mut [f32], mean: f32, sigma: f32, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for pair in img.chunks_mut(2) {
        let u1: f64 = 1.0 - rng.random::<f64>();
        let u2: f64 = rng.random();
        let r = (-2.0 * u1.ln()).sqrt();
        let t = std::f64::consts::TAU * u2;
        let z = [r * t.cos(), r * t.sin()];
        for (v, z) in pair.iter_mut().zip(z) {
            *v = (*v + mean + sigma * z as f32).clamp(0.0, 1.0);
        }
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
        fn colour_ops_keep_shape_and_range((dims, img) in image(), index in 0u64..100) {
            let jitter = ColorJitterConfig { brightness: 0.8, contrast: 0.8, saturation: 0.8, hue: 0.5 };
            check_in_range(&ColorJitter::new(jitter).unwrap(), dims, &img, index);
            check_in_range(&ChannelShift::new(0.2).unwrap(), dims, &img, index);
            check_in_range(&RandomGrayscale::new(0.5).unwrap(), dims, &img, index);
            check_in_range(&GaussianNoise::new(0.0, 0.3).unwrap(), dims, &img, index);
        }

        #[test]
        fn unit_factors_are_the_identity((dims, img) in image()) {
            let mut x = img.clone();
            brightness(&mut x, 1.0);
            prop_assert_eq!(&x, &img);
            saturation(dims, &mut x, 1.0);
            prop_assert_eq!(&x, &img);
            contrast(dims, &mut x, 1.0);
            prop_assert_eq!(&x, &img);
        }

        #[test]
        fn hue_shift_keeps_grey_pixels(g in 0.0f32..=1.0, shift in -0.5f32..0.5) {
            let dims = ImageShape::new(3, 1, 1);
            let mut x = vec![g; 3];
            hue(dims, &mut x, shift);
            prop_assert_eq!(x, vec![g; 3]);
        }
    }

    #[test]
    fn hue_by_a_third_turns_red_into_green() {
        let mut x = vec![1.0, 0.0, 0.0];
        hue(ImageShape::new(3, 1, 1), &mut x, 1.0 / 3.0);
        assert!(
            (x[0] - 0.0).abs() < 1e-5 && (x[1] - 1.0).abs() < 1e-5 && x[2].abs() < 1e-5,
            "{x:?}"
        );
    }
}
