//! Resampling through a grid, as torchvision's `rotate`, `affine`,
//! `perspective` and `elastic` do: a normalised sampling grid handed to
//! `grid_sample(align_corners=False, padding_mode="zeros")`, then the
//! optional fill blended in with a sampled mask of ones.

use super::ImageShape;
use descent_core::Scalar;
use serde::{Deserialize, Serialize};

/// How a resampled pixel is read from the source (torchvision `InterpolationMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interpolation {
    /// The nearest source pixel, ties rounded half to even (`NEAREST`).
    Nearest,
    /// Bilinear between the four neighbouring pixels (`BILINEAR`).
    #[default]
    Bilinear,
}

/// `x` clamped to `[lo, hi]`; NaN stays NaN (torch `clamp`).
#[inline]
pub(crate) fn clamp<T: PartialOrd + Copy>(x: T, lo: T, hi: T) -> T {
    if x < lo {
        lo
    } else if x > hi {
        hi
    } else {
        x
    }
}

/// The `i`-th of `steps` values from `start` to `end`, computed as
/// `torch.linspace` does (from the start for the first half, from the end
/// for the second).
pub(crate) fn linspace<T: Scalar>(start: T, end: T, steps: usize, i: usize) -> T {
    if steps <= 1 {
        return start;
    }
    let step = (end - start) / T::from_count(steps - 1);
    if i < steps / 2 {
        start + step * T::from_count(i)
    } else {
        end - step * T::from_count(steps - 1 - i)
    }
}

/// torchvision `_get_inverse_affine_matrix` with the centre at the origin:
/// the output → input map `[a, b, c, d, e, f]` of an affine warp whose
/// `angle` (degrees) turns clockwise on screen, as torchvision's `affine`.
pub(crate) fn inverse_affine_matrix(
    angle: f64,
    translate: [f64; 2],
    scale: f64,
    shear: [f64; 2],
) -> [f64; 6] {
    inverse_affine_matrix_about([0.0; 2], angle, translate, scale, shear)
}

/// torchvision `_get_inverse_affine_matrix(center, angle, translate, scale,
/// shear)`, with `center` in centred pixel coordinates (torchvision's
/// `center_f`: `center − [w, h]/2`, so `[0, 0]` is the image centre), in
/// torchvision's order of operations.
pub(crate) fn inverse_affine_matrix_about(
    center: [f64; 2],
    angle: f64,
    translate: [f64; 2],
    scale: f64,
    shear: [f64; 2],
) -> [f64; 6] {
    let [cx, cy] = center;
    let (tx, ty) = (translate[0], translate[1]);
    let [a, b, c, d] = rotation_shear(angle, shear);
    let mut m = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0];
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
    m[2] += cx;
    m[5] += cy;
    m
}

/// torchvision `_get_inverse_affine_matrix`'s rotation-shear part `[a, b, c,
/// d]` (row-major, without the scale) for `angle` and `shear` in degrees:
/// what the forward map scales and the inverse map inverts.
pub(crate) fn rotation_shear(angle: f64, shear: [f64; 2]) -> [f64; 4] {
    let rot = angle.to_radians();
    let (sx, sy) = (shear[0].to_radians(), shear[1].to_radians());
    let (cos_sy, tan_sx, rot_minus_sy) = (sy.cos(), sx.tan(), rot - sy);
    let a = rot_minus_sy.cos() / cos_sy;
    let b = -(a * tan_sx + rot.sin());
    let c = rot_minus_sy.sin() / cos_sy;
    let d = rot.cos() - c * tan_sx;
    [a, b, c, d]
}

/// Samples `src` (`dims`) at the normalised grid point `grid(i, j)` of every
/// output pixel `(i, j)` of an `oh × ow` output written to `dst`, then blends
/// in `fill` (one value per channel, or one for all) as torchvision's
/// `_apply_grid_transform` does: nearest takes `fill` where the sampled mask
/// is below ½, bilinear computes `(sample − fill)·mask + fill`. With `fill`
/// `None` the outside reads as zero.
pub(crate) fn grid_sample<T: Scalar>(
    src: &[T],
    dims: ImageShape,
    dst: &mut [T],
    (oh, ow): (usize, usize),
    interpolation: Interpolation,
    fill: Option<&[T]>,
    grid: impl Fn(usize, usize) -> (T, T),
) {
    let (c, h, w) = (dims.c, dims.h, dims.w);
    debug_assert_eq!(dst.len(), c * oh * ow);
    let (one, zero) = (T::cast(1.0), T::cast(0.0));
    let (wt, ht) = (T::from_count(w), T::from_count(h));
    let fill_at = |ch: usize| fill.map(|f| if f.len() == 1 { f[0] } else { f[ch] });
    let oplane = oh * ow;
    // `Some(index)` of pixel (x, y) when it lies inside the image.
    let inside = |x: f64, y: f64| -> Option<usize> {
        if x >= 0.0 && y >= 0.0 && x < w as f64 && y < h as f64 {
            Some(y as usize * w + x as usize)
        } else {
            None
        }
    };
    for i in 0..oh {
        for j in 0..ow {
            let (gx, gy) = grid(i, j);
            // grid_sampler_compute_source_index, align_corners = false.
            let ix = ((gx + one) * wt - one) / T::cast(2.0);
            let iy = ((gy + one) * ht - one) / T::cast(2.0);
            let o = i * ow + j;
            match interpolation {
                Interpolation::Nearest => {
                    let at = inside(ix.as_f64().round_ties_even(), iy.as_f64().round_ties_even());
                    for ch in 0..c {
                        let v = at.map_or(zero, |k| src[ch * h * w + k]);
                        dst[ch * oplane + o] = match (fill_at(ch), at) {
                            (Some(f), None) => f,
                            _ => v,
                        };
                    }
                }
                Interpolation::Bilinear => {
                    let (x_w, y_n) = (ix.floor(), iy.floor());
                    let (x_e, y_s) = (x_w + one, y_n + one);
                    let (we, ee, nn, ss) = (ix - x_w, x_e - ix, iy - y_n, y_s - iy);
                    let corners = [
                        (x_w, y_n, ss * ee),
                        (x_e, y_n, ss * we),
                        (x_w, y_s, nn * ee),
                        (x_e, y_s, nn * we),
                    ];
                    let at = corners.map(|(x, y, wgt)| (inside(x.as_f64(), y.as_f64()), wgt));
                    let mut mask = zero;
                    for &(k, wgt) in &at {
                        if k.is_some() {
                            mask += wgt;
                        }
                    }
                    for ch in 0..c {
                        let plane = &src[ch * h * w..(ch + 1) * h * w];
                        let mut v = zero;
                        for &(k, wgt) in &at {
                            if let Some(k) = k {
                                v += plane[k] * wgt;
                            }
                        }
                        dst[ch * oplane + o] = match fill_at(ch) {
                            Some(f) => (v - f) * mask + f,
                            None => v,
                        };
                    }
                }
            }
        }
    }
}

/// Warps `src` by the inverse affine `matrix` (centred pixel coordinates,
/// output → input) into `dst` of the same size: torchvision `_affine_grid`.
pub(crate) fn affine<T: Scalar>(
    src: &[T],
    dims: ImageShape,
    dst: &mut [T],
    matrix: &[f64; 6],
    interpolation: Interpolation,
    fill: Option<&[T]>,
) {
    let (h, w) = (dims.h, dims.w);
    let theta = matrix.map(T::cast);
    let (hw, hh) = (
        T::cast(0.5) * T::from_count(w),
        T::cast(0.5) * T::from_count(h),
    );
    // rescaled_theta = thetaᵀ / [0.5·w, 0.5·h], column by column.
    let rx = [theta[0] / hw, theta[1] / hw, theta[2] / hw];
    let ry = [theta[3] / hh, theta[4] / hh, theta[5] / hh];
    let (x0, y0) = (
        T::cast((1.0 - w as f64) * 0.5),
        T::cast((1.0 - h as f64) * 0.5),
    );
    let (x1, y1) = (
        T::cast((w as f64 - 1.0) * 0.5),
        T::cast((h as f64 - 1.0) * 0.5),
    );
    grid_sample(src, dims, dst, (h, w), interpolation, fill, |i, j| {
        let x = linspace(x0, x1, w, j);
        let y = linspace(y0, y1, h, i);
        (x * rx[0] + y * rx[1] + rx[2], x * ry[0] + y * ry[1] + ry[2])
    })
}

/// Warps `src` by the perspective `coefficients` `[a, b, c, d, e, f, g, h]`
/// (output pixel centre → input point) into `dst` of the same size:
/// torchvision `_perspective_grid`.
pub(crate) fn perspective<T: Scalar>(
    src: &[T],
    dims: ImageShape,
    dst: &mut [T],
    coefficients: &[f64; 8],
    interpolation: Interpolation,
    fill: Option<&[T]>,
) {
    let (h, w) = (dims.h, dims.w);
    let k = coefficients.map(T::cast);
    let one = T::cast(1.0);
    let (hw, hh) = (
        T::cast(0.5) * T::from_count(w),
        T::cast(0.5) * T::from_count(h),
    );
    let rx = [k[0] / hw, k[1] / hw, k[2] / hw];
    let ry = [k[3] / hh, k[4] / hh, k[5] / hh];
    let d = T::cast(0.5);
    grid_sample(src, dims, dst, (h, w), interpolation, fill, |i, j| {
        let x = linspace(d, T::from_count(w) + d - one, w, j);
        let y = linspace(d, T::from_count(h) + d - one, h, i);
        let den = x * k[6] + y * k[7] + one;
        (
            (x * rx[0] + y * rx[1] + rx[2]) / den - one,
            (x * ry[0] + y * ry[1] + ry[2]) / den - one,
        )
    })
}

/// Displaces the identity grid by `displacement` (`H × W × 2`, normalised
/// units, `(x, y)` last) and samples `src` into `dst`: torchvision `elastic`.
pub(crate) fn elastic<T: Scalar>(
    src: &[T],
    dims: ImageShape,
    dst: &mut [T],
    displacement: &[T],
    interpolation: Interpolation,
    fill: Option<&[T]>,
) {
    let (h, w) = (dims.h, dims.w);
    let (wt, ht, one) = (T::from_count(w), T::from_count(h), T::cast(1.0));
    let (x0, x1) = ((one - wt) / wt, (wt - one) / wt);
    let (y0, y1) = ((one - ht) / ht, (ht - one) / ht);
    grid_sample(src, dims, dst, (h, w), interpolation, fill, |i, j| {
        let k = 2 * (i * w + j);
        (
            linspace(x0, x1, w, j) + displacement[k],
            linspace(y0, y1, h, i) + displacement[k + 1],
        )
    })
}

/// `torch.rot90(src, k, dims=(-2, -1))`: `k` quarter turns counter-clockwise;
/// `dst` is `C × W × H` for odd `k`.
pub(crate) fn rot90<T: Copy>(src: &[T], dims: ImageShape, dst: &mut [T], k: u32) {
    let (h, w) = (dims.h, dims.w);
    let plane = h * w;
    for ch in 0..dims.c {
        let s = &src[ch * plane..(ch + 1) * plane];
        let d = &mut dst[ch * plane..(ch + 1) * plane];
        match k % 4 {
            0 => d.copy_from_slice(s),
            1 => {
                for i in 0..w {
                    for j in 0..h {
                        d[i * h + j] = s[j * w + (w - 1 - i)];
                    }
                }
            }
            2 => {
                for (o, v) in d.iter_mut().zip(s.iter().rev()) {
                    *o = *v;
                }
            }
            _ => {
                for i in 0..w {
                    for j in 0..h {
                        d[i * h + j] = s[(h - 1 - j) * w + i];
                    }
                }
            }
        }
    }
}
