//! The geometry of a convolution and the im2col / col2im copies.
//!
//! The col buffer is `(N·OH·OW) × K` column-major, `K = C_in·kH·kW`: column
//! `k = (ci·kH + ky)·kW + kx` holds kernel tap `(ci, ky, kx)` for every
//! output position `p = (oy·OW + ox)·N + n`. Because the input is
//! `N × (C·H·W)` column-major, the `N` samples of one pixel are contiguous
//! in both buffers, so each copy is a run of whole `N`-blocks (a whole output
//! row of them when the stride is 1). And `col · Wᵀ`, an
//! `(N·OH·OW) × C_out` matrix, has exactly the buffer of the
//! `N × (C_out·OH·OW)` output, so the GEMM writes the output in place.

use crate::par;
use descent_core::ImageShape;
use descent_core::Scalar;
use std::ops::Range;

/// Every size of one convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Geom {
    /// Batch size.
    pub(crate) n: usize,
    pub(crate) input: ImageShape,
    pub(crate) kernel: (usize, usize),
    pub(crate) stride: (usize, usize),
    pub(crate) padding: (usize, usize),
    pub(crate) dilation: (usize, usize),
    /// Output height and width.
    pub(crate) out: (usize, usize),
}

impl Geom {
    /// Rows of the col buffer: `N·OH·OW`.
    pub(crate) fn positions(&self) -> usize {
        self.n * self.out.0 * self.out.1
    }

    /// Columns of the col buffer: `C_in·kH·kW`.
    pub(crate) fn taps(&self) -> usize {
        self.input.c * self.kernel.0 * self.kernel.1
    }

    /// Calls `f(col_offset, x_offset, len)` for each run of `len` elements
    /// that kernel tap `(ci, ky, kx)` reads from the input buffer at
    /// `x_offset` into its col column at `col_offset`, in increasing
    /// `col_offset`. Positions not visited read padding (zeros).
    fn for_each_run(
        &self,
        ci: usize,
        ky: usize,
        kx: usize,
        mut f: impl FnMut(usize, usize, usize),
    ) {
        let (n, ImageShape { h, w, .. }) = (self.n, self.input);
        let ((oh, ow), (sh, sw)) = (self.out, self.stride);
        let oy_off = (ky * self.dilation.0) as isize - self.padding.0 as isize;
        let ox_off = (kx * self.dilation.1) as isize - self.padding.1 as isize;
        let xs = valid(ow, w, sw, ox_off);
        if xs.is_empty() {
            return;
        }
        for oy in valid(oh, h, sh, oy_off) {
            let iy = ((oy * sh) as isize + oy_off) as usize;
            let (x_row, col_row) = ((ci * h + iy) * w, oy * ow);
            if sw == 1 {
                let ix = (xs.start as isize + ox_off) as usize;
                f((col_row + xs.start) * n, (x_row + ix) * n, xs.len() * n);
            } else {
                for ox in xs.clone() {
                    let ix = ((ox * sw) as isize + ox_off) as usize;
                    f((col_row + ox) * n, (x_row + ix) * n, n);
                }
            }
        }
    }

    /// Calls `f(k, ci, ky, kx)` for the kernel taps of col columns `taps`.
    fn for_each_tap_in(&self, taps: Range<usize>, mut f: impl FnMut(usize, usize, usize, usize)) {
        let (kh, kw) = self.kernel;
        for k in taps {
            f(k, k / (kh * kw), k / kw % kh, k % kw);
        }
    }

    /// Calls `f(k, ci, ky, kx)` for every kernel tap of input channels
    /// `channels`, `k` its col column.
    fn for_each_tap(&self, channels: Range<usize>, mut f: impl FnMut(usize, usize, usize, usize)) {
        let (kh, kw) = self.kernel;
        for ci in channels {
            for ky in 0..kh {
                for kx in 0..kw {
                    f((ci * kh + ky) * kw + kx, ci, ky, kx);
                }
            }
        }
    }
}

/// Output positions `o < out` whose tap `o·stride + offset` lies in `0..len`.
fn valid(out: usize, len: usize, stride: usize, offset: isize) -> Range<usize> {
    let lo = if offset >= 0 {
        0
    } else {
        offset.unsigned_abs().div_ceil(stride)
    };
    let last = len as isize - 1 - offset;
    let hi = if last < 0 {
        0
    } else {
        last as usize / stride + 1
    };
    let lo = lo.min(out);
    lo..hi.clamp(lo, out)
}

/// Fills the col buffer (`positions × taps`, column-major) from the input
/// buffer `x` (`N × (C·H·W)`, column-major); one block of whole tap columns
/// per thread (not whole channels: a one-channel input, as MNIST's, has
/// `kH·kW` columns to share and only one channel).
pub(crate) fn im2col<S: Scalar>(g: &Geom, x: &[S], col: &mut [S]) {
    let p = g.positions();
    debug_assert_eq!(col.len(), p * g.taps());
    par::blocks_mut(col, p, |k0, block| {
        let taps = k0..k0 + block.len() / p.max(1);
        g.for_each_tap_in(taps, |k, ci, ky, kx| {
            let dst = &mut block[(k - k0) * p..(k - k0 + 1) * p];
            // Runs come in increasing `d`; the gaps between them read padding.
            let mut filled = 0;
            g.for_each_run(ci, ky, kx, |d, s, len| {
                dst[filled..d].fill(S::zero());
                dst[d..d + len].copy_from_slice(&x[s..s + len]);
                filled = d + len;
            });
            dst[filled..].fill(S::zero());
        });
    });
}

/// Adds the col-shaped gradient `dcol` back onto the input gradient `dx`:
/// the adjoint of [`im2col`]. The taps of one input channel add only into
/// that channel, so each thread takes a block of whole channels.
pub(crate) fn col2im_add<S: Scalar>(g: &Geom, dcol: &[S], dx: &mut [S]) {
    let p = g.positions();
    debug_assert_eq!(dcol.len(), p * g.taps());
    let per_channel = g.n * g.input.h * g.input.w;
    par::blocks_mut(dx, per_channel, |c0, block| {
        let channels = c0..c0 + block.len() / per_channel.max(1);
        let base = c0 * per_channel;
        g.for_each_tap(channels, |k, ci, ky, kx| {
            let src = &dcol[k * p..(k + 1) * p];
            g.for_each_run(ci, ky, kx, |d, s, len| {
                let dst = &mut block[s - base..s - base + len];
                for (a, &b) in dst.iter_mut().zip(&src[d..d + len]) {
                    *a += b;
                }
            });
        });
    });
}

#[cfg(test)]
mod tests {
    use super::valid;

    #[test]
    fn valid_range_keeps_taps_inside_the_input() {
        // 5 outputs, stride 2, offset -1 on a length-6 axis: taps -1,1,3,5,7.
        assert_eq!(valid(5, 6, 2, -1), 1..4);
        // offset past the end: nothing.
        assert_eq!(valid(3, 2, 1, 4), 0..0);
        // everything inside.
        assert_eq!(valid(4, 4, 1, 0), 0..4);
        // large negative offset.
        assert_eq!(valid(2, 3, 1, -5), 2..2);
    }
}
