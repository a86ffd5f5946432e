//! Gaussian blur (torchvision `gaussian_blur`).

use super::ImageShape;
use super::crop::{PaddingMode, pad_index};
use descent_core::Scalar;

/// torchvision `_get_gaussian_kernel1d`: `softmax(−(x/σ)²)` over
/// `x = linspace(−lim, lim, k)`, `lim = (k − 1)/(2√2)`, i.e. weights
/// ∝ `exp(−t²/(2σ²))` for `t = −(k−1)/2 … (k−1)/2`, summing to 1.
pub(crate) fn gaussian_kernel1d<T: Scalar>(size: usize, sigma: f64) -> Vec<T> {
    let lim = T::cast((size as f64 - 1.0) / (2.0 * std::f64::consts::SQRT_2));
    let sigma = T::cast(sigma);
    let logits: Vec<T> = (0..size)
        .map(|i| {
            let x = super::grid::linspace(-lim, lim, size, i) / sigma;
            -(x * x)
        })
        .collect();
    let max = logits
        .iter()
        .copied()
        .fold(T::cast(f64::NEG_INFINITY), |a, b| if b > a { b } else { a });
    let exps: Vec<T> = logits.iter().map(|&l| (l - max).exp()).collect();
    let mut sum = T::cast(0.0);
    for &e in &exps {
        sum += e;
    }
    let inv = T::cast(1.0) / sum;
    exps.into_iter().map(|e| e * inv).collect()
}

/// Blurs `src` into `dst` (same shape) with the separable kernel
/// `ky ⊗ kx`, reflect-padding by `k / 2` on each side, as torchvision
/// (a 2-D convolution with the outer-product kernel). The caller checks
/// that each padding is smaller than the image side.
pub(crate) fn gaussian_blur<T: Scalar>(
    src: &[T],
    dims: ImageShape,
    dst: &mut [T],
    kx: &[T],
    ky: &[T],
) {
    let (h, w) = (dims.h, dims.w);
    let (px, py) = ((kx.len() / 2) as isize, (ky.len() / 2) as isize);
    let plane = h * w;
    // Reflected source column/row of each tap, computed once.
    let cols: Vec<usize> = (0..w)
        .flat_map(|x| {
            (0..kx.len())
                .map(move |t| pad_index(PaddingMode::Reflect, x as isize + t as isize - px, w))
        })
        .map(|i| i.unwrap_or(0))
        .collect();
    let rows: Vec<usize> = (0..h)
        .flat_map(|y| {
            (0..ky.len())
                .map(move |t| pad_index(PaddingMode::Reflect, y as isize + t as isize - py, h))
        })
        .map(|i| i.unwrap_or(0))
        .collect();
    for (s, d) in src.chunks_exact(plane).zip(dst.chunks_exact_mut(plane)) {
        for y in 0..h {
            for x in 0..w {
                let mut acc = T::cast(0.0);
                for (r, &wy) in ky.iter().enumerate() {
                    let row = rows[y * ky.len() + r] * w;
                    for (c, &wx) in kx.iter().enumerate() {
                        acc += s[row + cols[x * kx.len() + c]] * (wy * wx);
                    }
                }
                d[y * w + x] = acc;
            }
        }
    }
}
