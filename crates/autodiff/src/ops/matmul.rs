//! Matrix products and transposition. Every product is one GEMM call on
//! (possibly transposed) strided views: no operand is ever copied to be
//! transposed, and nalgebra's slow `tr_mul` is never used.

use super::{BackCtx, Backward, Op};
use crate::var::Var;
use descent_core::Scalar;
use nalgebra::DMatrix;
use std::any::TypeId;

#[derive(Debug)]
pub(crate) struct MatMul {
    a: u32,
    b: u32,
    /// The product uses `aᵀ`.
    ta: bool,
    /// The product uses `bᵀ`.
    tb: bool,
}

#[derive(Debug)]
pub(crate) struct Transpose {
    x: u32,
}

/// Shape of `op(m)`.
fn dims<S: Scalar>(m: &DMatrix<S>, transpose: bool) -> (usize, usize) {
    if transpose {
        (m.ncols(), m.nrows())
    } else {
        m.shape()
    }
}

/// Row and column strides of `op(m)` in `m`'s column-major buffer.
fn strides<S: Scalar>(m: &DMatrix<S>, transpose: bool) -> (isize, isize) {
    let ld = m.nrows().max(1) as isize;
    if transpose { (ld, 1) } else { (1, ld) }
}

/// `c ← alpha · op(a) · op(b) + beta · c`, one matrixmultiply GEMM on
/// strided views (so a transpose is never copied). With `beta = 0`, `c` is
/// not read, so it may hold anything.
///
/// matrixmultiply is called directly rather than through nalgebra's `gemm`,
/// whose small-matrix fallback mishandles transposed strided views.
pub(crate) fn gemm<S: Scalar>(
    c: &mut DMatrix<S>,
    alpha: S,
    a: &DMatrix<S>,
    ta: bool,
    b: &DMatrix<S>,
    tb: bool,
    beta: S,
) {
    let (m, k) = dims(a, ta);
    let (k2, n) = dims(b, tb);
    assert!(
        k == k2 && c.shape() == (m, n),
        "matmul: cannot multiply {m}x{k} by {k2}x{n} into {}x{}",
        c.nrows(),
        c.ncols()
    );
    if m == 0 || n == 0 {
        return;
    }
    let ((rsa, csa), (rsb, csb)) = (strides(a, ta), strides(b, tb));
    let (rsc, csc) = (1, m as isize);
    let (ap, bp, cp) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
    // SAFETY: `S` is exactly f32 (resp. f64) in each branch, so the pointer
    // casts are identities; the strides above describe `op(a)` (m×k),
    // `op(b)` (k×n) and `c` (m×n) inside their own column-major buffers,
    // whose sizes the assertion checked; `c` does not alias `a` or `b`
    // because it is borrowed mutably.
    unsafe {
        if TypeId::of::<S>() == TypeId::of::<f32>() {
            let (alpha, beta) = (alpha.as_f64() as f32, beta.as_f64() as f32);
            matrixmultiply::sgemm(
                m,
                k,
                n,
                alpha,
                ap.cast(),
                rsa,
                csa,
                bp.cast(),
                rsb,
                csb,
                beta,
                cp.cast(),
                rsc,
                csc,
            );
        } else if TypeId::of::<S>() == TypeId::of::<f64>() {
            let (alpha, beta) = (alpha.as_f64(), beta.as_f64());
            matrixmultiply::dgemm(
                m,
                k,
                n,
                alpha,
                ap.cast(),
                rsa,
                csa,
                bp.cast(),
                rsb,
                csb,
                beta,
                cp.cast(),
                rsc,
                csc,
            );
        } else {
            unreachable!("Scalar is implemented for f32 and f64 only");
        }
    }
}

impl<'t, S: Scalar> Var<'t, S> {
    fn matmul_op(self, other: Var<'t, S>, ta: bool, tb: bool) -> Var<'t, S> {
        self.same_tape(other, "matmul");
        Var::record(self.tape, |t| {
            let (a, b) = (&t.values[self.idx as usize], &t.values[other.idx as usize]);
            let ((m, k), (k2, n)) = (dims(a, ta), dims(b, tb));
            assert!(k == k2, "matmul: shape mismatch, {m}x{k} times {k2}x{n}");
            let mut out = t.pool.take(m, n);
            gemm(&mut out, S::one(), a, ta, b, tb, S::zero());
            let needs = t.needs(self.idx) || t.needs(other.idx);
            (
                out,
                Op::MatMul(MatMul {
                    a: self.idx,
                    b: other.idx,
                    ta,
                    tb,
                }),
                needs,
                None,
            )
        })
    }

    /// The matrix product `self · other`.
    pub fn matmul(self, other: Var<'t, S>) -> Var<'t, S> {
        self.matmul_op(other, false, false)
    }

    /// `self · otherᵀ` without materializing the transpose: a linear layer's
    /// `x · Wᵀ` with PyTorch's `[out, in]` weight.
    pub fn matmul_t(self, other: Var<'t, S>) -> Var<'t, S> {
        self.matmul_op(other, false, true)
    }

    /// `selfᵀ · other` without materializing the transpose.
    pub fn t_matmul(self, other: Var<'t, S>) -> Var<'t, S> {
        self.matmul_op(other, true, false)
    }

    /// The transpose.
    pub fn t(self) -> Var<'t, S> {
        Var::record(self.tape, |t| {
            let x = &t.values[self.idx as usize];
            let mut out = t.pool.take(x.ncols(), x.nrows());
            x.transpose_to(&mut out);
            (
                out,
                Op::Transpose(Transpose { x: self.idx }),
                t.needs(self.idx),
                None,
            )
        })
    }
}

impl<S: Scalar> Backward<S> for MatMul {
    fn backward(&self, ctx: &mut BackCtx<'_, S>, _out: usize, g: &DMatrix<S>) {
        let (a, b) = (ctx.value(self.a), ctx.value(self.b));
        let one = S::one();
        // C = op(A)·op(B). For ta = false: dA += G·op(B)ᵀ; for ta = true: dA += op(B)·Gᵀ.
        if ctx.needs(self.a) {
            let (ga, beta) = ctx.grad_for_gemm(self.a);
            if self.ta {
                gemm(ga, one, b, self.tb, g, true, beta);
            } else {
                gemm(ga, one, g, false, b, !self.tb, beta);
            }
        }
        // For tb = false: dB += op(A)ᵀ·G; for tb = true: dB += Gᵀ·op(A).
        if ctx.needs(self.b) {
            let (gb, beta) = ctx.grad_for_gemm(self.b);
            if self.tb {
                gemm(gb, one, g, true, a, self.ta, beta);
            } else {
                gemm(gb, one, a, !self.ta, g, false, beta);
            }
        }
    }
}

impl<S: Scalar> Backward<S> for Transpose {
    fn backward(&self, ctx: &mut BackCtx<'_, S>, _out: usize, g: &DMatrix<S>) {
        let gx = ctx.grad_mut(self.x);
        let (r, c) = gx.shape();
        for j in 0..c {
            for i in 0..r {
                gx[(i, j)] += g[(j, i)];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::gradcheck::check_gradients;
    use descent_testkit::strategies::matrix_of;
    use nalgebra::DMatrix;
    use proptest::prelude::*;

    /// Sizes straddle nalgebra's small-matrix threshold (5), so both its
    /// naive loop and the matrixmultiply path are checked.
    fn triple() -> impl Strategy<Value = (DMatrix<f64>, DMatrix<f64>)> {
        (1usize..9, 1usize..9, 1usize..9)
            .prop_flat_map(|(m, k, n)| (matrix_of(m, k, -2.0, 2.0), matrix_of(k, n, -2.0, 2.0)))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(40))]
        #[test]
        fn gradcheck_matmul_in_all_transposed_forms((a, b) in triple()) {
            let want = &a * &b;
            let ab = [a.clone(), b.clone()];
            check_gradients(&ab, |_t, v| v[0].matmul(v[1])).map_err(TestCaseError::fail)?;
            let abt = [a.clone(), b.transpose()];
            check_gradients(&abt, |_t, v| v[0].matmul_t(v[1])).map_err(TestCaseError::fail)?;
            let atb = [a.transpose(), b.clone()];
            check_gradients(&atb, |_t, v| v[0].t_matmul(v[1])).map_err(TestCaseError::fail)?;
            check_gradients(&ab, |_t, v| v[0].t().t().matmul(v[1]).t()).map_err(TestCaseError::fail)?;
            let tape = crate::Tape::new();
            let (x, y) = (tape.constant(&atb[0]), tape.constant(&atb[1]));
            let got = x.t_matmul(y).value();
            prop_assert!((got - want).amax() < 1e-12);
        }
    }
}
