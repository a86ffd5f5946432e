//! Where the pooling windows fall: PyTorch's output size (with its
//! `ceil_mode` rule) and each window's taps along one axis.

use descent_core::ImageShape;
use std::ops::Range;

/// The windows along one axis (height or width).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Axis {
    len: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
    /// Number of windows.
    pub(super) out: usize,
}

impl Axis {
    /// PyTorch's `pooling_output_shape`: `⌊(len + 2p − d(k − 1) − 1 (+ s − 1 with
    /// ceil_mode)) / s⌋ + 1`, less one when `ceil_mode` would start the last
    /// window in the right padding. May be zero or negative for a too-small input.
    fn out_size(len: usize, k: usize, s: usize, p: usize, d: usize, ceil_mode: bool) -> isize {
        let (len, k, s, p, d) = (len as isize, k as isize, s as isize, p as isize, d as isize);
        let extra = if ceil_mode { s - 1 } else { 0 };
        let mut out = (len + 2 * p - d * (k - 1) - 1 + extra).div_euclid(s) + 1;
        if ceil_mode && (out - 1) * s >= len + p {
            out -= 1;
        }
        out
    }

    /// First input position of window `o` (negative inside the left padding).
    fn start(&self, o: usize) -> isize {
        (o * self.stride) as isize - self.padding as isize
    }

    /// The input positions window `o` taps (every `dilation`-th of `kernel`),
    /// padding excluded; in increasing order.
    pub(super) fn taps(&self, o: usize) -> impl Iterator<Item = usize> + use<> {
        let (start, len, d) = (self.start(o), self.len as isize, self.dilation as isize);
        (0..self.kernel as isize)
            .map(move |t| start + t * d)
            .filter(move |&i| (0..len).contains(&i))
            .map(|i| i as usize)
    }

    /// For average pooling (no dilation): the input positions window `o`
    /// covers, and its length counting padding but not past the right
    /// padding, as PyTorch's `pool_size`.
    pub(super) fn span(&self, o: usize) -> (Range<usize>, usize) {
        let start = self.start(o);
        let end = (start + self.kernel as isize).min((self.len + self.padding) as isize);
        let padded = (end - start) as usize;
        let lo = start.max(0) as usize;
        (lo..(end.max(0) as usize).clamp(lo, self.len), padded)
    }
}

/// Every window of one pooling op over a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Windows {
    /// Batch size.
    pub(super) n: usize,
    pub(super) input: ImageShape,
    pub(super) rows: Axis,
    pub(super) cols: Axis,
}

/// A pooling op's window parameters, `(height, width)` pairs.
#[derive(Clone, Copy, Debug)]
pub(super) struct Spec {
    pub(super) kernel: (usize, usize),
    pub(super) stride: (usize, usize),
    pub(super) padding: (usize, usize),
    pub(super) dilation: (usize, usize),
    pub(super) ceil_mode: bool,
}

impl Windows {
    /// The windows of `spec` over `n` images of shape `input`, or a panic
    /// naming `op` and the sizes, with PyTorch's checks.
    pub(super) fn new(op: &str, n: usize, input: ImageShape, spec: Spec) -> Windows {
        let Spec {
            kernel,
            stride,
            padding,
            dilation,
            ceil_mode,
        } = spec;
        assert!(
            [kernel, stride, dilation]
                .iter()
                .all(|&(a, b)| a > 0 && b > 0),
            "{op}: kernel_size, stride and dilation must be positive, got \
             kernel_size {kernel:?}, stride {stride:?}, dilation {dilation:?}"
        );
        assert!(
            padding.0 <= kernel.0 / 2 && padding.1 <= kernel.1 / 2,
            "{op}: padding {padding:?} must be at most half of kernel_size {kernel:?}"
        );
        let oh = Axis::out_size(
            input.h, kernel.0, stride.0, padding.0, dilation.0, ceil_mode,
        );
        let ow = Axis::out_size(
            input.w, kernel.1, stride.1, padding.1, dilation.1, ceil_mode,
        );
        assert!(
            oh >= 1 && ow >= 1,
            "{op}: input {}x{} gives an empty output {oh}x{ow} (kernel_size {kernel:?}, \
             stride {stride:?}, padding {padding:?}, dilation {dilation:?})",
            input.h,
            input.w
        );
        let axis = |len, i: usize, out| {
            let pick = |p: (usize, usize)| if i == 0 { p.0 } else { p.1 };
            Axis {
                len,
                kernel: pick(kernel),
                stride: pick(stride),
                padding: pick(padding),
                dilation: pick(dilation),
                out: out as usize,
            }
        };
        Windows {
            n,
            input,
            rows: axis(input.h, 0, oh),
            cols: axis(input.w, 1, ow),
        }
    }

    /// The output image shape.
    pub(super) fn output(&self) -> ImageShape {
        ImageShape::new(self.input.c, self.rows.out, self.cols.out)
    }

    /// Calls `f(out_col, c, oy, ox)` for every window, `out_col` its output column.
    pub(super) fn for_each(&self, f: impl FnMut(usize, usize, usize, usize)) {
        self.for_each_in(0..self.input.c, f);
    }

    /// [`for_each`](Self::for_each) over the windows of `channels` only.
    pub(super) fn for_each_in(
        &self,
        channels: Range<usize>,
        mut f: impl FnMut(usize, usize, usize, usize),
    ) {
        let (oh, ow) = (self.rows.out, self.cols.out);
        for c in channels {
            for oy in 0..oh {
                for ox in 0..ow {
                    f((c * oh + oy) * ow + ox, c, oy, ox);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Axis;

    #[test]
    fn output_size_follows_pytorch_including_ceil_mode() {
        // floor vs ceil: 5 wide, kernel 2, stride 2.
        assert_eq!(Axis::out_size(5, 2, 2, 0, 1, false), 2);
        assert_eq!(Axis::out_size(5, 2, 2, 0, 1, true), 3);
        // ceil_mode would start the last window in the right padding: dropped.
        assert_eq!(Axis::out_size(5, 3, 3, 1, 1, true), 2);
        // dilation widens the window: 7 wide, kernel 3, dilation 2, padding 1.
        assert_eq!(Axis::out_size(7, 3, 1, 1, 2, false), 5);
        // too small an input.
        assert!(Axis::out_size(2, 3, 1, 0, 2, false) < 1);
    }
}
