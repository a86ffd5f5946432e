//! Matrix products and transposition: the forward pass as methods on
//! [`Var`], the backward rule beside it. Every product is one call to the
//! GEMM engine ([`crate::gemm`]) on (possibly transposed) views.

use super::{BackCtx, Backward, Op};
use crate::gemm::{dims, gemm};
use crate::var::Var;
use descent_core::Scalar;
use nalgebra::DMatrix;

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
