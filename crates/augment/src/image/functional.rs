//! Image ops applied with explicit parameters, as
//! `torchvision.transforms.v2.functional`: each takes a `C × H × W`
//! [`Image`] of `f32` or `f64` and returns a new one, which may differ in
//! size ([`pad`], [`center_crop`], [`crop`], [`resize`], [`resized_crop`])
//! or channel count ([`rgb_to_grayscale`]).
//!
//! These are the same kernels the random pipeline ([`ImageAugment`](super::ImageAugment)
//! ops and [`DrawnParams::apply`](super::DrawnParams::apply)) runs, so a drawn
//! parameter means the same thing in both. Values are nominally in
//! `[0, 1]`; the colour ops clamp to it as torchvision does for float
//! images. Every op is checked against torchvision 0.29's outputs by
//! `crates/augment/tests/golden_augment.rs`.
//!
//! | descent | torchvision | notes |
//! |---|---|---|
//! | [`hflip`], [`vflip`] | `hflip`, `vflip` | |
//! | [`pad`] | `pad` | constant (per-channel fill), reflect, edge, symmetric |
//! | [`crop`], [`center_crop`] | `crop`, `center_crop` | outside pixels read as 0 |
//! | [`resize`], [`resized_crop`] | `resize`, `resized_crop` | `antialias=False` |
//! | [`rotate`], [`affine`] | `rotate`, `affine` | nearest or bilinear, fill; `expand=False`, `center=None` |
//! | [`affine_about`] | `affine(…, center=[x, y])` | about a given point (AutoAugment shears about `[0, 0]`) |
//! | [`perspective`], [`perspective_coefficients`] | `perspective`, `_get_perspective_coeffs` | |
//! | [`elastic`] | `elastic` | explicit displacement field |
//! | [`adjust_brightness`], [`adjust_contrast`], [`adjust_saturation`], [`adjust_hue`] | same names | hue computed in f32, as torchvision |
//! | [`rgb_to_grayscale`] | `rgb_to_grayscale` | 1 or 3 output channels |
//! | [`gaussian_blur`] | `gaussian_blur` | reflect border |
//! | [`posterize`], [`posterize_u8`] | `posterize` | float and uint8 rules |
//! | [`solarize`], [`invert`], [`autocontrast`] | same names | |
//! | [`equalize`], [`equalize_u8`] | `equalize` | float goes through uint8, as torchvision |
//! | [`adjust_sharpness`] | `adjust_sharpness` | |
//! | [`erase`] | `erase` | value broadcast from `[C or 1, h or 1, w or 1]` |
//! | [`hflip_mask`], [`vflip_mask`], [`pad_mask`], [`crop_mask`], [`center_crop_mask`], [`resize_mask`], [`resized_crop_mask`], [`rotate_mask`], [`affine_mask`], [`perspective_mask`], [`elastic_mask`] | the `*_mask` kernels | nearest; outside pixels take [`Mask::fill`](super::Mask::fill) |
//! | [`hflip_boxes`], [`vflip_boxes`], [`pad_boxes`], [`crop_boxes`], [`center_crop_boxes`], [`resize_boxes`], [`resized_crop_boxes`], [`rotate_boxes`], [`affine_boxes`], [`perspective_boxes`], [`elastic_boxes`] | the `*_bounding_boxes` kernels | XYXY, XYWH, CXCYWH; clamped to the canvas |
//!
//! # Examples
//!
//! ```
//! use descent_augment::image::functional::{self as F, Image, Interpolation};
//! use descent_augment::image::ImageShape;
//!
//! let img = Image::new(ImageShape::new(3, 8, 10), vec![0.5f64; 240])?;
//! let small = F::resized_crop(&img, 1, 2, 5, 6, [4, 5], Interpolation::Bilinear)?;
//! assert_eq!(small.dims(), ImageShape::new(3, 4, 5));
//! let turned = F::rotate(&img, 30.0, Interpolation::Nearest, Some(&[0.0]))?;
//! let gray = F::rgb_to_grayscale(&turned, 1)?;
//! assert_eq!(gray.dims().c, 1);
//! # Ok::<(), descent_augment::Error>(())
//! ```

mod color;
mod geometry;
mod targets;

pub use super::crop::PaddingMode;
pub use super::grid::Interpolation;
pub use color::{
    adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation, adjust_sharpness,
    autocontrast, equalize, equalize_u8, gaussian_blur, invert, posterize, posterize_u8,
    rgb_to_grayscale, solarize, to_float, to_u8,
};
pub use geometry::{
    affine, affine_about, center_crop, crop, elastic, erase, hflip, pad, perspective,
    perspective_coefficients, resize, resized_crop, rotate, vflip,
};
pub use targets::{
    affine_boxes, affine_mask, center_crop_boxes, center_crop_mask, crop_boxes, crop_mask,
    elastic_boxes, elastic_mask, hflip_boxes, hflip_mask, pad_boxes, pad_mask, perspective_boxes,
    perspective_mask, resize_boxes, resize_mask, resized_crop_boxes, resized_crop_mask,
    rotate_boxes, rotate_mask, vflip_boxes, vflip_mask,
};

use super::{ImageShape, check_len};
use crate::ArgError;
use crate::{Error, Result};

/// A `C × H × W` image stored flat, channel-major and row-major (the layout
/// of a PyTorch CHW tensor and of [`ImageShape`]).
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::Image;
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 2, 2), vec![0.0f32, 0.25, 0.5, 1.0])?;
/// assert_eq!(img.data()[3], 1.0);
/// assert!(Image::new(ImageShape::new(1, 2, 2), vec![0.0f32; 3]).is_err());
/// # Ok::<(), descent_augment::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Image<T> {
    dims: ImageShape,
    data: Vec<T>,
}

impl<T> Image<T> {
    /// An image of shape `dims` holding `data`; [`Error::ShapeMismatch`]
    /// unless `data.len() == dims.len()`.
    pub fn new(dims: ImageShape, data: Vec<T>) -> Result<Self> {
        check_len("image", dims.len(), data.len())?;
        Ok(Image { dims, data })
    }

    /// The shape.
    pub fn dims(&self) -> ImageShape {
        self.dims
    }

    /// The values, flat CHW.
    pub fn data(&self) -> &[T] {
        &self.data
    }

    /// The values, flat CHW, mutably.
    pub fn data_mut(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// The values, flat CHW.
    pub fn into_data(self) -> Vec<T> {
        self.data
    }
}

impl<T: Copy + Default> Image<T> {
    /// An all-default (zero) image of shape `dims`.
    pub(crate) fn zeros(dims: ImageShape) -> Self {
        Image {
            dims,
            data: vec![T::default(); dims.len()],
        }
    }
}

/// Checks a per-channel fill: one value, or one per channel.
fn check_fill<T>(fill: Option<&[T]>, channels: usize) -> Result<()> {
    match fill {
        Some(f) if f.len() != 1 && f.len() != channels => Err(Error::Arg(ArgError::new(
            "fill",
            format!("{} values", f.len()),
            "needs one value or one per channel",
        ))),
        _ => Ok(()),
    }
}

/// Checks that an op defined on grey or RGB images gets 1 or 3 channels.
fn check_gray_or_rgb(dims: ImageShape) -> Result<()> {
    if dims.c == 1 || dims.c == 3 {
        Ok(())
    } else {
        Err(Error::Arg(ArgError::new(
            "channels",
            dims.c,
            "this op takes 1 (grey) or 3 (RGB) channels, as torchvision",
        )))
    }
}

/// Checks a factor is finite and non-negative.
fn check_factor(name: &'static str, f: f64) -> Result<()> {
    if f.is_finite() && f >= 0.0 {
        Ok(())
    } else {
        Err(Error::Arg(ArgError::new(
            name,
            f,
            "must be finite and non-negative",
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SampleKey;
    use crate::image::testutil::image;
    use crate::image::{Affine, DrawnParams, replay};
    use proptest::prelude::*;

    fn interp(nearest: bool) -> Interpolation {
        if nearest {
            Interpolation::Nearest
        } else {
            Interpolation::Bilinear
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn label_preserving_ops_keep_shape_and_range(
            (dims, data) in image(), angle in -180.0f64..180.0, f in 0.0f64..3.0, nearest: bool,
            fill in proptest::option::of(0.0f64..=1.0),
        ) {
            let img = Image::new(dims, data.iter().map(|&v| v as f64).collect()).unwrap();
            let fill = fill.map(|f| [f]);
            let fill = fill.as_ref().map(|f| &f[..]);
            let mut outs = vec![
                hflip(&img),
                vflip(&img),
                rotate(&img, angle, interp(nearest), fill).unwrap(),
                affine(&img, angle, [1.0, -0.5], 0.5 + f, [f * 5.0, -3.0], interp(nearest), fill).unwrap(),
                posterize(&img, 3).unwrap(),
                solarize(&img, f / 3.0).unwrap(),
                invert(&img),
                equalize(&img),
            ];
            if dims.c == 1 || dims.c == 3 {
                outs.extend([
                    adjust_brightness(&img, f).unwrap(),
                    adjust_contrast(&img, f).unwrap(),
                    adjust_saturation(&img, f).unwrap(),
                    adjust_hue(&img, f / 6.0 - 0.25).unwrap(),
                    autocontrast(&img).unwrap(),
                    adjust_sharpness(&img, f).unwrap(),
                ]);
            }
            for out in outs {
                prop_assert_eq!(out.dims(), dims);
                // Resampled values are convex blends: in range up to rounding.
                prop_assert!(out.data().iter().all(|v| (-1e-12..=1.0 + 1e-12).contains(v)), "{:?}", out);
            }
        }

        #[test]
        fn size_changing_ops_give_the_asked_size(
            (dims, data) in image(), oh in 1usize..12, ow in 1usize..12, p in 0usize..4,
        ) {
            let img = Image::new(dims, data.iter().map(|&v| v as f64).collect()).unwrap();
            prop_assert_eq!(center_crop(&img, [oh, ow]).unwrap().dims(), ImageShape::new(dims.c, oh, ow));
            prop_assert_eq!(resize(&img, [oh, ow], Interpolation::Bilinear).unwrap().dims(), ImageShape::new(dims.c, oh, ow));
            let padded = pad(&img, &[p, p + 1], PaddingMode::Edge, None).unwrap();
            prop_assert_eq!(padded.dims(), ImageShape::new(dims.c, dims.h + 2 * p + 2, dims.w + 2 * p));
            // Cropping the padding away gives the image back.
            let back = crop(&padded, (p + 1) as isize, p as isize, dims.h, dims.w).unwrap();
            prop_assert_eq!(back, img);
        }

        #[test]
        fn the_pipelines_affine_is_the_functional_affine_in_f32(
            (dims, img) in image(), angle in -90.0f32..90.0, fill in 0.0f32..=1.0, nearest: bool,
        ) {
            let a = Affine { angle, translate: [1.0, 0.0], scale: 1.1, shear: [4.0, 0.0], fill: Some(fill), interpolation: interp(nearest), center: None };
            let mut piped = img.clone();
            replay(&[DrawnParams::Affine(a)], dims, &mut piped, &mut Vec::new()).unwrap();
            let f = affine(
                &Image::new(dims, img).unwrap(),
                angle as f64, [1.0, 0.0], 1.1f32 as f64, [4.0, 0.0], interp(nearest), Some(&[fill]),
            ).unwrap();
            prop_assert_eq!(piped, f.into_data());
            let _ = SampleKey::new(0, 0, 0);
        }
    }

    #[test]
    fn bad_arguments_are_typed_errors() {
        let img = Image::new(ImageShape::new(2, 3, 3), vec![0.5f64; 18]).unwrap();
        let err = |r: Result<Image<f64>>| matches!(r, Err(Error::Arg(ArgError { .. })));
        assert!(err(pad(&img, &[1, 2, 3], PaddingMode::Constant, None)));
        assert!(err(pad(&img, &[3], PaddingMode::Reflect, None)));
        assert!(err(pad(&img, &[1], PaddingMode::Constant, Some(&[0.0; 3]))));
        assert!(err(adjust_contrast(&img, 0.5)), "2 channels");
        assert!(err(adjust_brightness(&img, f64::NAN)));
        assert!(err(rotate(
            &img,
            f64::INFINITY,
            Interpolation::Nearest,
            None
        )));
        assert!(err(affine(
            &img,
            0.0,
            [0.0; 2],
            0.0,
            [0.0; 2],
            Interpolation::Nearest,
            None
        )));
        assert!(err(resized_crop(
            &img,
            2,
            0,
            2,
            1,
            [2, 2],
            Interpolation::Bilinear
        )));
        assert!(err(resize(&img, [0, 2], Interpolation::Bilinear)));
        assert!(err(gaussian_blur(&img, [7, 3], None)), "half kernel ≥ side");
        assert!(err(posterize(&img, 9)));
        assert!(err(crop(&img, isize::MIN, 0, 1, 1)));
        assert!(err(crop(&img, 0, 0, 1 << 40, 1 << 40)));
        assert!(err(pad(&img, &[1 << 40], PaddingMode::Edge, None)));
        assert!(err(resize(
            &img,
            [1 << 40, 1 << 40],
            Interpolation::Nearest
        )));
        let v = Image::new(ImageShape::new(3, 1, 1), vec![0.0; 3]).unwrap();
        assert!(err(erase(&img, 0, 0, 1, 1, &v)), "3 values for 2 channels");
        assert!(err(erase(
            &img,
            2,
            0,
            2,
            1,
            &Image::new(ImageShape::new(1, 1, 1), vec![0.0]).unwrap()
        )));
        assert!(matches!(
            elastic(&img, &[0.0; 3], Interpolation::Nearest, None),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(err(
            perspective_coefficients([[0.0; 2]; 4], [[0.0; 2]; 4]).map(|_| img.clone())
        ));
    }
}
