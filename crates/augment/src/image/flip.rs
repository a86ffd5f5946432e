//! Horizontal and vertical flips.

use super::spec::OpSpec;
use super::{DrawnParams, ImageAugment, ImageShape};
use crate::error::check_prob;
use crate::{OpCtx, Result};
use rand::RngExt;

/// Mirrors an image left–right with probability `p` (torchvision
/// `RandomHorizontalFlip`, default `p = 0.5`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HorizontalFlip {
    p: f64,
}

impl HorizontalFlip {
    /// A horizontal flip applied with probability `p`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::HorizontalFlip;
    ///
    /// assert!(HorizontalFlip::new(0.5).is_ok());
    /// assert!(HorizontalFlip::new(1.5).is_err());
    /// ```
    pub fn new(p: f64) -> Result<Self> {
        check_prob("p", p)?;
        Ok(HorizontalFlip { p })
    }
}

impl ImageAugment for HorizontalFlip {
    fn spec(&self) -> Option<OpSpec> {
        Some(OpSpec::HorizontalFlip { p: self.p })
    }

    fn draw(&self, ctx: OpCtx, _dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        emit(DrawnParams::HFlip {
            flip: ctx.rng().random_bool(self.p),
        })
    }
}

/// Mirrors an image top–bottom with probability `p` (torchvision
/// `RandomVerticalFlip`, default `p = 0.5`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VerticalFlip {
    p: f64,
}

impl VerticalFlip {
    /// A vertical flip applied with probability `p`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::VerticalFlip;
    ///
    /// assert!(VerticalFlip::new(0.5).is_ok());
    /// ```
    pub fn new(p: f64) -> Result<Self> {
        check_prob("p", p)?;
        Ok(VerticalFlip { p })
    }
}

impl ImageAugment for VerticalFlip {
    fn spec(&self) -> Option<OpSpec> {
        Some(OpSpec::VerticalFlip { p: self.p })
    }

    fn draw(&self, ctx: OpCtx, _dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        emit(DrawnParams::VFlip {
            flip: ctx.rng().random_bool(self.p),
        })
    }
}

/// Reverses every row in place.
pub(crate) fn hflip<T>(dims: ImageShape, img: &mut [T]) {
    if dims.w == 0 {
        return;
    }
    for row in img.chunks_exact_mut(dims.w) {
        row.reverse();
    }
}

/// Reverses the row order of every channel in place.
pub(crate) fn vflip<T>(dims: ImageShape, img: &mut [T]) {
    let (h, w) = (dims.h, dims.w);
    if dims.plane() == 0 {
        return;
    }
    for plane in img.chunks_exact_mut(h * w) {
        for y in 0..h / 2 {
            let (a, b) = plane.split_at_mut((h - 1 - y) * w);
            a[y * w..(y + 1) * w].swap_with_slice(&mut b[..w]);
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
        fn flipping_twice_is_the_identity((dims, img) in image()) {
            let mut x = img.clone();
            hflip(dims, &mut x);
            hflip(dims, &mut x);
            prop_assert_eq!(&x, &img);
            vflip(dims, &mut x);
            vflip(dims, &mut x);
            prop_assert_eq!(&x, &img);
        }

        #[test]
        fn flips_keep_shape_and_range((dims, img) in image(), index in 0u64..100) {
            check_in_range(&HorizontalFlip::new(0.5).unwrap(), dims, &img, index);
            check_in_range(&VerticalFlip::new(0.5).unwrap(), dims, &img, index);
        }
    }

    #[test]
    fn hflip_mirrors_each_row() {
        let dims = ImageShape::new(1, 2, 3);
        let mut x = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        hflip(dims, &mut x);
        assert_eq!(x, [3.0, 2.0, 1.0, 6.0, 5.0, 4.0]);
        vflip(dims, &mut x);
        assert_eq!(x, [6.0, 5.0, 4.0, 3.0, 2.0, 1.0]);
    }
}
