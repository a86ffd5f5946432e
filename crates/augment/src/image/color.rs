//! Colour ops: brightness, contrast, saturation, hue (torchvision
//! `ColorJitter`), per-channel shift, grayscale and Gaussian noise.
//!
//! Saturation, hue and grayscale act on the first three channels (RGB) and
//! leave images with fewer than three channels unchanged.

use super::grid::clamp;
use super::spec::OpSpec;
use super::{DrawnParams, ImageAugment, ImageShape};
use crate::ArgError;
use crate::error::check_prob;
use crate::{Error, OpCtx, Result};
use descent_core::Scalar;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// ITU-R 601 luma weights, as torchvision's `rgb_to_grayscale`.
const LUMA: [f64; 3] = [0.2989, 0.587, 0.114];

/// The configuration of [`ColorJitter`]; `Default` is torchvision's (all 0: no change).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, Default)]
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
                return Err(Error::Arg(ArgError::new(
                    name,
                    v,
                    "must be finite and non-negative",
                )));
            }
        }
        if !(0.0..=0.5).contains(&config.hue) {
            return Err(Error::Arg(ArgError::new(
                "hue",
                config.hue,
                "must lie in [0, 0.5]",
            )));
        }
        Ok(ColorJitter { config })
    }
}

impl ImageAugment for ColorJitter {
    fn spec(&self) -> Option<OpSpec> {
        Some(OpSpec::ColorJitter(self.config))
    }

    fn draw(&self, ctx: OpCtx, _dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
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
                0 => b.map(|factor| emit(DrawnParams::Brightness { factor })),
                1 => k.map(|factor| emit(DrawnParams::Contrast { factor })),
                2 => s.map(|factor| emit(DrawnParams::Saturation { factor })),
                _ => hue.map(|shift| emit(DrawnParams::Hue { shift })),
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
            return Err(Error::Arg(ArgError::new(
                "limit",
                limit,
                "must lie in [0, 1]",
            )));
        }
        Ok(ChannelShift { limit })
    }
}

impl ImageAugment for ChannelShift {
    fn spec(&self) -> Option<OpSpec> {
        Some(OpSpec::ChannelShift { limit: self.limit })
    }

    fn draw(&self, ctx: OpCtx, _dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        let mut rng = ctx.rng();
        let shifts = std::array::from_fn(|_| rng.random_range(-self.limit..=self.limit));
        emit(DrawnParams::ChannelShift { shifts })
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
    fn spec(&self) -> Option<OpSpec> {
        Some(OpSpec::RandomGrayscale { p: self.p })
    }

    fn draw(&self, ctx: OpCtx, _dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        emit(DrawnParams::Grayscale {
            apply: ctx.rng().random_bool(self.p),
        })
    }
}

/// torchvision `GaussianNoise` (defaults `mean = 0`, `sigma = 0.1`, clipped),
/// named apart from `descent_nn::GaussianNoise`, the layer that adds noise to
/// activations. In a serialized pipeline it is still `OpSpec::GaussianNoise`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[doc(alias = "GaussianNoise")]
pub struct GaussianNoiseImage {
    mean: f32,
    sigma: f32,
}

impl GaussianNoiseImage {
    /// Additive Gaussian noise.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::GaussianNoiseImage;
    ///
    /// let noise = GaussianNoiseImage::new(0.0, 0.1)?;
    /// assert!(GaussianNoiseImage::new(0.0, -1.0).is_err());
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(mean: f32, sigma: f32) -> Result<Self> {
        if !(sigma.is_finite() && sigma >= 0.0 && mean.is_finite()) {
            return Err(Error::Arg(ArgError::new(
                "sigma",
                sigma,
                "must be finite and non-negative",
            )));
        }
        Ok(GaussianNoiseImage { mean, sigma })
    }
}

impl ImageAugment for GaussianNoiseImage {
    fn spec(&self) -> Option<OpSpec> {
        Some(OpSpec::GaussianNoise {
            mean: self.mean,
            sigma: self.sigma,
        })
    }

    fn draw(&self, ctx: OpCtx, _dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        emit(DrawnParams::Noise {
            mean: self.mean,
            sigma: self.sigma,
            seed: ctx.rng().random(),
        })
    }
}

/// torchvision `adjust_brightness`: `clamp(f·x, 0, 1)`.
pub(crate) fn brightness<T: Scalar>(img: &mut [T], factor: f64) {
    let (f, zero, one) = (T::cast(factor), T::cast(0.0), T::cast(1.0));
    for v in img {
        *v = clamp(*v * f, zero, one);
    }
}

/// torchvision's grey level `0.2989·R + 0.587·G + 0.114·B`, in its order.
#[inline]
pub(crate) fn luma<T: Scalar>(r: T, g: T, b: T) -> T {
    r * T::cast(LUMA[0]) + g * T::cast(LUMA[1]) + b * T::cast(LUMA[2])
}

/// The grey level of pixel `i` (the value itself for non-RGB images).
#[inline]
fn gray_at<T: Scalar>(dims: ImageShape, img: &[T], i: usize) -> T {
    let p = dims.plane();
    if dims.c >= 3 {
        luma(img[i], img[p + i], img[2 * p + i])
    } else {
        img[i]
    }
}

/// torchvision `_blend`: `clamp(x·f + y·(1 − f), 0, 1)`.
#[inline]
fn blend<T: Scalar>(x: T, y: T, f: T, g: T) -> T {
    clamp(x * f + y * g, T::cast(0.0), T::cast(1.0))
}

/// torchvision `adjust_contrast`: blend every value with the mean grey
/// level (of the RGB channels when there are three or more, else of the
/// whole image).
pub(crate) fn contrast<T: Scalar>(dims: ImageShape, img: &mut [T], factor: f64) {
    let p = dims.plane();
    if p == 0 {
        return;
    }
    let mut sum = T::cast(0.0);
    let n = if dims.c >= 3 {
        for i in 0..p {
            sum += gray_at(dims, img, i);
        }
        p
    } else {
        for &v in img.iter() {
            sum += v;
        }
        img.len()
    };
    let mean = sum / T::from_count(n);
    let (f, g) = (T::cast(factor), T::cast(1.0 - factor));
    for v in img {
        *v = blend(*v, mean, f, g);
    }
}

/// torchvision `adjust_saturation`: blend the RGB channels with their grey
/// level; images with fewer than three channels are unchanged.
pub(crate) fn saturation<T: Scalar>(dims: ImageShape, img: &mut [T], factor: f64) {
    let p = dims.plane();
    if dims.c < 3 {
        return;
    }
    let (f, g) = (T::cast(factor), T::cast(1.0 - factor));
    for i in 0..p {
        let gray = gray_at(dims, img, i);
        for ch in 0..3 {
            img[ch * p + i] = blend(img[ch * p + i], gray, f, g);
        }
    }
}

/// Replaces the RGB channels by their grey level (the channel count is
/// kept; images with fewer than three channels are unchanged).
pub(crate) fn grayscale<T: Scalar>(dims: ImageShape, img: &mut [T]) {
    let p = dims.plane();
    if dims.c < 3 {
        return;
    }
    for i in 0..p {
        let g = gray_at(dims, img, i);
        for ch in 0..3 {
            img[ch * p + i] = g;
        }
    }
}

/// The grey plane of an RGB image (its first three channels) into `dst`.
pub(crate) fn gray_plane<T: Scalar>(dims: ImageShape, img: &[T], dst: &mut [T]) {
    for (i, d) in dst.iter_mut().enumerate().take(dims.plane()) {
        *d = gray_at(dims, img, i);
    }
}

/// torchvision `adjust_hue`, computed in f32 as torchvision does for every
/// float input: RGB → HSV (`_rgb_to_hsv`), `h ← (h + shift) mod 1`, and
/// back (`_hsv_to_rgb`), per pixel of the first three channels.
pub(crate) fn hue<T: Scalar>(dims: ImageShape, img: &mut [T], shift: f64) {
    let p = dims.plane();
    if dims.c < 3 || shift == 0.0 {
        return;
    }
    let shift = shift as f32;
    for i in 0..p {
        let rgb = [img[i], img[p + i], img[2 * p + i]].map(|v| v.as_f64() as f32);
        let [h, s, v] = rgb_to_hsv(rgb);
        let h = (h + shift).rem_euclid(1.0);
        let out = hsv_to_rgb(h, s, v);
        for (ch, o) in out.into_iter().enumerate() {
            img[ch * p + i] = T::cast(o as f64);
        }
    }
}

/// torchvision `_rgb_to_hsv` for one pixel.
fn rgb_to_hsv([r, g, b]: [f32; 3]) -> [f32; 3] {
    let maxc = r.max(g).max(b);
    let minc = r.min(g).min(b);
    let eqc = maxc == minc;
    let range = maxc - minc;
    let s = range / if eqc { 1.0 } else { maxc };
    let div = if eqc { 1.0 } else { range };
    let (rc, gc, bc) = ((maxc - r) / div, (maxc - g) / div, (maxc - b) / div);
    let (neq_r, eq_g) = (maxc != r, maxc == g);
    let mask = |m: bool| if m { 1.0f32 } else { 0.0 };
    let hg = (rc + 2.0 - bc) * mask(eq_g && neq_r);
    let hr = (bc - gc) * mask(!neq_r);
    let hb = (gc + 4.0 - rc) * mask(neq_r && !eq_g);
    let h = hr + hg + hb;
    let h = (h * (1.0f64 / 6.0) as f32 + 1.0) % 1.0;
    [h, s, maxc]
}

/// torchvision `_hsv_to_rgb` for one pixel.
fn hsv_to_rgb(h: f32, s: f32, v: f32) -> [f32; 3] {
    let h6 = h * 6.0;
    let i = h6.floor();
    let f = h6 - i;
    let sxf = s * f;
    let one_minus_s = 1.0 - s;
    let q = ((1.0 - sxf) * v).clamp(0.0, 1.0);
    let t = ((sxf + one_minus_s) * v).clamp(0.0, 1.0);
    let p = (one_minus_s * v).clamp(0.0, 1.0);
    let vpqt = [v, p, q, t];
    const SELECT: [[usize; 6]; 3] = [[0, 2, 1, 1, 3, 0], [3, 0, 0, 2, 1, 1], [1, 1, 3, 0, 0, 2]];
    let i = (i as i32).rem_euclid(6) as usize;
    [vpqt[SELECT[0][i]], vpqt[SELECT[1][i]], vpqt[SELECT[2][i]]]
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
            check_in_range(&GaussianNoiseImage::new(0.0, 0.3).unwrap(), dims, &img, index);
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
        fn hue_shift_keeps_grey_pixels(g in 0.0f32..=1.0, shift in -0.5f64..0.5) {
            let dims = ImageShape::new(3, 1, 1);
            let mut x = vec![g; 3];
            hue(dims, &mut x, shift);
            prop_assert_eq!(x, vec![g; 3]);
        }
    }

    #[test]
    fn hue_by_a_third_turns_red_into_green() {
        let mut x = vec![1.0f32, 0.0, 0.0];
        hue(ImageShape::new(3, 1, 1), &mut x, 1.0 / 3.0);
        assert!(
            (x[0] - 0.0).abs() < 1e-5 && (x[1] - 1.0).abs() < 1e-5 && x[2].abs() < 1e-5,
            "{x:?}"
        );
    }
}
