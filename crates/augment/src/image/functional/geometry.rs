//! The geometric ops of [`functional`](super): flips, padding, crops,
//! resizing and the grid warps.

use super::{Image, check_fill};
use crate::ArgError;
use crate::image::crop::{self, PaddingMode};
use crate::image::grid::{self, Interpolation};
use crate::image::{ImageShape, erase as erase_kernel, flip};
use crate::{Error, Result};
use descent_core::Scalar;

/// torchvision `hflip`: mirror left–right.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{hflip, Image};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 1, 3), vec![1.0f32, 2.0, 3.0])?;
/// assert_eq!(hflip(&img).data(), [3.0, 2.0, 1.0]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn hflip<T: Copy>(img: &Image<T>) -> Image<T> {
    let mut out = img.clone();
    flip::hflip(out.dims, &mut out.data);
    out
}

/// torchvision `vflip`: mirror top–bottom.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{vflip, Image};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 3, 1), vec![1.0f32, 2.0, 3.0])?;
/// assert_eq!(vflip(&img).data(), [3.0, 2.0, 1.0]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn vflip<T: Copy>(img: &Image<T>) -> Image<T> {
    let mut out = img.clone();
    flip::vflip(out.dims, &mut out.data);
    out
}

/// `a + b`, or an error naming `what` when it overflows.
fn add(what: &'static str, a: usize, b: usize) -> Result<usize> {
    a.checked_add(b)
        .filter(|&s| s <= isize::MAX as usize / 4)
        .ok_or_else(|| Error::Arg(ArgError::new(what, b, "is too large")))
}

/// The shape `c × h × w` when its length fits an allocation.
fn shape(what: &'static str, c: usize, h: usize, w: usize) -> Result<ImageShape> {
    c.checked_mul(h)
        .and_then(|n| n.checked_mul(w))
        .filter(|&n| n <= isize::MAX as usize / 8)
        .map(|_| ImageShape::new(c, h, w))
        .ok_or_else(|| {
            Error::Arg(ArgError::new(
                what,
                format!("{c}×{h}×{w}"),
                "is too large an image",
            ))
        })
}

/// torchvision `pad`: `padding` is `[all]`, `[left/right, top/bottom]` or
/// `[left, top, right, bottom]`; `fill` (constant mode only: one value, or
/// one per channel; `None` is 0) fills the border.
///
/// Reflect padding must be smaller than the image side and symmetric
/// padding at most the side (torch's limits); edge and constant padding
/// take any width.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{pad, Image, PaddingMode};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 1, 3), vec![1.0f64, 2.0, 3.0])?;
/// let out = pad(&img, &[2, 0], PaddingMode::Reflect, None)?;
/// assert_eq!(out.data(), [3.0, 2.0, 1.0, 2.0, 3.0, 2.0, 1.0]);
/// let out = pad(&img, &[1, 0], PaddingMode::Symmetric, None)?;
/// assert_eq!(out.data(), [1.0, 1.0, 2.0, 3.0, 3.0]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn pad<T: Scalar>(
    img: &Image<T>,
    padding: &[usize],
    mode: PaddingMode,
    fill: Option<&[T]>,
) -> Result<Image<T>> {
    let [l, t, r, b] = match *padding {
        [p] => [p; 4],
        [x, y] => [x, y, x, y],
        [l, t, r, b] => [l, t, r, b],
        _ => {
            return Err(Error::Arg(ArgError::new(
                "padding",
                format!("{} values", padding.len()),
                "needs 1, 2 or 4 values",
            )));
        }
    };
    check_fill(fill, img.dims.c)?;
    let (h, w) = (img.dims.h, img.dims.w);
    let limit = match mode {
        PaddingMode::Constant | PaddingMode::Edge => None,
        PaddingMode::Reflect => Some((h.saturating_sub(1), w.saturating_sub(1))),
        PaddingMode::Symmetric => Some((h, w)),
    };
    if let Some((max_y, max_x)) = limit
        && (t.max(b) > max_y || l.max(r) > max_x)
    {
        return Err(Error::Arg(ArgError::new(
            "padding",
            format!("{padding:?}"),
            "reflect padding must be smaller than the image side, symmetric at most the side",
        )));
    }
    if mode == PaddingMode::Edge && (h == 0 || w == 0) && l + t + r + b > 0 {
        return Err(Error::Arg(ArgError::new(
            "padding",
            "edge",
            "cannot pad an empty image",
        )));
    }
    let oh = add("padding", add("padding", h, t)?, b)?;
    let ow = add("padding", add("padding", w, l)?, r)?;
    let mut out = Image::zeros(shape("padding", img.dims.c, oh, ow)?);
    crop::window(
        &img.data,
        img.dims,
        &mut out.data,
        (-(t as isize), -(l as isize)),
        (oh, ow),
        mode,
        fill,
    );
    Ok(out)
}

/// torchvision `crop`: the `height × width` window at `(top, left)`, which
/// may reach outside the image (those pixels are 0).
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{crop, Image};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 2, 2), vec![1.0f32, 2.0, 3.0, 4.0])?;
/// assert_eq!(crop(&img, 1, -1, 1, 3)?.data(), [0.0, 3.0, 4.0]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn crop<T: Scalar>(
    img: &Image<T>,
    top: isize,
    left: isize,
    height: usize,
    width: usize,
) -> Result<Image<T>> {
    let big = isize::MAX / 4;
    let big_u = big as usize;
    if top.unsigned_abs() > big_u || left.unsigned_abs() > big_u || height > big_u || width > big_u
    {
        return Err(Error::Arg(ArgError::new(
            "crop",
            format!("({top}, {left}, {height}, {width})"),
            "is too large",
        )));
    }
    let mut out = Image::zeros(shape("crop", img.dims.c, height, width)?);
    crop::window(
        &img.data,
        img.dims,
        &mut out.data,
        (top, left),
        (height, width),
        PaddingMode::Constant,
        None,
    );
    Ok(out)
}

/// Python's `round` (half to even) of `n / 2`.
fn half_round(n: usize) -> usize {
    let q = n / 2;
    if n % 2 == 1 && q % 2 == 1 { q + 1 } else { q }
}

/// torchvision `center_crop` to `[h, w]`: the crop starts at
/// `round((H − h)/2)`, `round((W − w)/2)` with Python's rounding (half to
/// even); a crop larger than the image first zero-pads it, `(w − W)//2` on
/// the left and `(w − W + 1)//2` on the right (likewise vertically).
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{center_crop, Image};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 1, 7), (0..7).map(f64::from).collect())?;
/// assert_eq!(center_crop(&img, [1, 4])?.data(), [2.0, 3.0, 4.0, 5.0]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn center_crop<T: Scalar>(img: &Image<T>, output_size: [usize; 2]) -> Result<Image<T>> {
    let [ch, cw] = output_size;
    let (top, left) = center_crop_origin((img.dims.h, img.dims.w), output_size);
    crop(img, top, left, ch, cw)
}

/// The `(top, left)` at which [`center_crop`] crops an `h × w` image to
/// `output_size` (negative where it pads).
pub(crate) fn center_crop_origin(
    (h, w): (usize, usize),
    output_size: [usize; 2],
) -> (isize, isize) {
    let [ch, cw] = output_size;
    // Pad (zeros) where the crop is larger, then centre in the padded image.
    let (pt, pl) = ((ch.saturating_sub(h)) / 2, (cw.saturating_sub(w)) / 2);
    let (pb, pr) = (
        ch.saturating_sub(h).div_ceil(2),
        cw.saturating_sub(w).div_ceil(2),
    );
    let (ph, pw) = (
        if ch > h { h + pt + pb } else { h },
        if cw > w { w + pl + pr } else { w },
    );
    let top = half_round(ph - ch.min(ph)) as isize - pt as isize;
    let left = half_round(pw - cw.min(pw)) as isize - pl as isize;
    (top, left)
}

/// torchvision `resize` to `[h, w]` with `antialias=False` (PyTorch
/// `interpolate`, `align_corners=False`).
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{resize, Image, Interpolation};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 1, 2), vec![0.0f64, 1.0])?;
/// let out = resize(&img, [1, 4], Interpolation::Bilinear)?;
/// assert_eq!(out.data(), [0.0, 0.25, 0.75, 1.0]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn resize<T: Scalar>(
    img: &Image<T>,
    size: [usize; 2],
    interpolation: Interpolation,
) -> Result<Image<T>> {
    resized_crop(img, 0, 0, img.dims.h, img.dims.w, size, interpolation)
}

/// torchvision `resized_crop`: crop rows `top..top + height` and columns
/// `left..left + width` (inside the image), then [`resize`] to `size`.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{resized_crop, Image, Interpolation};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 2, 2), vec![0.0f64, 1.0, 2.0, 3.0])?;
/// let out = resized_crop(&img, 1, 0, 1, 2, [1, 1], Interpolation::Bilinear)?;
/// assert_eq!(out.data(), [2.5]);
/// assert!(resized_crop(&img, 1, 0, 2, 2, [1, 1], Interpolation::Bilinear).is_err());
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn resized_crop<T: Scalar>(
    img: &Image<T>,
    top: usize,
    left: usize,
    height: usize,
    width: usize,
    size: [usize; 2],
    interpolation: Interpolation,
) -> Result<Image<T>> {
    let (h, w) = (img.dims.h, img.dims.w);
    if height == 0 || top.checked_add(height).is_none_or(|e| e > h) {
        return Err(Error::Arg(ArgError::new(
            "height",
            height,
            "crop rows must be non-empty and inside the image",
        )));
    }
    if width == 0 || left.checked_add(width).is_none_or(|e| e > w) {
        return Err(Error::Arg(ArgError::new(
            "width",
            width,
            "crop columns must be non-empty and inside the image",
        )));
    }
    let [oh, ow] = size;
    if oh == 0 || ow == 0 {
        return Err(Error::Arg(ArgError::new(
            "size",
            format!("{size:?}"),
            "must be positive",
        )));
    }
    let mut out = Image::zeros(shape("size", img.dims.c, oh, ow)?);
    crop::resize(
        &img.data,
        img.dims,
        &mut out.data,
        (top, left, height, width),
        (oh, ow),
        interpolation,
    );
    Ok(out)
}

fn check_finite(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Error::Arg(ArgError::new(name, v, "must be finite")))
    }
}

/// torchvision `rotate` (`expand=False`, `center=None`): turns the image
/// `angle` degrees **counter-clockwise** about its centre. Quarter turns of
/// a square image and half turns take torchvision's exact `rot90` path
/// (`fill` unused); other angles resample ([`affine`] by `−angle`).
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{rotate, Image, Interpolation};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 2, 2), vec![1.0f64, 2.0, 3.0, 4.0])?;
/// let out = rotate(&img, 90.0, Interpolation::Nearest, None)?;
/// assert_eq!(out.data(), [2.0, 4.0, 1.0, 3.0]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn rotate<T: Scalar>(
    img: &Image<T>,
    angle: f64,
    interpolation: Interpolation,
    fill: Option<&[T]>,
) -> Result<Image<T>> {
    check_finite("angle", angle)?;
    check_fill(fill, img.dims.c)?;
    let turn = angle.rem_euclid(360.0);
    let square = img.dims.h == img.dims.w;
    let quarter = if turn == 0.0 {
        Some(0)
    } else if turn == 180.0 {
        Some(2)
    } else if square && turn == 90.0 {
        Some(1)
    } else if square && turn == 270.0 {
        Some(3)
    } else {
        None
    };
    if let Some(k) = quarter {
        let mut out = Image::zeros(img.dims);
        grid::rot90(&img.data, img.dims, &mut out.data, k);
        return Ok(out);
    }
    let matrix = grid::inverse_affine_matrix(-angle, [0.0; 2], 1.0, [0.0; 2]);
    Ok(warp_affine(img, &matrix, interpolation, fill))
}

fn warp_affine<T: Scalar>(
    img: &Image<T>,
    matrix: &[f64; 6],
    interpolation: Interpolation,
    fill: Option<&[T]>,
) -> Image<T> {
    let mut out = Image::zeros(img.dims);
    if !img.dims.is_empty() {
        grid::affine(
            &img.data,
            img.dims,
            &mut out.data,
            matrix,
            interpolation,
            fill,
        );
    }
    out
}

/// torchvision `affine` (`center=None`): rotation by `angle` degrees
/// **clockwise** (torchvision's `affine` sign, the opposite of [`rotate`]),
/// translation `[x, y]` in pixels, zoom `scale` and shears `[x, y]` in
/// degrees, about the image centre.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{affine, rotate, Image, Interpolation};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 3, 4), (0..12).map(|i| i as f64 / 12.0).collect())?;
/// let a = affine(&img, -30.0, [0.0, 0.0], 1.0, [0.0, 0.0], Interpolation::Bilinear, None)?;
/// let r = rotate(&img, 30.0, Interpolation::Bilinear, None)?;
/// assert_eq!(a, r);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn affine<T: Scalar>(
    img: &Image<T>,
    angle: f64,
    translate: [f64; 2],
    scale: f64,
    shear: [f64; 2],
    interpolation: Interpolation,
    fill: Option<&[T]>,
) -> Result<Image<T>> {
    check_finite("angle", angle)?;
    for v in translate.into_iter().chain(shear) {
        check_finite("translate/shear", v)?;
    }
    if !(scale.is_finite() && scale > 0.0) {
        return Err(Error::Arg(ArgError::new(
            "scale",
            scale,
            "must be finite and positive",
        )));
    }
    check_fill(fill, img.dims.c)?;
    let matrix = grid::inverse_affine_matrix(angle, translate, scale, shear);
    Ok(warp_affine(img, &matrix, interpolation, fill))
}

/// torchvision `affine` with `center`: [`affine`] about the point `center`
/// `[x, y]` in pixel coordinates of the top-left corner (so `[0.0, 0.0]` is
/// the corner, as AutoAugment's shears use) instead of the image centre.
/// `center = [w/2, h/2]` is [`affine`].
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{affine, affine_about, Image, Interpolation};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 3, 4), (0..12).map(|i| i as f64 / 12.0).collect())?;
/// let centre = affine_about(&img, 0.0, [0.0; 2], 1.0, [20.0, 0.0], [2.0, 1.5], Interpolation::Nearest, None)?;
/// assert_eq!(centre, affine(&img, 0.0, [0.0; 2], 1.0, [20.0, 0.0], Interpolation::Nearest, None)?);
/// let corner = affine_about(&img, 0.0, [0.0; 2], 1.0, [20.0, 0.0], [0.0, 0.0], Interpolation::Nearest, None)?;
/// assert_eq!(corner.data()[..4], img.data()[..4]); // the top row stays put
/// # Ok::<(), descent_augment::Error>(())
/// ```
#[allow(clippy::too_many_arguments)] // torchvision's signature
pub fn affine_about<T: Scalar>(
    img: &Image<T>,
    angle: f64,
    translate: [f64; 2],
    scale: f64,
    shear: [f64; 2],
    center: [f64; 2],
    interpolation: Interpolation,
    fill: Option<&[T]>,
) -> Result<Image<T>> {
    check_finite("angle", angle)?;
    for v in translate.into_iter().chain(shear).chain(center) {
        check_finite("translate/shear/center", v)?;
    }
    if !(scale.is_finite() && scale > 0.0) {
        return Err(Error::Arg(ArgError::new(
            "scale",
            scale,
            "must be finite and positive",
        )));
    }
    check_fill(fill, img.dims.c)?;
    let (w, h) = (img.dims.w as f64, img.dims.h as f64);
    let center = [center[0] - w * 0.5, center[1] - h * 0.5];
    let matrix = grid::inverse_affine_matrix_about(center, angle, translate, scale, shear);
    Ok(warp_affine(img, &matrix, interpolation, fill))
}

/// torchvision's `_get_perspective_coeffs`: the coefficients
/// `[a, b, c, d, e, f, g, h]` mapping each of the four `endpoints` (an
/// output pixel) to its `startpoints` (where it is read from), solved in
/// f64 and rounded to f32 as torchvision does. Points are `[x, y]`:
/// top-left, top-right, bottom-right, bottom-left.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::perspective_coefficients;
///
/// let square = [[0.0, 0.0], [9.0, 0.0], [9.0, 7.0], [0.0, 7.0]];
/// let c = perspective_coefficients(square, square)?;
/// assert_eq!(c, [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn perspective_coefficients(
    startpoints: [[f64; 2]; 4],
    endpoints: [[f64; 2]; 4],
) -> Result<[f64; 8]> {
    let mut a = nalgebra::SMatrix::<f64, 8, 8>::zeros();
    let mut b = nalgebra::SVector::<f64, 8>::zeros();
    for (i, (p1, p2)) in endpoints.iter().zip(&startpoints).enumerate() {
        let rows = [
            [
                p1[0],
                p1[1],
                1.0,
                0.0,
                0.0,
                0.0,
                -p2[0] * p1[0],
                -p2[0] * p1[1],
            ],
            [
                0.0,
                0.0,
                0.0,
                p1[0],
                p1[1],
                1.0,
                -p2[1] * p1[0],
                -p2[1] * p1[1],
            ],
        ];
        for (k, row) in rows.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                a[(2 * i + k, j)] = *v;
            }
            b[2 * i + k] = p2[k];
        }
    }
    let x = a.lu().solve(&b).filter(|x| x.iter().all(|v| v.is_finite()));
    let Some(x) = x else {
        return Err(Error::Arg(ArgError::new(
            "endpoints",
            format!("{endpoints:?}"),
            "the four point pairs do not define a perspective (degenerate quadrilateral)",
        )));
    };
    Ok(std::array::from_fn(|i| x[i] as f32 as f64))
}

/// torchvision `perspective` with explicit `coefficients` (see
/// [`perspective_coefficients`]): the output pixel centre `(x, y) = (j + ½,
/// i + ½)` reads the input at `((a x + b y + c)/(g x + h y + 1), (d x + e y +
/// f)/(g x + h y + 1))`.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{perspective, Image, Interpolation};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 2, 2), vec![1.0f64, 2.0, 3.0, 4.0])?;
/// let same = perspective(&img, [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0], Interpolation::Bilinear, None)?;
/// assert_eq!(same, img);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn perspective<T: Scalar>(
    img: &Image<T>,
    coefficients: [f64; 8],
    interpolation: Interpolation,
    fill: Option<&[T]>,
) -> Result<Image<T>> {
    for c in coefficients {
        check_finite("coefficients", c)?;
    }
    check_fill(fill, img.dims.c)?;
    let mut out = Image::zeros(img.dims);
    if !img.dims.is_empty() {
        grid::perspective(
            &img.data,
            img.dims,
            &mut out.data,
            &coefficients,
            interpolation,
            fill,
        );
    }
    Ok(out)
}

/// torchvision `elastic` with an explicit `displacement` (`H × W × 2`, in
/// normalised grid units `[−1, 1]`, `(x, y)` last), added to the identity
/// grid `x_j = (2j + 1)/W − 1`, `y_i = (2i + 1)/H − 1`.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{elastic, Image, Interpolation};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(1, 1, 2), vec![1.0f64, 2.0])?;
/// // Shift the whole grid right by one pixel (2/W in normalised units).
/// let out = elastic(&img, &[1.0, 0.0, 1.0, 0.0], Interpolation::Nearest, Some(&[0.5]))?;
/// assert_eq!(out.data(), [2.0, 0.5]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn elastic<T: Scalar>(
    img: &Image<T>,
    displacement: &[T],
    interpolation: Interpolation,
    fill: Option<&[T]>,
) -> Result<Image<T>> {
    let dims = img.dims;
    crate::image::check_len("displacement", 2 * dims.plane(), displacement.len())?;
    check_fill(fill, dims.c)?;
    let mut out = Image::zeros(dims);
    if !dims.is_empty() {
        grid::elastic(
            &img.data,
            dims,
            &mut out.data,
            displacement,
            interpolation,
            fill,
        );
    }
    Ok(out)
}

/// torchvision `erase`: the `h × w` rectangle at `(i, j)` (inside the
/// image) takes `v`, broadcast from shape `[C or 1, h or 1, w or 1]`.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{erase, Image};
/// use descent_augment::image::ImageShape;
///
/// let img = Image::new(ImageShape::new(2, 2, 2), vec![1.0f64; 8])?;
/// let v = Image::new(ImageShape::new(2, 1, 1), vec![0.0, 0.5])?;
/// let out = erase(&img, 0, 1, 2, 1, &v)?;
/// assert_eq!(out.data(), [1.0, 0.0, 1.0, 0.0, 1.0, 0.5, 1.0, 0.5]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn erase<T: Scalar>(
    img: &Image<T>,
    i: usize,
    j: usize,
    h: usize,
    w: usize,
    v: &Image<T>,
) -> Result<Image<T>> {
    let dims = img.dims;
    if i.checked_add(h).is_none_or(|e| e > dims.h) || j.checked_add(w).is_none_or(|e| e > dims.w) {
        return Err(Error::Arg(ArgError::new(
            "erase",
            format!("({i}, {j}, {h}, {w})"),
            "the rectangle must lie inside the image",
        )));
    }
    let vd = v.dims;
    let fits = |n: usize, want: usize| n == 1 || n == want;
    if !(fits(vd.c, dims.c) && fits(vd.h, h) && fits(vd.w, w)) {
        return Err(Error::Arg(ArgError::new(
            "v",
            vd,
            "must broadcast to the rectangle: shape [C or 1, h or 1, w or 1]",
        )));
    }
    let mut out = img.clone();
    let pick = |n: usize, k: usize| if n == 1 { 0 } else { k };
    erase_kernel::erase_with(dims, &mut out.data, i, j, h, w, |ch, y, x| {
        v.data[vd.col(pick(vd.c, ch), pick(vd.h, y), pick(vd.w, x))]
    });
    Ok(out)
}
