//! Cutout (DeVries & Taylor 2017) and random erasing (Zhong et al. 2020,
//! torchvision `RandomErasing`).

use super::spec::OpSpec;
use super::{DrawnParams, ImageAugment, ImageShape};
use crate::ArgError;
use crate::error::{check_prob, check_range};
use crate::{Error, OpCtx, Result};
use rand::RngExt;

/// Erases one `size × size` square centred uniformly in the image (clipped
/// at the border), filled with `value`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cutout {
    size: usize,
    value: f32,
}

impl Cutout {
    /// Cutout with a square of side `size`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::Cutout;
    ///
    /// let cutout = Cutout::new(16, 0.0)?;
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(size: usize, value: f32) -> Result<Self> {
        if !(0.0..=1.0).contains(&value) {
            return Err(Error::Arg(ArgError::new(
                "value",
                value,
                "must lie in [0, 1]",
            )));
        }
        Ok(Cutout { size, value })
    }
}

impl ImageAugment for Cutout {
    fn spec(&self) -> Option<OpSpec> {
        Some(OpSpec::Cutout {
            size: self.size,
            value: self.value,
        })
    }

    fn draw(&self, ctx: OpCtx, dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        if dims.h == 0 || dims.w == 0 {
            return emit(DrawnParams::Identity);
        }
        let mut rng = ctx.rng();
        let cy = rng.random_range(0..dims.h) as isize;
        let cx = rng.random_range(0..dims.w) as isize;
        let half = (self.size / 2) as isize;
        let (y0, y1) = (
            (cy - half).max(0) as usize,
            ((cy - half + self.size as isize).max(0) as usize).min(dims.h),
        );
        let (x0, x1) = (
            (cx - half).max(0) as usize,
            ((cx - half + self.size as isize).max(0) as usize).min(dims.w),
        );
        emit(DrawnParams::Erase {
            top: y0,
            left: x0,
            height: y1.saturating_sub(y0),
            width: x1.saturating_sub(x0),
            value: self.value,
        })
    }
}

/// The configuration of [`RandomErasing`]; `Default` is torchvision's.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RandomErasingConfig {
    /// Probability of erasing (default 0.5).
    pub p: f64,
    /// Range of the erased area as a fraction of the image (default (0.02, 0.33)).
    pub scale: (f32, f32),
    /// Range of the erased aspect ratio (default (0.3, 3.3)).
    pub ratio: (f32, f32),
    /// The value written (default 0).
    pub value: f32,
}

impl Default for RandomErasingConfig {
    fn default() -> Self {
        RandomErasingConfig {
            p: 0.5,
            scale: (0.02, 0.33),
            ratio: (0.3, 3.3),
            value: 0.0,
        }
    }
}

/// torchvision `RandomErasing`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomErasing {
    config: RandomErasingConfig,
}

impl RandomErasing {
    /// Random erasing.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{RandomErasing, RandomErasingConfig};
    ///
    /// let erase = RandomErasing::new(RandomErasingConfig::default())?;
    /// assert!(RandomErasing::new(RandomErasingConfig { p: 2.0, ..Default::default() }).is_err());
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(config: RandomErasingConfig) -> Result<Self> {
        check_prob("p", config.p)?;
        check_range("scale", config.scale)?;
        check_range("ratio", config.ratio)?;
        if config.ratio.0 <= 0.0 || !(0.0..=1.0).contains(&config.value) {
            return Err(Error::Arg(ArgError::new(
                "ratio",
                config.ratio.0,
                "needs a positive ratio and a value in [0, 1]",
            )));
        }
        Ok(RandomErasing { config })
    }
}

impl ImageAugment for RandomErasing {
    fn spec(&self) -> Option<OpSpec> {
        Some(OpSpec::RandomErasing(self.config))
    }

    fn draw(&self, ctx: OpCtx, dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        let c = &self.config;
        let mut rng = ctx.rng();
        if !rng.random_bool(c.p) {
            return emit(DrawnParams::Identity);
        }
        let area = (dims.h * dims.w) as f32;
        let (r0, r1) = (c.ratio.0.ln(), c.ratio.1.ln());
        for _ in 0..10 {
            let target = area * rng.random_range(c.scale.0..=c.scale.1);
            let aspect = rng.random_range(r0..=r1).exp();
            let h = (target * aspect).sqrt().round() as usize;
            let w = (target / aspect).sqrt().round() as usize;
            if 0 < h && h < dims.h && 0 < w && w < dims.w {
                let top = rng.random_range(0..=dims.h - h);
                let left = rng.random_range(0..=dims.w - w);
                return emit(DrawnParams::Erase {
                    top,
                    left,
                    height: h,
                    width: w,
                    value: c.value,
                });
            }
        }
        emit(DrawnParams::Identity)
    }
}

/// Writes `value(ch, y, x)` (rectangle-relative) over the rectangle
/// `height × width` at `(top, left)`, clipped to the image.
pub(crate) fn erase_with<T>(
    dims: ImageShape,
    img: &mut [T],
    top: usize,
    left: usize,
    height: usize,
    width: usize,
    value: impl Fn(usize, usize, usize) -> T,
) {
    let (h, w) = (dims.h, dims.w);
    let (y1, x1) = (
        top.saturating_add(height).min(h),
        left.saturating_add(width).min(w),
    );
    if dims.is_empty() || top >= y1 || left >= x1 {
        return;
    }
    for (ch, plane) in img.chunks_exact_mut(h * w).enumerate() {
        for y in top..y1 {
            for x in left..x1 {
                plane[y * w + x] = value(ch, y - top, x - left);
            }
        }
    }
}

/// Sets the rectangle (clipped to the image) of every channel to `value`.
pub(crate) fn erase(
    dims: ImageShape,
    img: &mut [f32],
    top: usize,
    left: usize,
    height: usize,
    width: usize,
    value: f32,
) {
    erase_with(dims, img, top, left, height, width, |_, _, _| value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::testutil::{check_in_range, image};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn erasing_keeps_shape_and_range((dims, img) in image(), index in 0u64..100, size in 0usize..12) {
            check_in_range(&Cutout::new(size, 0.5).unwrap(), dims, &img, index);
            check_in_range(&RandomErasing::new(RandomErasingConfig { p: 1.0, ..Default::default() }).unwrap(), dims, &img, index);
        }
    }

    #[test]
    fn erase_fills_only_the_rectangle() {
        let dims = ImageShape::new(1, 3, 3);
        let mut x = vec![1.0; 9];
        erase(dims, &mut x, 1, 1, 5, 1, 0.0);
        assert_eq!(x, [1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0]);
    }
}
