//! The colour and tone ops of [`functional`](super), and the blur.

use super::{Image, check_factor, check_gray_or_rgb};
use crate::ArgError;
use crate::image::{ImageShape, blur, color, tone};
use crate::{Error, Result};
use descent_core::Scalar;

/// Copies `img` and runs `f` on the copy's values.
fn map<T: Copy>(img: &Image<T>, f: impl FnOnce(ImageShape, &mut [T])) -> Image<T> {
    let mut out = img.clone();
    f(out.dims, &mut out.data);
    out
}

/// torchvision `adjust_brightness`: `clamp(f·x, 0, 1)`.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{adjust_brightness, Image};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 1, 2), vec![0.25f64, 0.75])?;
/// assert_eq!(adjust_brightness(&img, 2.0)?.data(), [0.5, 1.0]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn adjust_brightness<T: Scalar>(img: &Image<T>, brightness_factor: f64) -> Result<Image<T>> {
    check_factor("brightness_factor", brightness_factor)?;
    check_gray_or_rgb(img.dims)?;
    Ok(map(img, |_, x| color::brightness(x, brightness_factor)))
}

/// torchvision `adjust_contrast`: `clamp(f·x + (1 − f)·m, 0, 1)` with `m`
/// the mean grey level (of the image itself when it is grey).
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{adjust_contrast, Image};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 1, 2), vec![0.25f64, 0.75])?;
/// assert_eq!(adjust_contrast(&img, 0.0)?.data(), [0.5, 0.5]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn adjust_contrast<T: Scalar>(img: &Image<T>, contrast_factor: f64) -> Result<Image<T>> {
    check_factor("contrast_factor", contrast_factor)?;
    check_gray_or_rgb(img.dims)?;
    Ok(map(img, |d, x| color::contrast(d, x, contrast_factor)))
}

/// torchvision `adjust_saturation`: each RGB pixel blended with its grey
/// level, `clamp(f·x + (1 − f)·gray, 0, 1)`; a grey image is returned as is.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{adjust_saturation, Image};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(3, 1, 1), vec![1.0f64, 0.0, 0.0])?;
/// let gray = adjust_saturation(&img, 0.0)?;
/// assert!(gray.data().iter().all(|&v| (v - 0.2989).abs() < 1e-12));
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn adjust_saturation<T: Scalar>(img: &Image<T>, saturation_factor: f64) -> Result<Image<T>> {
    check_factor("saturation_factor", saturation_factor)?;
    check_gray_or_rgb(img.dims)?;
    Ok(map(img, |d, x| color::saturation(d, x, saturation_factor)))
}

/// torchvision `adjust_hue`: shifts the HSV hue by `hue_factor` turns (in
/// `[−0.5, 0.5]`). Computed in f32 whatever `T` is, as torchvision does for
/// every float input; a grey image is returned as is.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{adjust_hue, Image};
/// use descent_augment::image::ImageShape;
///
/// let red = Image::new(ImageShape::new(3, 1, 1), vec![1.0f32, 0.0, 0.0])?;
/// let green = adjust_hue(&red, 1.0 / 3.0)?;
/// assert!((green.data()[1] - 1.0).abs() < 1e-6);
/// assert!(adjust_hue(&red, 0.7).is_err());
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn adjust_hue<T: Scalar>(img: &Image<T>, hue_factor: f64) -> Result<Image<T>> {
    if !(-0.5..=0.5).contains(&hue_factor) {
        return Err(Error::Arg(ArgError::new(
            "hue_factor",
            hue_factor,
            "must lie in [-0.5, 0.5]",
        )));
    }
    check_gray_or_rgb(img.dims)?;
    Ok(map(img, |d, x| color::hue(d, x, hue_factor)))
}

/// torchvision `rgb_to_grayscale`: `0.2989·R + 0.587·G + 0.114·B`, as 1 or
/// 3 (repeated) channels; a grey input is copied or repeated.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{rgb_to_grayscale, Image};
/// use descent_augment::image::ImageShape;
///
/// let gray = Image::new(ImageShape::new(1, 1, 2), vec![0.1f64, 0.9])?;
/// let rgb = rgb_to_grayscale(&gray, 3)?;
/// assert_eq!(rgb.data(), [0.1, 0.9, 0.1, 0.9, 0.1, 0.9]);
/// assert!(rgb_to_grayscale(&gray, 2).is_err());
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn rgb_to_grayscale<T: Scalar>(img: &Image<T>, num_output_channels: usize) -> Result<Image<T>> {
    if num_output_channels != 1 && num_output_channels != 3 {
        return Err(Error::Arg(ArgError::new(
            "num_output_channels",
            num_output_channels,
            "must be 1 or 3",
        )));
    }
    check_gray_or_rgb(img.dims)?;
    let dims = img.dims;
    let p = dims.plane();
    let mut gray = vec![T::cast(0.0); p];
    if dims.c == 1 {
        gray.copy_from_slice(&img.data);
    } else {
        color::gray_plane(dims, &img.data, &mut gray);
    }
    let mut data = Vec::with_capacity(num_output_channels * p);
    for _ in 0..num_output_channels {
        data.extend_from_slice(&gray);
    }
    Image::new(ImageShape::new(num_output_channels, dims.h, dims.w), data)
}

/// torchvision `gaussian_blur`: `kernel_size` `[kx, ky]` (odd, positive)
/// and `sigma` `[σx, σy]` (positive), **x (width) first**; `None` is
/// `0.15·k + 0.35` per axis. The image is reflect-padded by `k/2`, so each
/// half-kernel must be smaller than the image side.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{gaussian_blur, Image};
/// use descent_augment::image::ImageShape;
///
/// let flat = Image::new(ImageShape::new(1, 4, 4), vec![0.5f64; 16])?;
/// let out = gaussian_blur(&flat, [3, 3], Some([0.8, 0.8]))?;
/// assert!(out.data().iter().all(|&v| (v - 0.5).abs() < 1e-12));
/// assert!(gaussian_blur(&flat, [2, 3], None).is_err());
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn gaussian_blur<T: Scalar>(
    img: &Image<T>,
    kernel_size: [usize; 2],
    sigma: Option<[f64; 2]>,
) -> Result<Image<T>> {
    for k in kernel_size {
        if k == 0 || k % 2 == 0 {
            return Err(Error::Arg(ArgError::new(
                "kernel_size",
                k,
                "must be odd and positive",
            )));
        }
    }
    let sigma = sigma.unwrap_or(kernel_size.map(|k| 0.15 * k as f64 + 0.35));
    for s in sigma {
        if !(s.is_finite() && s > 0.0) {
            return Err(Error::Arg(ArgError::new(
                "sigma",
                s,
                "must be finite and positive",
            )));
        }
    }
    let dims = img.dims;
    if kernel_size[0] / 2 >= dims.w.max(1) || kernel_size[1] / 2 >= dims.h.max(1) {
        return Err(Error::Arg(ArgError::new(
            "kernel_size",
            format!("{kernel_size:?}"),
            "half the kernel must be smaller than the image side (reflect padding)",
        )));
    }
    let kx = blur::gaussian_kernel1d::<T>(kernel_size[0], sigma[0]);
    let ky = blur::gaussian_kernel1d::<T>(kernel_size[1], sigma[1]);
    let mut out = img.clone();
    if !dims.is_empty() {
        blur::gaussian_blur(&img.data, dims, &mut out.data, &kx, &ky);
    }
    Ok(out)
}

fn check_bits(bits: u8) -> Result<()> {
    if bits <= 8 {
        Ok(())
    } else {
        Err(Error::Arg(ArgError::new("bits", bits, "must lie in 0..=8")))
    }
}

/// torchvision's float `posterize`: `floor(x·2^bits)`, clamped to
/// `[0, 2^bits − 1]`, divided by `2^bits`. This is torchvision's float rule,
/// not the uint8 one ([`posterize_u8`]): a level keeps its lower edge, so
/// 1.0 becomes `1 − 2^−bits`.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{posterize, Image};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 1, 3), vec![0.3f64, 0.6, 1.0])?;
/// assert_eq!(posterize(&img, 1)?.data(), [0.0, 0.5, 0.5]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn posterize<T: Scalar>(img: &Image<T>, bits: u8) -> Result<Image<T>> {
    check_bits(bits)?;
    Ok(map(img, |_, x| tone::posterize(x, bits)))
}

/// torchvision's uint8 `posterize`: `x & (((1 << bits) − 1) << (8 − bits))`.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{posterize_u8, Image};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 1, 2), vec![200u8, 63])?;
/// assert_eq!(posterize_u8(&img, 2)?.data(), [192, 0]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn posterize_u8(img: &Image<u8>, bits: u8) -> Result<Image<u8>> {
    check_bits(bits)?;
    Ok(map(img, |_, x| tone::posterize_u8(x, bits)))
}

/// torchvision `solarize`: `1 − x` where `x ≥ threshold`.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{solarize, Image};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 1, 2), vec![0.25f64, 0.75])?;
/// assert_eq!(solarize(&img, 0.5)?.data(), [0.25, 0.25]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn solarize<T: Scalar>(img: &Image<T>, threshold: f64) -> Result<Image<T>> {
    if threshold.is_nan() || threshold > 1.0 {
        return Err(Error::Arg(ArgError::new(
            "threshold",
            threshold,
            "must be at most 1 (the float maximum)",
        )));
    }
    Ok(map(img, |_, x| tone::solarize(x, threshold)))
}

/// torchvision `invert`: `1 − x`.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{invert, Image};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 1, 2), vec![0.25f64, 1.0])?;
/// assert_eq!(invert(&img).data(), [0.75, 0.0]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn invert<T: Scalar>(img: &Image<T>) -> Image<T> {
    map(img, |_, x| tone::invert(x))
}

/// torchvision `autocontrast`: each channel stretched to `[0, 1]`,
/// `(x − min)/(max − min)`; a constant channel is unchanged.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{autocontrast, Image};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 1, 3), vec![0.25f64, 0.5, 0.75])?;
/// assert_eq!(autocontrast(&img)?.data(), [0.0, 0.5, 1.0]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn autocontrast<T: Scalar>(img: &Image<T>) -> Result<Image<T>> {
    check_gray_or_rgb(img.dims)?;
    Ok(map(img, tone::autocontrast))
}

/// torchvision's uint8 `equalize` (PIL's rule), per channel: with `hist`
/// the histogram, `cum` its running sum and `step = (H·W − hist[last
/// non-empty bin]) // 255`, a channel with `step = 0` is unchanged, else
/// `lut(0) = 0`, `lut(k) = min(255, (cum(k−1) + step//2) // step)`.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{equalize_u8, Image};
/// use descent_augment::image::ImageShape;
///
/// let flat = Image::new(ImageShape::new(1, 1, 4), vec![7u8; 4])?;
/// assert_eq!(equalize_u8(&flat).data(), [7, 7, 7, 7]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn equalize_u8(img: &Image<u8>) -> Image<u8> {
    map(img, tone::equalize_u8)
}

/// torchvision's float `equalize`: converted to uint8 ([`to_u8`]),
/// equalized ([`equalize_u8`]) and converted back ([`to_float`]), exactly
/// as torchvision; so even a channel the rule leaves unchanged comes back
/// quantized to 8 bits.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{equalize, Image};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 16, 16), (0..256).map(|i| (i % 4) as f64 / 3.0).collect())?;
/// let out = equalize(&img);
/// assert_eq!(out.dims(), img.dims());
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn equalize<T: Scalar>(img: &Image<T>) -> Image<T> {
    map(img, tone::equalize)
}

/// torchvision `adjust_sharpness`: interior pixels become `x + (1 − f)·(blur
/// − x)` with the 3×3 smoothing kernel `[[1,1,1],[1,5,1],[1,1,1]]/13`;
/// border pixels keep their value; the result is clamped to `[0, 1]`.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{adjust_sharpness, Image};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 3, 3), vec![0.5f64; 9])?;
/// let out = adjust_sharpness(&img, 2.0)?;
/// assert!(out.data().iter().all(|&v| (v - 0.5).abs() < 1e-12));
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn adjust_sharpness<T: Scalar>(img: &Image<T>, sharpness_factor: f64) -> Result<Image<T>> {
    check_factor("sharpness_factor", sharpness_factor)?;
    check_gray_or_rgb(img.dims)?;
    let mut scratch = Vec::new();
    Ok(map(img, |d, x| {
        tone::sharpness(d, x, &mut scratch, sharpness_factor)
    }))
}

/// torchvision's `to_dtype(image, torch.uint8, scale=True)` for a float
/// image: `trunc(x·(256 − 10⁻³))`, saturated to `0..=255`.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{to_u8, Image};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 1, 3), vec![0.0f32, 0.5, 1.0])?;
/// assert_eq!(to_u8(&img).data(), [0, 127, 255]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn to_u8<T: Scalar>(img: &Image<T>) -> Image<u8> {
    Image {
        dims: img.dims,
        data: img.data.iter().map(|&v| tone::to_u8(v)).collect(),
    }
}

/// torchvision's `to_dtype(image, float, scale=True)` for a uint8 image:
/// `x · (1/255)`.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{to_float, Image};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 1, 2), vec![0u8, 255])?;
/// assert_eq!(to_float::<f64>(&img).data(), [0.0, 1.0]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn to_float<T: Scalar>(img: &Image<u8>) -> Image<T> {
    Image {
        dims: img.dims,
        data: img.data.iter().map(|&v| tone::from_u8(v)).collect(),
    }
}
