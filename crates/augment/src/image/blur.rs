//! Gaussian blur (torchvision `gaussian_blur`).

use super::crop::{PaddingMode, pad_index};
use super::spec::OpSpec;
use super::{DrawnParams, ImageAugment, ImageShape};
use crate::ArgError;
use crate::error::check_range;
use crate::{Error, OpCtx, Result};
use descent_core::Scalar;
use rand::RngExt;

/// torchvision `GaussianBlur(kernel_size, sigma=(0.1, 2.0))`: a blur whose
/// σ is drawn uniformly from `sigma` per sample (the same for both axes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GaussianBlur {
    kernel_size: [usize; 2],
    sigma: (f32, f32),
}

impl GaussianBlur {
    /// A random Gaussian blur; `kernel_size` is `[kx, ky]` (odd), x first.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::GaussianBlur;
    ///
    /// let blur = GaussianBlur::new([3, 3], (0.1, 2.0))?;
    /// assert!(GaussianBlur::new([4, 3], (0.1, 2.0)).is_err());
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(kernel_size: [usize; 2], sigma: (f32, f32)) -> Result<Self> {
        for k in kernel_size {
            if k % 2 == 0 || k > 1025 {
                return Err(Error::Arg(ArgError::new(
                    "kernel_size",
                    k,
                    "must be odd, at most 1025",
                )));
            }
        }
        check_range("sigma", sigma)?;
        if sigma.0 <= 0.0 {
            return Err(Error::Arg(ArgError::new(
                "sigma",
                sigma.0,
                "must be positive",
            )));
        }
        Ok(GaussianBlur { kernel_size, sigma })
    }
}

impl ImageAugment for GaussianBlur {
    fn spec(&self) -> Option<OpSpec> {
        Some(OpSpec::GaussianBlur {
            kernel_size: self.kernel_size,
            sigma: self.sigma,
        })
    }

    fn draw(&self, ctx: OpCtx, dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        let (lo, hi) = self.sigma;
        let s = if lo == hi {
            lo
        } else {
            ctx.rng().random_range(lo..=hi)
        };
        let most = 2 * dims.h.max(dims.w) + 1;
        // A kernel wider than the image's reach would only wrap; clip it.
        let fit = |k: usize| if k > most { most } else { k };
        emit(DrawnParams::Blur {
            kernel_size: self.kernel_size.map(fit),
            sigma: [s, s],
        })
    }
}

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

/// Output pixels a row of [`gaussian_blur`] sums at once, in registers.
const LANES: usize = 16;

/// Blurs `src` into `dst` (same shape) with the separable kernel
/// `ky ⊗ kx`, reflect-padding by `k / 2` on each side, as torchvision
/// (a 2-D convolution with the outer-product kernel). The caller checks
/// that each padding is smaller than the image side.
///
/// Every output pixel is the sum, in the order `r` then `c`, of
/// `s[row(y, r)][col(x, c)] · (ky[r]·kx[c])`: torchvision's 2-D
/// convolution, not two 1-D passes (whose rounding differs). Each source
/// row is reflect-padded once, so the taps of a row of outputs are
/// contiguous. A block of [`LANES`] outputs keeps its sums in registers
/// through all the taps and is written once; the loop over the block
/// vectorizes without reordering any pixel's sum (the bits are those of
/// the tap-by-tap loop, `tests::the_row_kernel_gives_the_tap_by_tap_bits`).
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
    if plane == 0 {
        return;
    }
    // Reflected source column of each padded position, row of each tap.
    let padded_w = w + kx.len() - 1;
    let cols: Vec<usize> = (0..padded_w)
        .map(|j| pad_index(PaddingMode::Reflect, j as isize - px, w).unwrap_or(0))
        .collect();
    let rows: Vec<usize> = (0..h)
        .flat_map(|y| {
            (0..ky.len())
                .map(move |t| pad_index(PaddingMode::Reflect, y as isize + t as isize - py, h))
        })
        .map(|i| i.unwrap_or(0))
        .collect();
    let k2: Vec<T> = ky
        .iter()
        .flat_map(|&wy| kx.iter().map(move |&wx| wy * wx))
        .collect();
    let zero = T::cast(0.0);
    let mut padded = vec![zero; h * padded_w];
    for (s, d) in src.chunks_exact(plane).zip(dst.chunks_exact_mut(plane)) {
        // The middle of a padded row is the row itself; only the edges
        // are gathered.
        let (left, right) = (&cols[..px as usize], &cols[px as usize + w..]);
        for (prow, srow) in padded.chunks_exact_mut(padded_w).zip(s.chunks_exact(w)) {
            let (l, rest) = prow.split_at_mut(left.len());
            let (mid, r) = rest.split_at_mut(w);
            mid.copy_from_slice(srow);
            for (p, &c) in l.iter_mut().zip(left).chain(r.iter_mut().zip(right)) {
                *p = srow[c];
            }
        }
        for (out, taps) in d.chunks_exact_mut(w).zip(rows.chunks_exact(ky.len())) {
            let mut blocks = out.chunks_exact_mut(LANES);
            for (b, block) in (&mut blocks).enumerate() {
                let mut acc = [zero; LANES];
                for (&row, kr) in taps.iter().zip(k2.chunks_exact(kx.len())) {
                    let prow = &padded[row * padded_w + b * LANES..][..LANES + kx.len() - 1];
                    for (c, &k) in kr.iter().enumerate() {
                        for (a, &v) in acc.iter_mut().zip(&prow[c..c + LANES]) {
                            *a += v * k;
                        }
                    }
                }
                block.copy_from_slice(&acc);
            }
            let x0 = w - blocks.into_remainder().len();
            for (x, o) in out.iter_mut().enumerate().skip(x0) {
                let mut acc = zero;
                for (&row, kr) in taps.iter().zip(k2.chunks_exact(kx.len())) {
                    let prow = &padded[row * padded_w + x..][..kx.len()];
                    for (&v, &k) in prow.iter().zip(kr) {
                        acc += v * k;
                    }
                }
                *o = acc;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::testutil::image;
    use proptest::prelude::*;

    /// The tap-by-tap loop `gaussian_blur` replaced (issue 19's first
    /// version), kept as the oracle of its bits.
    fn tap_by_tap<T: Scalar>(src: &[T], dims: ImageShape, dst: &mut [T], kx: &[T], ky: &[T]) {
        let (h, w) = (dims.h, dims.w);
        let (px, py) = ((kx.len() / 2) as isize, (ky.len() / 2) as isize);
        let reflect = |i: isize, n: usize| pad_index(PaddingMode::Reflect, i, n).unwrap_or(0);
        for (s, d) in src.chunks_exact(h * w).zip(dst.chunks_exact_mut(h * w)) {
            for y in 0..h {
                for x in 0..w {
                    let mut acc = T::cast(0.0);
                    for (r, &wy) in ky.iter().enumerate() {
                        let row = reflect(y as isize + r as isize - py, h) * w;
                        for (c, &wx) in kx.iter().enumerate() {
                            acc += s[row + reflect(x as isize + c as isize - px, w)] * (wy * wx);
                        }
                    }
                    d[y * w + x] = acc;
                }
            }
        }
    }

    /// Rows of one to three blocks of `LANES` outputs and a remainder.
    fn wide_image() -> impl Strategy<Value = (ImageShape, Vec<f32>)> {
        (1usize..=2, 1usize..=6, LANES..=3 * LANES + 3).prop_flat_map(|(c, h, w)| {
            let dims = ImageShape::new(c, h, w);
            (
                Just(dims),
                proptest::collection::vec(0.0f32..=1.0, dims.len()),
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn the_row_kernel_gives_the_tap_by_tap_bits(
            (dims, img) in prop_oneof![image(), wide_image()],
            half in (0usize..6, 0usize..6),
            sigma in (0.1f64..6.0, 0.1f64..6.0),
        ) {
            // Kernels up to twice the side (elastic's cap), where reflection
            // runs out and both fall back to index 0.
            let (kx, ky) = (
                gaussian_kernel1d::<f32>(2 * half.0 + 1, sigma.0),
                gaussian_kernel1d::<f32>(2 * half.1 + 1, sigma.1),
            );
            let (mut a, mut b) = (vec![0f32; img.len()], vec![1f32; img.len()]);
            gaussian_blur(&img, dims, &mut a, &kx, &ky);
            tap_by_tap(&img, dims, &mut b, &kx, &ky);
            prop_assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
            let img64: Vec<f64> = img.iter().map(|&v| v as f64).collect();
            let (kx, ky) = (gaussian_kernel1d::<f64>(kx.len(), sigma.0), gaussian_kernel1d::<f64>(ky.len(), sigma.1));
            let (mut a, mut b) = (vec![0f64; img.len()], vec![1f64; img.len()]);
            gaussian_blur(&img64, dims, &mut a, &kx, &ky);
            tap_by_tap(&img64, dims, &mut b, &kx, &ky);
            prop_assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn blur_keeps_shape_range_and_replays((dims, img) in image(), index in 0u64..100) {
            // A blur is a weighted mean whose f32 weights sum to 1 within
            // an ulp or two, so the range holds to that rounding.
            let op = GaussianBlur::new([5, 3], (0.1, 2.0)).unwrap();
            let key = crate::SampleKey::new(7, 1, index);
            let mut a = img.clone();
            op.apply(key, dims, &mut a, &mut Vec::new()).unwrap();
            prop_assert!(a.iter().all(|v| (-1e-6..=1.0 + 1e-6).contains(v)));
            let mut b = img.clone();
            op.apply(key, dims, &mut b, &mut Vec::new()).unwrap();
            prop_assert_eq!(a, b);
        }

        #[test]
        fn kernels_sum_to_one(k in 0usize..10, sigma in 0.05f64..10.0) {
            let w = gaussian_kernel1d::<f64>(2 * k + 1, sigma);
            prop_assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }
}
