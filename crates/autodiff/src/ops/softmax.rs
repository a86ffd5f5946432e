//! Row-wise softmax, log-softmax and log-sum-exp, computed stably by
//! subtracting each row's maximum. For a softmax over columns, transpose
//! first (`x.t().softmax().t()`).

use super::{BackCtx, Backward, Op};
use crate::var::Var;
use descent_core::Scalar;
use nalgebra::DMatrix;
use std::marker::PhantomData;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SoftmaxKind {
    Softmax,
    LogSoftmax,
    LogSumExp,
}

#[derive(Debug)]
pub(crate) struct Softmax<S> {
    kind: SoftmaxKind,
    x: u32,
    _s: PhantomData<S>,
}

/// Per-row `max + ln Σ exp(x − max)` into `lse` (length = rows).
fn row_logsumexp<S: Scalar>(x: &DMatrix<S>, lse: &mut DMatrix<S>) {
    let (r, c) = x.shape();
    assert!(c > 0, "softmax: matrix {r}x{c} has no columns");
    for i in 0..r {
        let mut m = x[(i, 0)];
        for j in 1..c {
            if x[(i, j)] > m {
                m = x[(i, j)];
            }
        }
        // a row of -inf (or +inf) has no finite shift; keep PyTorch's NaN/inf results
        let shift = if m.is_finite() { m } else { S::zero() };
        let mut s = S::zero();
        for j in 0..c {
            s += (x[(i, j)] - shift).exp();
        }
        lse[i] = shift + s.ln();
    }
}

impl<'t, S: Scalar> Var<'t, S> {
    fn softmax_op(self, kind: SoftmaxKind) -> Var<'t, S> {
        Var::record(self.tape, |t| {
            let x = &t.values[self.idx as usize];
            let (r, c) = x.shape();
            let mut lse = t.pool.take(r, 1);
            row_logsumexp(x, &mut lse);
            let out = if kind == SoftmaxKind::LogSumExp {
                lse
            } else {
                let mut out = t.pool.take(r, c);
                for j in 0..c {
                    for i in 0..r {
                        let l = x[(i, j)] - lse[i];
                        out[(i, j)] = if kind == SoftmaxKind::Softmax {
                            l.exp()
                        } else {
                            l
                        };
                    }
                }
                t.pool.give(lse);
                out
            };
            let op = Op::Softmax(Softmax {
                kind,
                x: self.idx,
                _s: PhantomData,
            });
            (out, op, t.needs(self.idx), None)
        })
    }

    /// Softmax of each row: `exp(x) / Σ_row exp(x)` (PyTorch `softmax(x, dim=1)`).
    pub fn softmax(self) -> Var<'t, S> {
        self.softmax_op(SoftmaxKind::Softmax)
    }

    /// Log-softmax of each row: `x − logsumexp_row(x)`.
    pub fn log_softmax(self) -> Var<'t, S> {
        self.softmax_op(SoftmaxKind::LogSoftmax)
    }

    /// `ln Σ exp(x)` of each row, as an `r × 1` column.
    pub fn logsumexp(self) -> Var<'t, S> {
        self.softmax_op(SoftmaxKind::LogSumExp)
    }
}

impl<S: Scalar> Backward<S> for Softmax<S> {
    fn backward(&self, ctx: &mut BackCtx<'_, S>, out: usize, g: &DMatrix<S>) {
        let (x, y) = (ctx.value(self.x), &ctx.values[out]);
        let (r, c) = x.shape();
        let gx = ctx.grad_mut(self.x);
        for i in 0..r {
            match self.kind {
                // dx = y ⊙ (g − Σ g ⊙ y)
                SoftmaxKind::Softmax => {
                    let mut dot = S::zero();
                    for j in 0..c {
                        dot += g[(i, j)] * y[(i, j)];
                    }
                    for j in 0..c {
                        gx[(i, j)] += y[(i, j)] * (g[(i, j)] - dot);
                    }
                }
                // dx = g − softmax · Σ g
                SoftmaxKind::LogSoftmax => {
                    let mut sum = S::zero();
                    for j in 0..c {
                        sum += g[(i, j)];
                    }
                    for j in 0..c {
                        gx[(i, j)] += g[(i, j)] - y[(i, j)].exp() * sum;
                    }
                }
                // dx = g_i · softmax
                SoftmaxKind::LogSumExp => {
                    for j in 0..c {
                        gx[(i, j)] += g[i] * (x[(i, j)] - y[i]).exp();
                    }
                }
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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn gradcheck_softmax_family(x in (1usize..5, 1usize..6).prop_flat_map(|(r, c)| matrix_of(r, c, -4.0, 4.0))) {
            let x = [x];
            check_gradients(&x, |_t, v| v[0].softmax()).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| v[0].log_softmax()).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| v[0].logsumexp()).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| v[0].t().softmax().t()).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn softmax_rows_sum_to_one_even_for_huge_logits(x in (1usize..5, 1usize..6).prop_flat_map(|(r, c)| matrix_of(r, c, -1e4, 1e4))) {
            let tape = crate::Tape::<f64>::new();
            let y = tape.constant(&x).softmax().value();
            for i in 0..y.nrows() {
                prop_assert!((y.row(i).sum() - 1.0).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn log_softmax_of_equal_logits_is_minus_log_c() {
        let tape = crate::Tape::<f64>::new();
        let y = tape
            .constant(&DMatrix::from_element(2, 4, 1000.0))
            .log_softmax()
            .value();
        assert!(y.iter().all(|v| (v + 4f64.ln()).abs() < 1e-12));
    }
}
