//! Softmax and log-softmax over the channels of a batch of images: PyTorch's
//! `softmax(x, dim=1)` / `log_softmax(x, dim=1)` on NCHW input (the
//! `nn.Softmax2d` of a segmentation head). Each pixel of each sample gets its
//! own distribution over the `C` channels, computed stably by subtracting the
//! pixel's maximum.
//!
//! In the `N × (C·H·W)` column-major layout, channel `c` of every pixel of
//! every sample is one contiguous run of `N·H·W` values, laid out exactly as
//! an `N × (H·W)` matrix; the per-pixel statistics use that layout, so every
//! loop here walks memory in order.

use super::{BackCtx, Backward, Op};
use crate::var::Var;
use descent_core::{ImageShape, Scalar};
use nalgebra::DMatrix;
use std::marker::PhantomData;

#[derive(Debug)]
pub(crate) struct Softmax2d<S> {
    log: bool,
    x: u32,
    /// `H·W` of the input images.
    hw: usize,
    /// `C` of the input images.
    channels: usize,
    _s: PhantomData<S>,
}

/// The image shape of node `idx`, or a panic naming `op` if it has none.
pub(crate) fn image_of(op: &str, image: Option<ImageShape>) -> ImageShape {
    match image {
        Some(shape) => shape,
        None => panic!(
            "{op}: input has no image shape; record it with Tape::constant_image, Tape::leaf_image or Var::as_image"
        ),
    }
}

/// Per-pixel `max + ln Σ_c exp(x_c − max)` of `x` (`N × (C·H·W)`) into
/// `lse` (`N × (H·W)`, same column-major pixel order as one channel);
/// `sums` is scratch of the same size.
pub(crate) fn channel_logsumexp<S: Scalar>(
    x: &DMatrix<S>,
    channels: usize,
    lse: &mut DMatrix<S>,
    sums: &mut DMatrix<S>,
) {
    assert!(channels > 0, "softmax2d: images have no channels");
    let x = x.as_slice();
    let m = lse.len();
    let lse = lse.as_mut_slice();
    lse.copy_from_slice(&x[..m]);
    for c in 1..channels {
        for (l, &v) in lse.iter_mut().zip(&x[c * m..(c + 1) * m]) {
            if v > *l {
                *l = v;
            }
        }
    }
    // sums accumulate in a second pass over the channels, so `lse` holds the
    // shift until the end; a pixel of ±inf has no finite shift (PyTorch's
    // NaN/inf results are kept)
    let sums = sums.as_mut_slice();
    sums.fill(S::zero());
    for c in 0..channels {
        for ((s, &l), &v) in sums.iter_mut().zip(lse.iter()).zip(&x[c * m..(c + 1) * m]) {
            let shift = if l.is_finite() { l } else { S::zero() };
            *s += (v - shift).exp();
        }
    }
    for (l, &s) in lse.iter_mut().zip(sums.iter()) {
        let shift = if l.is_finite() { *l } else { S::zero() };
        *l = shift + s.ln();
    }
}

impl<'t, S: Scalar> Var<'t, S> {
    fn softmax2d_op(self, log: bool, op: &str) -> Var<'t, S> {
        Var::record(self.tape, |t| {
            let shape = image_of(op, t.image(self.idx));
            let x = &t.values[self.idx as usize];
            let (n, hw) = (x.nrows(), shape.h * shape.w);
            let (mut lse, mut sums) = (t.pool.take(n, hw), t.pool.take(n, hw));
            channel_logsumexp(x, shape.c, &mut lse, &mut sums);
            t.pool.give(sums);
            let mut out = t.pool.take(n, x.ncols());
            let m = n * hw;
            for c in 0..shape.c {
                let src = &x.as_slice()[c * m..(c + 1) * m];
                let dst = &mut out.as_mut_slice()[c * m..(c + 1) * m];
                for ((o, &v), &l) in dst.iter_mut().zip(src).zip(lse.as_slice()) {
                    *o = if log { v - l } else { (v - l).exp() };
                }
            }
            t.pool.give(lse);
            let op = Op::Softmax2d(Softmax2d {
                log,
                x: self.idx,
                hw,
                channels: shape.c,
                _s: PhantomData,
            });
            (out, op, t.needs(self.idx), Some(shape))
        })
    }

    /// Softmax over the channels of each pixel of a batch of images
    /// (`N × (C·H·W)` with an image shape): PyTorch's `softmax(x, dim=1)`
    /// on NCHW, `nn.Softmax2d`. The output keeps the input's image shape;
    /// at every pixel of every sample its `C` values sum to one.
    ///
    /// Panics, naming the op, if the input has no image shape.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_autodiff::{ImageShape, Tape};
    /// use nalgebra::DMatrix;
    ///
    /// // one sample, 2 channels, 1×2 pixels: channel 0 is [0, ln 3], channel 1 is [0, 0]
    /// let tape = Tape::<f64>::new();
    /// let x = DMatrix::from_row_slice(1, 4, &[0.0, 3f64.ln(), 0.0, 0.0]);
    /// let p = tape.constant_image(&x, ImageShape::new(2, 1, 2)).softmax2d().value();
    /// assert!((p[0] - 0.5).abs() < 1e-15 && (p[2] - 0.5).abs() < 1e-15); // pixel 0
    /// assert!((p[1] - 0.75).abs() < 1e-15 && (p[3] - 0.25).abs() < 1e-15); // pixel 1
    /// ```
    pub fn softmax2d(self) -> Var<'t, S> {
        self.softmax2d_op(false, "softmax2d")
    }

    /// Log-softmax over the channels of each pixel of a batch of images:
    /// PyTorch's `log_softmax(x, dim=1)` on NCHW, `x − logsumexp_c(x)`,
    /// stable for huge logits. The output keeps the input's image shape.
    ///
    /// Panics, naming the op, if the input has no image shape.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_autodiff::{ImageShape, Tape};
    /// use nalgebra::DMatrix;
    ///
    /// let tape = Tape::<f32>::new();
    /// let x = DMatrix::from_row_slice(1, 2, &[1000.0f32, 1000.0]); // 2 channels, 1×1
    /// let y = tape.constant_image(&x, ImageShape::new(2, 1, 1)).log_softmax2d().value();
    /// assert!((y[0] + 2f32.ln()).abs() < 1e-4 && (y[1] + 2f32.ln()).abs() < 1e-4); // f32 ulp at 1000
    /// ```
    pub fn log_softmax2d(self) -> Var<'t, S> {
        self.softmax2d_op(true, "log_softmax2d")
    }
}

impl<S: Scalar> Backward<S> for Softmax2d<S> {
    fn backward(&self, ctx: &mut BackCtx<'_, S>, out: usize, g: &DMatrix<S>) {
        let n = g.nrows();
        let m = n * self.hw;
        let channels = self.channels;
        // per pixel: Σ_c g ⊙ y (softmax) or Σ_c g (log-softmax)
        let mut acc = ctx.pool.zeros(n, self.hw);
        {
            let y = ctx.values[out].as_slice();
            let g = g.as_slice();
            for c in 0..channels {
                let (gc, yc) = (&g[c * m..(c + 1) * m], &y[c * m..(c + 1) * m]);
                for ((a, &gv), &yv) in acc.iter_mut().zip(gc).zip(yc) {
                    *a += if self.log { gv } else { gv * yv };
                }
            }
        }
        let y = ctx.values[out].as_slice();
        let gx = ctx.grad_mut(self.x);
        let gx = gx.as_mut_slice();
        for c in 0..channels {
            let range = c * m..(c + 1) * m;
            let (gc, yc) = (&g.as_slice()[range.clone()], &y[range.clone()]);
            for (((dx, &gv), &yv), &a) in gx[range].iter_mut().zip(gc).zip(yc).zip(acc.iter()) {
                *dx += if self.log {
                    // dx = g − softmax · Σ_c g
                    gv - yv.exp() * a
                } else {
                    // dx = y ⊙ (g − Σ_c g ⊙ y)
                    yv * (gv - a)
                };
            }
        }
        ctx.pool.give(acc);
    }
}

#[cfg(test)]
mod tests {
    use crate::gradcheck::check_gradients;
    use crate::{ImageShape, Tape};
    use descent_testkit::panic_message;
    use descent_testkit::strategies::matrix_of;
    use nalgebra::DMatrix;
    use proptest::prelude::*;

    /// `N × (C·H·W)` logits in `lo..hi` with their image shape.
    fn images(lo: f64, hi: f64) -> impl Strategy<Value = (DMatrix<f64>, ImageShape)> {
        (1usize..4, 1usize..4, 1usize..3, 1usize..4).prop_flat_map(move |(n, c, h, w)| {
            let shape = ImageShape::new(c, h, w);
            (matrix_of(n, shape.len(), lo, hi), Just(shape))
        })
    }

    /// Softmax over channels written out naively with NCHW indices.
    fn naive(x: &DMatrix<f64>, s: ImageShape, log: bool) -> DMatrix<f64> {
        let hw = s.h * s.w;
        DMatrix::from_fn(x.nrows(), x.ncols(), |n, col| {
            let p = col % hw;
            let lse = (0..s.c).map(|c| x[(n, c * hw + p)].exp()).sum::<f64>().ln();
            let l = x[(n, col)] - lse;
            if log { l } else { l.exp() }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn gradcheck_softmax2d_and_log_softmax2d((x, shape) in images(-4.0, 4.0)) {
            let x = [x];
            check_gradients(&x, |_t, v| v[0].as_image(shape).softmax2d()).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| v[0].as_image(shape).log_softmax2d()).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn softmax2d_matches_the_naive_nchw_formula((x, shape) in images(-5.0, 5.0)) {
            let tape = Tape::<f64>::new();
            let v = tape.constant_image(&x, shape);
            let (p, lp) = (v.softmax2d(), v.log_softmax2d());
            prop_assert_eq!(p.image(), Some(shape));
            prop_assert!((p.value() - naive(&x, shape, false)).abs().max() < 1e-12);
            prop_assert!((lp.value() - naive(&x, shape, true)).abs().max() < 1e-12);
        }

        #[test]
        fn every_pixel_sums_to_one_even_for_huge_logits((x, shape) in images(-1e4, 1e4)) {
            let tape = Tape::<f64>::new();
            let p = tape.constant_image(&x, shape).softmax2d().value();
            let hw = shape.h * shape.w;
            for n in 0..x.nrows() {
                for px in 0..hw {
                    let total: f64 = (0..shape.c).map(|c| p[(n, c * hw + px)]).sum();
                    prop_assert!((total - 1.0).abs() < 1e-12, "sample {n} pixel {px}: {total}");
                }
            }
        }

        #[test]
        fn with_one_pixel_it_is_the_row_softmax(x in (1usize..5, 1usize..6).prop_flat_map(|(r, c)| matrix_of(r, c, -4.0, 4.0))) {
            let tape = Tape::<f64>::new();
            let shape = ImageShape::new(x.ncols(), 1, 1);
            let v = tape.constant_image(&x, shape);
            prop_assert!((v.softmax2d().value() - tape.constant(&x).softmax().value()).abs().max() < 1e-15);
            prop_assert!((v.log_softmax2d().value() - tape.constant(&x).log_softmax().value()).abs().max() < 1e-15);
        }
    }

    #[test]
    fn hand_computed_two_channel_pixels() {
        // 1 sample, 2 channels, 1×3: logits (0, 0), (ln 4, 0), (0, ln 9)
        let x = DMatrix::from_row_slice(1, 6, &[0.0, 4f64.ln(), 0.0, 0.0, 0.0, 9f64.ln()]);
        let tape = Tape::<f64>::new();
        let v = tape.constant_image(&x, ImageShape::new(2, 1, 3));
        let want = [0.5, 0.8, 0.1, 0.5, 0.2, 0.9];
        let p = v.softmax2d().value();
        let lp = v.log_softmax2d().value();
        for k in 0..6 {
            assert!((p[k] - want[k]).abs() < 1e-15, "{k}: {}", p[k]);
            assert!((lp[k] - want[k].ln()).abs() < 1e-15, "{k}: {}", lp[k]);
        }
    }

    #[test]
    fn f32_agrees_with_f64() {
        let x = DMatrix::from_fn(2, 12, |i, j| (i as f64 * 3.0 - j as f64) * 0.9);
        let shape = ImageShape::new(3, 2, 2);
        let want = Tape::<f64>::new()
            .constant_image(&x, shape)
            .log_softmax2d()
            .value();
        let got = Tape::<f32>::new()
            .constant_image(&x.map(|v| v as f32), shape)
            .log_softmax2d()
            .value();
        assert!((got.map(f64::from) - want).abs().max() < 1e-5);
    }

    #[test]
    fn input_without_image_shape_panics_naming_the_op() {
        let msg = panic_message(|| {
            let tape = Tape::<f64>::new();
            tape.constant(&DMatrix::zeros(2, 4)).softmax2d();
        });
        assert!(
            msg.contains("softmax2d") && msg.contains("image shape"),
            "{msg}"
        );
    }
}
