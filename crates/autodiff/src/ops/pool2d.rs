//! Max and average pooling of a batch of images, as PyTorch's `nn.MaxPool2d`
//! and `nn.AvgPool2d`. Each window is processed for the whole batch at once:
//! the `N` samples of a pixel are contiguous in the `N × (C·H·W)` layout.

mod window;

use super::{BackCtx, Backward, Op};
use crate::par;
use crate::pool::Pool;
use crate::var::Var;
use descent_core::ImageShape;
use descent_core::Scalar;
use nalgebra::DMatrix;
use std::marker::PhantomData;
use window::{Spec, Windows};

/// Hyperparameters of [`Var::max_pool2d`], named and defaulted as in
/// PyTorch's `nn.MaxPool2d` (`return_indices` is not offered).
///
/// # Examples
///
/// ```
/// use descent_autodiff::MaxPool2dConfig;
///
/// let cfg = MaxPool2dConfig::new(3, 3).stride(2, 2).padding(1, 1);
/// assert_eq!((cfg.dilation, cfg.ceil_mode), ((1, 1), false));
/// // the stride defaults to the kernel size
/// assert_eq!(MaxPool2dConfig::new(2, 3).stride, (2, 3));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MaxPool2dConfig {
    /// Window height and width `(kH, kW)`.
    pub kernel_size: (usize, usize),
    /// Step between windows `(sH, sW)`; PyTorch's default is the kernel size.
    pub stride: (usize, usize),
    /// Implicit `−∞` padding on each side, `(pH, pW)`, at most half the kernel; default `(0, 0)`.
    pub padding: (usize, usize),
    /// Spacing between window taps `(dH, dW)`; default `(1, 1)`.
    pub dilation: (usize, usize),
    /// Round the output size up instead of down; a window that would start
    /// in the right padding is still dropped. Default `false`.
    pub ceil_mode: bool,
}

impl MaxPool2dConfig {
    /// A `kh × kw` window with PyTorch's defaults: stride equal to the kernel,
    /// no padding, no dilation, floor rounding.
    pub fn new(kh: usize, kw: usize) -> Self {
        MaxPool2dConfig {
            kernel_size: (kh, kw),
            stride: (kh, kw),
            padding: (0, 0),
            dilation: (1, 1),
            ceil_mode: false,
        }
    }

    /// Sets the stride `(sH, sW)`.
    pub fn stride(mut self, sh: usize, sw: usize) -> Self {
        self.stride = (sh, sw);
        self
    }

    /// Sets the padding `(pH, pW)`.
    pub fn padding(mut self, ph: usize, pw: usize) -> Self {
        self.padding = (ph, pw);
        self
    }

    /// Sets the dilation `(dH, dW)`.
    pub fn dilation(mut self, dh: usize, dw: usize) -> Self {
        self.dilation = (dh, dw);
        self
    }

    /// Sets `ceil_mode`.
    pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.ceil_mode = ceil_mode;
        self
    }
}

/// Hyperparameters of [`Var::avg_pool2d`], named and defaulted as in
/// PyTorch's `nn.AvgPool2d`.
///
/// # Examples
///
/// ```
/// use descent_autodiff::AvgPool2dConfig;
///
/// let cfg = AvgPool2dConfig::new(3, 3).stride(2, 2).padding(1, 1).count_include_pad(false);
/// assert_eq!((cfg.ceil_mode, cfg.divisor_override), (false, None));
/// assert!(AvgPool2dConfig::new(2, 2).count_include_pad);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AvgPool2dConfig {
    /// Window height and width `(kH, kW)`.
    pub kernel_size: (usize, usize),
    /// Step between windows `(sH, sW)`; PyTorch's default is the kernel size.
    pub stride: (usize, usize),
    /// Implicit zero padding on each side, `(pH, pW)`, at most half the kernel; default `(0, 0)`.
    pub padding: (usize, usize),
    /// Round the output size up instead of down; a window that would start
    /// in the right padding is still dropped. Default `false`.
    pub ceil_mode: bool,
    /// Divide by the window size including padding (but never counting
    /// positions past the right padding, which `ceil_mode` windows can
    /// reach); otherwise by the number of input pixels. Default `true`.
    pub count_include_pad: bool,
    /// Divide every window by this instead; must be positive. Default `None`.
    pub divisor_override: Option<usize>,
}

impl AvgPool2dConfig {
    /// A `kh × kw` window with PyTorch's defaults: stride equal to the kernel,
    /// no padding, floor rounding, padding counted in the divisor.
    pub fn new(kh: usize, kw: usize) -> Self {
        AvgPool2dConfig {
            kernel_size: (kh, kw),
            stride: (kh, kw),
            padding: (0, 0),
            ceil_mode: false,
            count_include_pad: true,
            divisor_override: None,
        }
    }

    /// Sets the stride `(sH, sW)`.
    pub fn stride(mut self, sh: usize, sw: usize) -> Self {
        self.stride = (sh, sw);
        self
    }

    /// Sets the padding `(pH, pW)`.
    pub fn padding(mut self, ph: usize, pw: usize) -> Self {
        self.padding = (ph, pw);
        self
    }

    /// Sets `ceil_mode`.
    pub fn ceil_mode(mut self, ceil_mode: bool) -> Self {
        self.ceil_mode = ceil_mode;
        self
    }

    /// Sets `count_include_pad`.
    pub fn count_include_pad(mut self, count_include_pad: bool) -> Self {
        self.count_include_pad = count_include_pad;
        self
    }

    /// Divides every window by `divisor` (PyTorch's `divisor_override`).
    pub fn divisor_override(mut self, divisor: usize) -> Self {
        self.divisor_override = Some(divisor);
        self
    }
}

/// Marks an output element whose window holds no input pixel.
const NO_INPUT: u32 = u32::MAX;

#[derive(Debug)]
pub(crate) struct Pool2d<S: Scalar> {
    x: u32,
    windows: Windows,
    kind: Kind,
    _s: PhantomData<S>,
}

#[derive(Debug)]
enum Kind {
    /// Input column of each output element's maximum, in the output's
    /// buffer order (`NO_INPUT` for an empty window).
    Max {
        argmax: Vec<u32>,
    },
    Avg(AvgPool2dConfig),
}

impl<'t, S: Scalar> Var<'t, S> {
    /// 2-D max pooling (PyTorch `nn.MaxPool2d`) of an `N × (C·H·W)` image
    /// batch: each output is the maximum of its window, padding counting as
    /// `−∞`. The gradient flows to the first maximum of each window (a NaN
    /// counts as the maximum, as in PyTorch).
    ///
    /// Panics, naming the shapes, if `self` has no image shape, if the
    /// padding exceeds half the kernel, or if the output would be empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_autodiff::{ImageShape, MaxPool2dConfig, Tape};
    /// use nalgebra::DMatrix;
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.constant_image(&DMatrix::from_row_slice(1, 4, &[1.0, 5.0, 3.0, 2.0]), ImageShape::new(1, 2, 2));
    /// let y = x.max_pool2d(&MaxPool2dConfig::new(2, 2));
    /// assert_eq!(y.value()[(0, 0)], 5.0);
    /// ```
    pub fn max_pool2d(self, cfg: &MaxPool2dConfig) -> Var<'t, S> {
        let spec = Spec {
            kernel: cfg.kernel_size,
            stride: cfg.stride,
            padding: cfg.padding,
            dilation: cfg.dilation,
            ceil_mode: cfg.ceil_mode,
        };
        self.pool2d("max_pool2d", spec, None)
    }

    /// 2-D average pooling (PyTorch `nn.AvgPool2d`) of an `N × (C·H·W)`
    /// image batch, with PyTorch's divisor rules for `count_include_pad`,
    /// `ceil_mode` and `divisor_override`.
    ///
    /// Panics, naming the shapes, if `self` has no image shape, if the
    /// padding exceeds half the kernel, if the output would be empty, or if
    /// `divisor_override` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_autodiff::{AvgPool2dConfig, ImageShape, Tape};
    /// use nalgebra::DMatrix;
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.constant_image(&DMatrix::from_row_slice(1, 4, &[1.0, 5.0, 3.0, 2.0]), ImageShape::new(1, 2, 2));
    /// let y = x.avg_pool2d(&AvgPool2dConfig::new(2, 2));
    /// assert_eq!(y.value()[(0, 0)], 2.75);
    /// ```
    pub fn avg_pool2d(self, cfg: &AvgPool2dConfig) -> Var<'t, S> {
        assert!(
            cfg.divisor_override != Some(0),
            "avg_pool2d: divisor_override must be positive, got 0"
        );
        let spec = Spec {
            kernel: cfg.kernel_size,
            stride: cfg.stride,
            padding: cfg.padding,
            dilation: (1, 1),
            ceil_mode: cfg.ceil_mode,
        };
        self.pool2d("avg_pool2d", spec, Some(cfg))
    }

    /// Max pooling when `avg` is `None`, average pooling otherwise.
    fn pool2d(self, op: &str, spec: Spec, avg: Option<&AvgPool2dConfig>) -> Var<'t, S> {
        Var::record(self.tape, |t| {
            let input = t.image(self.idx).unwrap_or_else(|| {
                panic!(
                    "{op}: input {:?} has no image shape; record it with leaf_image, \
                     constant_image or as_image",
                    t.value(self.idx).shape()
                )
            });
            assert!(
                input.len() < NO_INPUT as usize,
                "{op}: image shape {input:?} has more than u32::MAX values"
            );
            let x = &t.values[self.idx as usize];
            let windows = Windows::new(op, x.nrows(), input, spec);
            let output = windows.output();
            let mut y = t.pool.take(x.nrows(), output.len());
            let kind = match avg {
                None => {
                    let mut argmax = t.pool.take_idx();
                    max_forward(&windows, x.as_slice(), y.as_mut_slice(), &mut argmax);
                    Kind::Max { argmax }
                }
                Some(cfg) => {
                    avg_forward(&windows, cfg, x.as_slice(), y.as_mut_slice());
                    Kind::Avg(*cfg)
                }
            };
            let op = Pool2d {
                x: self.idx,
                windows,
                kind,
                _s: PhantomData,
            };
            (y, Op::Pool2d(op), t.needs(self.idx), Some(output))
        })
    }
}

fn max_forward<S: Scalar>(win: &Windows, x: &[S], y: &mut [S], argmax: &mut Vec<u32>) {
    let (n, ImageShape { h, w, .. }) = (win.n, win.input);
    argmax.clear();
    argmax.resize(y.len(), NO_INPUT);
    if n == 0 {
        return;
    }
    // Channels are independent: one block of whole channels per thread.
    let per_channel = n * win.rows.out * win.cols.out;
    par::blocks2_mut((y, per_channel), (argmax, per_channel), |c0, y, argmax| {
        let channels = c0..c0 + y.len() / per_channel;
        let mut windows = y.chunks_exact_mut(n).zip(argmax.chunks_exact_mut(n));
        win.for_each_in(channels, |_, c, oy, ox| {
            let (best, arg) = windows.next().expect("one output column per window");
            let mut taps = win
                .rows
                .taps(oy)
                .flat_map(|iy| win.cols.taps(ox).map(move |ix| (c * h + iy) * w + ix));
            let Some(first) = taps.next() else {
                best.fill(S::cast(f64::NEG_INFINITY));
                return;
            };
            best.copy_from_slice(&x[first * n..(first + 1) * n]);
            arg.fill(first as u32);
            for ic in taps {
                max_into(best, arg, &x[ic * n..(ic + 1) * n], ic as u32);
            }
        });
    });
}

/// One tap of a max-pooling window over the batch: where `v > best` or `v`
/// is NaN (PyTorch's `val > maxval || isnan(val)`), `best ← v` and
/// `arg ← ic`.
///
/// Written as selects into fixed-size blocks that are then stored whole:
/// a plain `*b = if take { v } else { *b }` loop compiles to per-lane
/// conditional stores and does not vectorize.
#[inline]
fn max_into<S: Scalar>(best: &mut [S], arg: &mut [u32], xs: &[S], ic: u32) {
    const LANES: usize = 8;
    #[inline(always)]
    fn lane<S: Scalar>(b: S, a: u32, v: S, ic: u32) -> (S, u32) {
        // `|`, not `||`: no short circuit. `v != v` is the NaN test.
        #[allow(clippy::eq_op)]
        let take = (v > b) | (v != v);
        (if take { v } else { b }, if take { ic } else { a })
    }
    let mut bs = best.chunks_exact_mut(LANES);
    let mut as_ = arg.chunks_exact_mut(LANES);
    let mut vs = xs.chunks_exact(LANES);
    for ((b, a), v) in (&mut bs).zip(&mut as_).zip(&mut vs) {
        let (mut nb, mut na) = ([S::zero(); LANES], [0u32; LANES]);
        for i in 0..LANES {
            (nb[i], na[i]) = lane(b[i], a[i], v[i], ic);
        }
        b.copy_from_slice(&nb);
        a.copy_from_slice(&na);
    }
    let tail = bs.into_remainder().iter_mut().zip(as_.into_remainder());
    for ((b, a), &v) in tail.zip(vs.remainder()) {
        (*b, *a) = lane(*b, *a, v, ic);
    }
}

/// Calls `f(out_col, divisor, in_cols)` for every average-pooling window
/// holding at least one input pixel, `in_cols` the input column of each
/// pixel in the window and `divisor` what PyTorch divides its sum by.
fn avg_windows<S: Scalar>(
    win: &Windows,
    cfg: &AvgPool2dConfig,
    mut f: impl FnMut(usize, S, &mut dyn Iterator<Item = usize>),
) {
    let ImageShape { h, w, .. } = win.input;
    win.for_each(|oc, c, oy, ox| {
        let ((ys, ph), (xs, pw)) = (win.rows.span(oy), win.cols.span(ox));
        if ys.is_empty() || xs.is_empty() {
            return;
        }
        let divisor = match cfg.divisor_override {
            Some(d) => d,
            None if cfg.count_include_pad => ph * pw,
            None => ys.len() * xs.len(),
        };
        let mut in_cols = ys.flat_map(|iy| xs.clone().map(move |ix| (c * h + iy) * w + ix));
        f(oc, S::from_count(divisor), &mut in_cols);
    });
}

fn avg_forward<S: Scalar>(win: &Windows, cfg: &AvgPool2dConfig, x: &[S], y: &mut [S]) {
    let n = win.n;
    y.fill(S::zero()); // windows of padding only
    avg_windows(win, cfg, |oc, divisor: S, in_cols| {
        let out = &mut y[oc * n..(oc + 1) * n];
        for ic in in_cols {
            for (o, &v) in out.iter_mut().zip(&x[ic * n..(ic + 1) * n]) {
                *o += v;
            }
        }
        out.iter_mut().for_each(|o| *o /= divisor);
    });
}

impl<S: Scalar> Backward<S> for Pool2d<S> {
    fn backward(&self, ctx: &mut BackCtx<'_, S>, _out: usize, g: &DMatrix<S>) {
        let n = self.windows.n;
        let gx = ctx.grad_mut(self.x).as_mut_slice();
        let g = g.as_slice();
        match &self.kind {
            Kind::Max { argmax } => {
                // Sample j of an output column adds into sample j of its
                // window's maximum's input column, in the same channel: one
                // block of whole channels per thread.
                let ImageShape { h, w, .. } = self.windows.input;
                let out = self.windows.output();
                let (per_in, per_out) = (n * h * w, n * out.h * out.w);
                par::blocks_mut(gx, per_in, |c0, gx| {
                    let outputs = c0 * per_out..(c0 + gx.len() / per_in.max(1)) * per_out;
                    let (args, gs) = (&argmax[outputs.clone()], &g[outputs]);
                    let base = c0 * h * w;
                    for (args, gs) in args.chunks_exact(n.max(1)).zip(gs.chunks_exact(n.max(1))) {
                        for (j, (&a, &gv)) in args.iter().zip(gs).enumerate() {
                            if a != NO_INPUT {
                                gx[(a as usize - base) * n + j] += gv;
                            }
                        }
                    }
                });
            }
            Kind::Avg(cfg) => {
                avg_windows(&self.windows, cfg, |oc, divisor: S, in_cols| {
                    let gs = &g[oc * n..(oc + 1) * n];
                    for ic in in_cols {
                        for (a, &gv) in gx[ic * n..(ic + 1) * n].iter_mut().zip(gs) {
                            *a += gv / divisor;
                        }
                    }
                });
            }
        }
    }

    fn recycle(self, pool: &mut Pool<S>) {
        if let Kind::Max { argmax } = self.kind {
            pool.give_idx(argmax);
        }
    }
}

#[cfg(test)]
mod tests;
