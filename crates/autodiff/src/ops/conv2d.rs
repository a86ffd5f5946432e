//! 2-D convolution of a batch of images, as PyTorch's `nn.Conv2d` with
//! `groups = 1` and zero padding: im2col over the whole batch, then one GEMM.

mod im2col;

use super::reduce::sum_slice;
use super::{BackCtx, Backward, Op};
use crate::gemm::{Mat, gemm, gemm_mat};
use crate::par;
use crate::pool::Pool;
use crate::var::Var;
use descent_core::ImageShape;
use descent_core::Scalar;
use im2col::{Geom, col2im_add, im2col};
use nalgebra::{DMatrix, Dyn};

/// Hyperparameters of [`Var::conv2d`], named and defaulted as in PyTorch's
/// `nn.Conv2d`. Only `groups = 1` and zero padding are supported.
///
/// # Examples
///
/// ```
/// use descent_autodiff::Conv2dGeometry;
///
/// let cfg = Conv2dGeometry::new(3, 3).stride(2, 2).padding(1, 1);
/// assert_eq!(cfg.kernel_size, (3, 3));
/// assert_eq!(cfg.dilation, (1, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv2dGeometry {
    /// Kernel height and width `(kH, kW)`.
    pub kernel_size: (usize, usize),
    /// Step between neighbouring windows, `(sH, sW)`; PyTorch's default `(1, 1)`.
    pub stride: (usize, usize),
    /// Zeros added on each side of the input, `(pH, pW)`; default `(0, 0)`.
    pub padding: (usize, usize),
    /// Spacing between kernel taps, `(dH, dW)`; default `(1, 1)`.
    pub dilation: (usize, usize),
}

impl Conv2dGeometry {
    /// A `kh × kw` kernel with PyTorch's defaults: stride 1, no padding, no dilation.
    pub fn new(kh: usize, kw: usize) -> Self {
        Conv2dGeometry {
            kernel_size: (kh, kw),
            stride: (1, 1),
            padding: (0, 0),
            dilation: (1, 1),
        }
    }

    /// Sets the stride `(sH, sW)`.
    pub fn stride(mut self, sh: usize, sw: usize) -> Self {
        self.stride = (sh, sw);
        self
    }

    /// Sets the zero padding `(pH, pW)` added on each side.
    pub fn padding(mut self, ph: usize, pw: usize) -> Self {
        self.padding = (ph, pw);
        self
    }

    /// Sets the dilation `(dH, dW)`.
    pub fn dilation(mut self, dh: usize, dw: usize) -> Self {
        self.dilation = (dh, dw);
        self
    }

    /// The geometry of this convolution over `n` images of shape `input`,
    /// or a panic naming the sizes that do not fit.
    fn geom(&self, n: usize, input: ImageShape) -> Geom {
        let all = [self.kernel_size, self.stride, self.dilation];
        assert!(
            all.iter().all(|&(a, b)| a > 0 && b > 0),
            "conv2d: kernel_size, stride and dilation must be positive, got {self:?}"
        );
        let ((kh, kw), (sh, sw), (ph, pw), (dh, dw)) =
            (self.kernel_size, self.stride, self.padding, self.dilation);
        let span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1);
        let (padded_h, padded_w) = (input.h + 2 * ph, input.w + 2 * pw);
        assert!(
            padded_h >= span.0 && padded_w >= span.1,
            "conv2d: input {}x{} padded to {padded_h}x{padded_w} is smaller than the \
             dilated kernel {}x{} (kernel_size {:?}, dilation {:?})",
            input.h,
            input.w,
            span.0,
            span.1,
            self.kernel_size,
            self.dilation
        );
        let out = ((padded_h - span.0) / sh + 1, (padded_w - span.1) / sw + 1);
        Geom {
            n,
            input,
            kernel: self.kernel_size,
            stride: self.stride,
            padding: self.padding,
            dilation: self.dilation,
            out,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Conv2d<S: Scalar> {
    x: u32,
    weight: u32,
    bias: Option<u32>,
    geom: Geom,
    /// im2col of the input, `(N·OH·OW) × (C_in·kH·kW)`; kept only when the
    /// weight needs a gradient.
    col: Option<DMatrix<S>>,
}

impl<'t, S: Scalar> Var<'t, S> {
    /// 2-D convolution (PyTorch `nn.Conv2d` with `groups = 1`, zero padding).
    ///
    /// `self` is an `N × (C_in·H·W)` image batch; `weight` is a
    /// `C_out × (C_in·kH·kW)` matrix (PyTorch's OIHW weight flattened per
    /// output channel); `bias` is an optional `1 × C_out` row vector. The
    /// result is an `N × (C_out·OH·OW)` image batch with
    /// `OH = ⌊(H + 2pH − dH(kH − 1) − 1) / sH⌋ + 1` (and likewise `OW`).
    ///
    /// Panics, naming the shapes, if `self` has no image shape, if the weight
    /// does not have `C_in·kH·kW` columns, if the bias is not `1 × C_out`, or
    /// if the padded input is smaller than the dilated kernel.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_autodiff::{Conv2dGeometry, ImageShape, Tape};
    /// use nalgebra::DMatrix;
    ///
    /// let tape = Tape::<f64>::new();
    /// // one 1×3×3 image holding 1..9, a 2×2 kernel of ones, no bias
    /// let x = tape.constant_image(&DMatrix::from_fn(1, 9, |_, j| (j + 1) as f64), ImageShape::new(1, 3, 3));
    /// let w = tape.constant(&DMatrix::from_element(1, 4, 1.0));
    /// let y = x.conv2d(w, None, &Conv2dGeometry::new(2, 2));
    /// assert_eq!(y.image(), Some(ImageShape::new(1, 2, 2)));
    /// assert_eq!(y.value().as_slice(), &[12.0, 16.0, 24.0, 28.0]);
    /// ```
    pub fn conv2d(
        self,
        weight: Var<'t, S>,
        bias: Option<Var<'t, S>>,
        cfg: &Conv2dGeometry,
    ) -> Var<'t, S> {
        self.same_tape(weight, "conv2d");
        if let Some(b) = bias {
            self.same_tape(b, "conv2d");
        }
        Var::record(self.tape, |t| {
            let input = t.image(self.idx).unwrap_or_else(|| {
                panic!(
                    "conv2d: input {:?} has no image shape; record it with leaf_image, \
                     constant_image or as_image",
                    t.value(self.idx).shape()
                )
            });
            let (x, w) = (&t.values[self.idx as usize], &t.values[weight.idx as usize]);
            let geom = cfg.geom(x.nrows(), input);
            let (p, k, c_out) = (geom.positions(), geom.taps(), w.nrows());
            assert!(
                w.ncols() == k,
                "conv2d: weight is {}x{}, expected C_out x {k} (C_in {} · kernel {}x{}) \
                 for input {}x{}x{}x{}",
                w.nrows(),
                w.ncols(),
                input.c,
                geom.kernel.0,
                geom.kernel.1,
                x.nrows(),
                input.c,
                input.h,
                input.w
            );
            let mut col = t.pool.take(p, k);
            im2col(&geom, x.as_slice(), col.as_mut_slice());
            // (N·OH·OW) × C_out has the buffer of the N × (C_out·OH·OW) output.
            let mut y = t.pool.take(p, c_out);
            gemm(&mut y, S::one(), &col, false, w, true, S::zero());
            if let Some(b) = bias {
                let b = &t.values[b.idx as usize];
                assert!(
                    b.shape() == (1, c_out),
                    "conv2d: bias is {}x{}, expected 1x{c_out} for weight {}x{}",
                    b.nrows(),
                    b.ncols(),
                    w.nrows(),
                    w.ncols()
                );
                let b = b.as_slice();
                par::blocks_mut(y.as_mut_slice(), p, |c0, block| {
                    for (column, &bc) in block.chunks_exact_mut(p.max(1)).zip(&b[c0..]) {
                        column.iter_mut().for_each(|v| *v += bc);
                    }
                });
            }
            let needs_w = t.needs(weight.idx);
            let needs = needs_w || t.needs(self.idx) || bias.is_some_and(|b| t.needs(b.idx));
            let col = if needs_w {
                Some(col)
            } else {
                t.pool.give(col);
                None
            };
            let (oh, ow) = geom.out;
            let y = y.reshape_generic(Dyn(geom.n), Dyn(c_out * oh * ow));
            let op = Conv2d {
                x: self.idx,
                weight: weight.idx,
                bias: bias.map(|b| b.idx),
                geom,
                col,
            };
            (
                y,
                Op::Conv2d(op),
                needs,
                Some(ImageShape::new(c_out, oh, ow)),
            )
        })
    }
}

impl<S: Scalar> Backward<S> for Conv2d<S> {
    fn backward(&self, ctx: &mut BackCtx<'_, S>, _out: usize, g: &DMatrix<S>) {
        let (p, k) = (self.geom.positions(), self.geom.taps());
        let c_out = ctx.value(self.weight).nrows();
        let (one, zero) = (S::one(), S::zero());
        // The output's buffer is also that of an (N·OH·OW) × C_out matrix,
        // one column per output channel.
        if let Some(b) = self.bias.filter(|&b| ctx.needs(b)) {
            let gb = ctx.grad_mut(b);
            for (gbc, column) in gb.iter_mut().zip(g.as_slice().chunks_exact(p.max(1))) {
                *gbc += sum_slice(column);
            }
        }
        if !ctx.needs(self.weight) && !ctx.needs(self.x) {
            return;
        }
        let gy = Mat::new(g.as_slice(), p, c_out);
        if ctx.needs(self.weight) {
            let col = self
                .col
                .as_ref()
                .expect("conv2d: col is saved when the weight needs a gradient");
            let (gw, beta) = ctx.grad_for_gemm(self.weight);
            let shape = gw.shape();
            gemm_mat(
                gw.as_mut_slice(),
                shape,
                one,
                gy,
                true,
                col.into(),
                false,
                beta,
            );
        }
        if ctx.needs(self.x) {
            let mut dcol = ctx.pool.take(p, k);
            let w = ctx.value(self.weight).into();
            gemm_mat(dcol.as_mut_slice(), (p, k), one, gy, false, w, false, zero);
            col2im_add(
                &self.geom,
                dcol.as_slice(),
                ctx.grad_mut(self.x).as_mut_slice(),
            );
            ctx.pool.give(dcol);
        }
    }

    fn recycle(self, pool: &mut Pool<S>) {
        if let Some(col) = self.col {
            pool.give(col);
        }
    }
}

#[cfg(test)]
mod tests;
