//! Random crop with padding and random resized crop (zoom in).

use super::{ImageAugment, ImageShape, Params, stash};
use crate::error::check_range;
use crate::{Error, OpCtx, Result};
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// How padding is filled (torchvision `padding_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum PadMode {
    /// A constant value (torchvision `fill`, default 0).
    Constant(f32),
    /// Mirror without repeating the edge pixel (torchvision `reflect`).
    Reflect,
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
            return Err(Error::config("pad", pad, "is too large to pad an image by"));
        }
        if let PadMode::Constant(fill) = mode
            && !(0.0..=1.0).contains(&fill)
        {
            return Err(Error::config("fill", fill, "must lie in [0, 1]"));
        }
        Ok(RandomCrop { pad, mode })
    }
}

impl ImageAugment for RandomCrop {
    fn draw(&self, ctx: OpCtx, _dims: ImageShape, emit: &mut dyn FnMut(Params)) {
        let mut rng = ctx.rng();
        let top = rng.random_range(0..=2 * self.pad);
        let left = rng.random_range(0..=2 * self.pad);
        emit(Params::Crop {
            top,
            left,
            pad: self.pad,
            mode: self.mode,
        })
    }
}

/// Index `i` reflected into `0..n` (numpy/torch `reflect`).
fn reflect(i: isize, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n as isize - 1);
    let m = i.rem_euclid(period);
    (if m < n as isize { m } else { period - m }) as usize
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
    let (h, w) = (dims.h, dims.w);
    if dims.is_empty() || (top == pad && left == pad) {
        return;
    }
    // A window outside the padded image is not a crop (Params::check rejects
    // it before a replay); within it, every offset below fits an isize.
    let span = pad.checked_mul(2).filter(|&s| s <= isize::MAX as usize / 2);
    if span.is_none_or(|span| top > span || left > span) {
        return;
    }
    let src = stash(img, scratch);
    let dy = top as isize - pad as isize;
    let dx = left as isize - pad as isize;
    // Output columns whose source column lies inside the image.
    let x_lo = (-dx).clamp(0, w as isize) as usize;
    let x_hi = (w as isize - dx).clamp(0, w as isize) as usize;
    for (plane_out, plane_in) in img.chunks_exact_mut(h * w).zip(src.chunks_exact(h * w)) {
        for (y, row) in plane_out.chunks_exact_mut(w).enumerate() {
            let sy = y as isize + dy;
            match mode {
                PadMode::Constant(fill) => {
                    if sy < 0 || sy >= h as isize {
                        row.fill(fill);
                        continue;
                    }
                    let src_row = &plane_in[sy as usize * w..(sy as usize + 1) * w];
                    row[..x_lo].fill(fill);
                    row[x_hi.max(x_lo)..].fill(fill);
                    if x_lo < x_hi {
                        let s0 = (x_lo as isize + dx) as usize;
                        row[x_lo..x_hi].copy_from_slice(&src_row[s0..s0 + (x_hi - x_lo)]);
                    }
                }
                PadMode::Reflect => {
                    let sy = reflect(sy, h);
                    let src_row = &plane_in[sy * w..(sy + 1) * w];
                    for (x, v) in row.iter_mut().enumerate() {
                        *v = src_row[reflect(x as isize + dx, w)];
                    }
                }
            }
        }
    }
}

/// The configuration of [`RandomResizedCrop`]; `Default` is torchvision's.
#[derive(Debug, Clone, Copy, PartialEq)]
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
            return Err(Error::config(
                "scale",
                format!("{:?}", config.scale),
                "needs 0 < lo <= hi <= 1 and a positive ratio",
            ));
        }
        Ok(RandomResizedCrop { config })
    }
}

impl ImageAugment for RandomResizedCrop {
    fn draw(&self, ctx: OpCtx, dims: ImageShape, emit: &mut dyn FnMut(Params)) {
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
                return emit(Params::ResizedCrop {
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
        emit(Params::ResizedCrop {
            top: (dims.h - ch) / 2,
            left: (dims.w - cw) / 2,
            height: ch,
            width: cw,
        })
    }
}

/// Bilinear source coordinates for resizing `n_in` to `n_out`
/// (align_corners = false, clamped at the border): `(i0, i1, frac)`.
pub(crate) fn resize_coord(o: usize, n_in: usize, n_out: usize) -> (usize, usize, f64) {
    let s = ((o as f64 + 0.5) * (n_in as f64 / n_out as f64) - 0.5).clamp(0.0, (n_in - 1) as f64);
    let i0 = s.floor() as usize;
    (i0, (i0 + 1).min(n_in - 1), s - i0 as f64)
}

/// Crops `height × width` at `(top, left)` and resizes it to the image size.
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
    for (plane_out, plane_in) in img.chunks_exact_mut(h * w).zip(src.chunks_exact(h * w)) {
        for y in 0..h {
            let (y0, y1, fy) = resize_coord(y, height, h);
            let (r0, r1) = ((top + y0) * w + left, (top + y1) * w + left);
            for x in 0..w {
                let (x0, x1, fx) = resize_coord(x, width, w);
                let a = plane_in[r0 + x0] as f64 * (1.0 - fx) + plane_in[r0 + x1] as f64 * fx;
                let b = plane_in[r1 + x0] as f64 * (1.0 - fx) + plane_in[r1 + x1] as f64 * fx;
                plane_out[y * w + x] = (a * (1.0 - fy) + b * fy) as f32;
            }
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
