//! Random crop with padding and random resized crop (zoom in).

use super::grid::{Interpolation, clamp};
use super::spec::OpSpec;
use super::{DrawnParams, ImageAugment, ImageShape, stash};
use crate::ArgError;
use crate::error::check_range;
use crate::{Error, OpCtx, Result};
use descent_core::Scalar;
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// How padding is filled (torchvision `padding_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum PadMode {
    /// A constant value (torchvision `fill`, default 0).
    Constant(f32),
    /// Mirror without repeating the edge pixel (torchvision `reflect`).
    Reflect,
    /// Repeat the edge pixel (torchvision `edge`).
    Edge,
    /// Mirror repeating the edge pixel (torchvision `symmetric`).
    Symmetric,
}

/// Pads by `pad` pixels and crops back to the original size at a random
/// position (torchvision `RandomCrop(size, padding=pad)`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomCrop {
    pad: usize,
    mode: PadMode,
}

impl RandomCrop {
    /// A random crop after padding by `pad` on each side.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{PadMode, RandomCrop};
    ///
    /// let crop = RandomCrop::new(4, PadMode::Constant(0.0))?;
    /// assert!(RandomCrop::new(4, PadMode::Constant(2.0)).is_err());
    /// assert!(RandomCrop::new(usize::MAX, PadMode::Reflect).is_err());
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(pad: usize, mode: PadMode) -> Result<Self> {
        if pad
            .checked_mul(2)
            .is_none_or(|span| span > isize::MAX as usize)
        {
            return Err(Error::Arg(ArgError::new(
                "pad",
                pad,
                "is too large to pad an image by",
            )));
        }
        if let PadMode::Constant(fill) = mode
            && !(0.0..=1.0).contains(&fill)
        {
            return Err(Error::Arg(ArgError::new(
                "fill",
                fill,
                "must lie in [0, 1]",
            )));
        }
        Ok(RandomCrop { pad, mode })
    }
}

impl ImageAugment for RandomCrop {
    fn spec(&self) -> Option<OpSpec> {
        Some(OpSpec::RandomCrop {
            pad: self.pad,
            mode: self.mode,
        })
    }

    fn draw(&self, ctx: OpCtx, _dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        let mut rng = ctx.rng();
        let top = rng.random_range(0..=2 * self.pad);
        let left = rng.random_range(0..=2 * self.pad);
        emit(DrawnParams::Crop {
            top,
            left,
            pad: self.pad,
            mode: self.mode,
        })
    }
}

/// How the border of a padded (or windowed) image is filled (torchvision
/// `padding_mode`), without the fill value itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaddingMode {
    /// A constant fill (torchvision `constant`).
    #[default]
    Constant,
    /// Mirror without repeating the edge pixel: `c b | a b c | b a`
    /// (torchvision `reflect`).
    Reflect,
    /// Repeat the edge pixel: `a a | a b c | c c` (torchvision `edge`).
    Edge,
    /// Mirror repeating the edge pixel: `b a | a b c | c b` (torchvision `symmetric`).
    Symmetric,
}

impl PadMode {
    /// The padding mode and, for a constant, its fill value.
    pub(crate) fn split(self) -> (PaddingMode, Option<f32>) {
        match self {
            PadMode::Constant(f) => (PaddingMode::Constant, Some(f)),
            PadMode::Reflect => (PaddingMode::Reflect, None),
            PadMode::Edge => (PaddingMode::Edge, None),
            PadMode::Symmetric => (PaddingMode::Symmetric, None),
        }
    }
}

/// The source index of padded index `i` along an axis of length `n > 0`,
/// or `None` where a constant fill goes.
pub(crate) fn pad_index(mode: PaddingMode, i: isize, n: usize) -> Option<usize> {
    let n = n as isize;
    if (0..n).contains(&i) {
        return Some(i as usize);
    }
    Some(match mode {
        PaddingMode::Constant => return None,
        PaddingMode::Reflect => {
            if n == 1 {
                0
            } else {
                let period = 2 * (n - 1);
                let m = i.rem_euclid(period);
                (if m < n { m } else { period - m }) as usize
            }
        }
        PaddingMode::Edge => i.clamp(0, n - 1) as usize,
        PaddingMode::Symmetric => {
            let m = i.rem_euclid(2 * n);
            (if m < n { m } else { 2 * n - 1 - m }) as usize
        }
    })
}

/// Writes the `oh × ow` window at `(top, left)` of `src` (which may reach
/// outside it) into `dst`, reading outside pixels per `mode`; a constant
/// border takes `fill[ch]` (one value for all channels when its length is
/// 1, zero when `None`). `pad`, `crop` and the padded random crop are all
/// this one window.
pub(crate) fn window<T: Copy + Default>(
    src: &[T],
    dims: ImageShape,
    dst: &mut [T],
    (top, left): (isize, isize),
    (oh, ow): (usize, usize),
    mode: PaddingMode,
    fill: Option<&[T]>,
) {
    let (h, w) = (dims.h, dims.w);
    if dims.is_empty() || oh == 0 || ow == 0 {
        return;
    }
    // Output columns whose source column lies inside the image.
    let x_lo = (-left).clamp(0, ow as isize) as usize;
    let x_hi = (w as isize - left).clamp(0, ow as isize) as usize;
    let planes_in = src.chunks_exact(h * w);
    let planes_out = dst.chunks_exact_mut(oh * ow);
    for (ch, (plane_out, plane_in)) in planes_out.zip(planes_in).enumerate() {
        let f = fill.map_or_else(T::default, |f| if f.len() == 1 { f[0] } else { f[ch] });
        if mode == PaddingMode::Constant {
            // Whole rows: fill the border, copy the inside span.
            for (y, row) in plane_out.chunks_exact_mut(ow).enumerate() {
                let sy = y as isize + top;
                if sy < 0 || sy >= h as isize {
                    row.fill(f);
                    continue;
                }
                let src_row = &plane_in[sy as usize * w..(sy as usize + 1) * w];
                row[..x_lo].fill(f);
                row[x_hi.max(x_lo)..].fill(f);
                if x_lo < x_hi {
                    let s0 = (x_lo as isize + left) as usize;
                    row[x_lo..x_hi].copy_from_slice(&src_row[s0..s0 + (x_hi - x_lo)]);
                }
            }
            continue;
        }
        for (y, row) in plane_out.chunks_exact_mut(ow).enumerate() {
            let Some(sy) = pad_index(mode, y as isize + top, h) else {
                row.fill(f);
                continue;
            };
            let src_row = &plane_in[sy * w..(sy + 1) * w];
            for (x, v) in row.iter_mut().enumerate() {
                *v = pad_index(mode, x as isize + left, w).map_or(f, |sx| src_row[sx]);
            }
        }
    }
}

/// Pads and crops in place (through `scratch`).
pub(crate) fn pad_crop(
    dims: ImageShape,
    img: &mut [f32],
    scratch: &mut Vec<f32>,
    top: usize,
    left: usize,
    pad: usize,
    mode: PadMode,
) {
    if dims.is_empty() || (top == pad && left == pad) {
        return;
    }
    // A window outside the padded image is not a crop (DrawnParams::check rejects
    // it before a replay); within it, every offset below fits an isize.
    let span = pad.checked_mul(2).filter(|&s| s <= isize::MAX as usize / 2);
    if span.is_none_or(|span| top > span || left > span) {
        return;
    }
    let src = stash(img, scratch);
    let (mode, fill) = mode.split();
    let fill = fill.map(|f| [f]);
    let origin = (top as isize - pad as isize, left as isize - pad as isize);
    window(
        src,
        dims,
        img,
        origin,
        (dims.h, dims.w),
        mode,
        fill.as_ref().map(|f| &f[..]),
    );
}

/// The configuration of [`RandomResizedCrop`]; `Default` is torchvision's.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RandomResizedCropConfig {
    /// Range of the crop's area as a fraction of the image's (default (0.08, 1)).
    pub scale: (f32, f32),
    /// Range of the crop's aspect ratio w/h (default (3/4, 4/3)).
    pub ratio: (f32, f32),
}

impl Default for RandomResizedCropConfig {
    fn default() -> Self {
        RandomResizedCropConfig {
            scale: (0.08, 1.0),
            ratio: (3.0 / 4.0, 4.0 / 3.0),
        }
    }
}

/// Crops a random area and aspect ratio and resizes it back to the image
/// size, bilinear (torchvision `RandomResizedCrop` with `size` = the input
/// size, without antialiasing).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomResizedCrop {
    config: RandomResizedCropConfig,
}

impl RandomResizedCrop {
    /// A random resized crop.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{RandomResizedCrop, RandomResizedCropConfig};
    ///
    /// let op = RandomResizedCrop::new(RandomResizedCropConfig::default())?;
    /// let bad = RandomResizedCropConfig { scale: (0.5, 0.1), ..Default::default() };
    /// assert!(RandomResizedCrop::new(bad).is_err());
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(config: RandomResizedCropConfig) -> Result<Self> {
        check_range("scale", config.scale)?;
        check_range("ratio", config.ratio)?;
        if config.scale.0 <= 0.0 || config.scale.1 > 1.0 || config.ratio.0 <= 0.0 {
            return Err(Error::Arg(ArgError::new(
                "scale",
                format!("{:?}", config.scale),
                "needs 0 < lo <= hi <= 1 and a positive ratio",
            )));
        }
        Ok(RandomResizedCrop { config })
    }
}

impl ImageAugment for RandomResizedCrop {
    fn spec(&self) -> Option<OpSpec> {
        Some(OpSpec::RandomResizedCrop(self.config))
    }

    fn draw(&self, ctx: OpCtx, dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        let mut rng = ctx.rng();
        let (height, width) = (dims.h as f64, dims.w as f64);
        let area = height * width;
        let (s0, s1) = (self.config.scale.0 as f64, self.config.scale.1 as f64);
        let (r0, r1) = (
            (self.config.ratio.0 as f64).ln(),
            (self.config.ratio.1 as f64).ln(),
        );
        for _ in 0..10 {
            let target = area * rng.random_range(s0..=s1);
            let aspect = rng.random_range(r0..=r1).exp();
            let cw = (target * aspect).sqrt().round() as usize;
            let ch = (target / aspect).sqrt().round() as usize;
            if 0 < cw && cw <= dims.w && 0 < ch && ch <= dims.h {
                let top = rng.random_range(0..=dims.h - ch);
                let left = rng.random_range(0..=dims.w - cw);
                return emit(DrawnParams::ResizedCrop {
                    top,
                    left,
                    height: ch,
                    width: cw,
                });
            }
        }
        // torchvision's fallback: the central crop closest to the ratio range.
        let in_ratio = width / height;
        let (ch, cw) = if in_ratio < self.config.ratio.0 as f64 {
            (
                (width / self.config.ratio.0 as f64).round() as usize,
                dims.w,
            )
        } else if in_ratio > self.config.ratio.1 as f64 {
            (
                dims.h,
                (height * self.config.ratio.1 as f64).round() as usize,
            )
        } else {
            (dims.h, dims.w)
        };
        let (ch, cw) = (
            ch.clamp(1.min(dims.h), dims.h),
            cw.clamp(1.min(dims.w), dims.w),
        );
        emit(DrawnParams::ResizedCrop {
            top: (dims.h - ch) / 2,
            left: (dims.w - cw) / 2,
            height: ch,
            width: cw,
        })
    }
}

/// PyTorch's linear source index of output `o` when resizing `n_in` to
/// `n_out` (`align_corners = False`): `(i0, i1, λ0, λ1)`.
fn linear_index<T: Scalar>(o: usize, n_in: usize, n_out: usize) -> (usize, usize, T, T) {
    let scale = T::from_count(n_in) / T::from_count(n_out);
    let half = T::cast(0.5);
    let zero = T::cast(0.0);
    let real = scale * (T::from_count(o) + half) - half;
    let real = if real < zero { zero } else { real };
    let i0 = (real.as_f64().floor() as usize).min(n_in - 1);
    let l1 = clamp(real - T::from_count(i0), zero, T::cast(1.0));
    let i1 = if i0 < n_in - 1 { i0 + 1 } else { i0 };
    (i0, i1, T::cast(1.0) - l1, l1)
}

/// PyTorch's `nearest` source index (`floor(o · n_in / n_out)` in f32).
fn nearest_index(o: usize, n_in: usize, n_out: usize) -> usize {
    let scale = n_in as f32 / n_out as f32;
    ((o as f32 * scale).floor() as usize).min(n_in - 1)
}

/// Resizes the `height × width` window at `(top, left)` of `src` to
/// `oh × ow` in `dst` (torchvision `resized_crop` / `resize` with
/// `antialias = False`, PyTorch's `interpolate` with `align_corners =
/// False`). The caller checks the window lies inside the image.
pub(crate) fn resize<T: Scalar>(
    src: &[T],
    dims: ImageShape,
    dst: &mut [T],
    (top, left, height, width): (usize, usize, usize, usize),
    (oh, ow): (usize, usize),
    interpolation: Interpolation,
) {
    let (h, w) = (dims.h, dims.w);
    if dims.is_empty() || height == 0 || width == 0 || oh == 0 || ow == 0 {
        return;
    }
    for ch in 0..dims.c {
        let plane_in = &src[ch * h * w..(ch + 1) * h * w];
        let plane_out = &mut dst[ch * oh * ow..(ch + 1) * oh * ow];
        for y in 0..oh {
            match interpolation {
                Interpolation::Bilinear => {
                    let (y0, y1, h0, h1) = linear_index::<T>(y, height, oh);
                    let (r0, r1) = ((top + y0) * w + left, (top + y1) * w + left);
                    for x in 0..ow {
                        let (x0, x1, w0, w1) = linear_index::<T>(x, width, ow);
                        let a = plane_in[r0 + x0] * w0 + plane_in[r0 + x1] * w1;
                        let b = plane_in[r1 + x0] * w0 + plane_in[r1 + x1] * w1;
                        plane_out[y * ow + x] = a * h0 + b * h1;
                    }
                }
                Interpolation::Nearest => {
                    let r = (top + nearest_index(y, height, oh)) * w + left;
                    for x in 0..ow {
                        plane_out[y * ow + x] = plane_in[r + nearest_index(x, width, ow)];
                    }
                }
            }
        }
    }
}

/// Crops `height × width` at `(top, left)` and resizes it (bilinear) to the
/// image size, in place.
pub(crate) fn resized_crop(
    dims: ImageShape,
    img: &mut [f32],
    scratch: &mut Vec<f32>,
    top: usize,
    left: usize,
    height: usize,
    width: usize,
) {
    let (h, w) = (dims.h, dims.w);
    if dims.is_empty()
        || height == 0
        || width == 0
        || top.checked_add(height).is_none_or(|end| end > h)
        || left.checked_add(width).is_none_or(|end| end > w)
    {
        return;
    }
    let src = stash(img, scratch);
    resize(
        src,
        dims,
        img,
        (top, left, height, width),
        (h, w),
        Interpolation::Bilinear,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::testutil::{check_in_range, image};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn crops_keep_shape_and_range((dims, img) in image(), index in 0u64..100, pad in 0usize..5) {
            check_in_range(&RandomCrop::new(pad, PadMode::Constant(0.5)).unwrap(), dims, &img, index);
            if pad < dims.h.min(dims.w) {
                check_in_range(&RandomCrop::new(pad, PadMode::Reflect).unwrap(), dims, &img, index);
            }
            let op = RandomResizedCrop::new(RandomResizedCropConfig::default()).unwrap();
            check_in_range(&op, dims, &img, index);
        }

        #[test]
        fn full_size_crops_are_the_identity((dims, img) in image(), pad in 0usize..4) {
            let mut x = img.clone();
            let mut scratch = Vec::new();
            resized_crop(dims, &mut x, &mut scratch, 0, 0, dims.h, dims.w);
            prop_assert_eq!(&x, &img);
            pad_crop(dims, &mut x, &mut scratch, pad, pad, pad, PadMode::Reflect);
            prop_assert_eq!(&x, &img);
        }
    }

    #[test]
    fn pad_crop_shifts_and_fills() {
        let dims = ImageShape::new(1, 2, 3);
        let mut x = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut s = Vec::new();
        // Shift the content one pixel right and down, filling with 0.
        pad_crop(dims, &mut x, &mut s, 0, 0, 1, PadMode::Constant(0.0));
        assert_eq!(x, [0.0, 0.0, 0.0, 0.0, 1.0, 2.0]);
        let mut x = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        pad_crop(dims, &mut x, &mut s, 1, 0, 1, PadMode::Reflect);
        assert_eq!(x, [2.0, 1.0, 2.0, 5.0, 4.0, 5.0]);
    }
}
