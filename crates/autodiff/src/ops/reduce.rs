//! Reductions: sum and mean of everything, of each row, of each column, and
//! the maximum of each row.

use super::{BackCtx, Backward, Op};
use crate::pool::Pool;
use crate::var::Var;
use descent_core::Scalar;
use nalgebra::DMatrix;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReduceKind {
    Sum,
    Mean,
    RowSums,
    RowMeans,
    ColSums,
    ColMeans,
    RowMax,
}

#[derive(Debug)]
pub(crate) struct Reduce {
    kind: ReduceKind,
    x: u32,
    /// Column of each row's maximum (`RowMax` only).
    argmax: Vec<u32>,
}

/// The sum of `xs` in eight interleaved partial sums (combined pairwise at
/// the end), so the loop vectorizes instead of waiting on one accumulator.
pub(crate) fn sum_slice<S: Scalar>(xs: &[S]) -> S {
    const LANES: usize = 8;
    let mut acc = [S::zero(); LANES];
    let chunks = xs.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    for (a, &v) in acc.iter_mut().zip(tail) {
        *a += v;
    }
    let [a0, a1, a2, a3, a4, a5, a6, a7] = acc;
    ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7))
}

impl<'t, S: Scalar> Var<'t, S> {
    fn reduce(self, kind: ReduceKind) -> Var<'t, S> {
        Var::record(self.tape, |t| {
            let x = &t.values[self.idx as usize];
            let (r, c) = x.shape();
            let mut argmax = Vec::new();
            let out = match kind {
                ReduceKind::Sum | ReduceKind::Mean => {
                    let mut o = t.pool.take(1, 1);
                    let s = sum_slice(x.as_slice());
                    o[(0, 0)] = if kind == ReduceKind::Mean {
                        s / S::from_count(x.len())
                    } else {
                        s
                    };
                    o
                }
                ReduceKind::RowSums | ReduceKind::RowMeans => {
                    let mut o = t.pool.zeros(r, 1);
                    for j in 0..c {
                        for i in 0..r {
                            o[i] += x[(i, j)];
                        }
                    }
                    if kind == ReduceKind::RowMeans {
                        o /= S::from_count(c);
                    }
                    o
                }
                ReduceKind::ColSums | ReduceKind::ColMeans => {
                    let mut o = t.pool.take(1, c);
                    for j in 0..c {
                        let s = sum_slice(x.column(j).as_slice());
                        o[j] = if kind == ReduceKind::ColMeans {
                            s / S::from_count(r)
                        } else {
                            s
                        };
                    }
                    o
                }
                ReduceKind::RowMax => {
                    assert!(c > 0, "row_max: matrix {r}x{c} has no columns");
                    let mut o = t.pool.take(r, 1);
                    argmax = t.pool.take_idx();
                    for i in 0..r {
                        let mut best = 0;
                        for j in 1..c {
                            // NaN propagates as in PyTorch: a NaN is the maximum.
                            if x[(i, j)] > x[(i, best)]
                                || (x[(i, j)].partial_cmp(&x[(i, j)]).is_none()
                                    && x[(i, best)].partial_cmp(&x[(i, best)]).is_some())
                            {
                                best = j;
                            }
                        }
                        o[i] = x[(i, best)];
                        argmax.push(best as u32);
                    }
                    o
                }
            };
            (
                out,
                Op::Reduce(Reduce {
                    kind,
                    x: self.idx,
                    argmax,
                }),
                t.needs(self.idx),
                None,
            )
        })
    }

    /// The sum of all elements, as a 1×1.
    pub fn sum(self) -> Var<'t, S> {
        self.reduce(ReduceKind::Sum)
    }

    /// The mean of all elements, as a 1×1.
    pub fn mean(self) -> Var<'t, S> {
        self.reduce(ReduceKind::Mean)
    }

    /// The sum of each row: `r × c` gives `r × 1` (PyTorch `sum(dim=1, keepdim=True)`).
    pub fn row_sums(self) -> Var<'t, S> {
        self.reduce(ReduceKind::RowSums)
    }

    /// The mean of each row: `r × c` gives `r × 1`.
    pub fn row_means(self) -> Var<'t, S> {
        self.reduce(ReduceKind::RowMeans)
    }

    /// The sum of each column: `r × c` gives `1 × c` (PyTorch `sum(dim=0, keepdim=True)`).
    pub fn col_sums(self) -> Var<'t, S> {
        self.reduce(ReduceKind::ColSums)
    }

    /// The mean of each column: `r × c` gives `1 × c`.
    pub fn col_means(self) -> Var<'t, S> {
        self.reduce(ReduceKind::ColMeans)
    }

    /// The maximum of each row, `r × 1`; the gradient flows to the first
    /// maximal element of each row.
    pub fn row_max(self) -> Var<'t, S> {
        self.reduce(ReduceKind::RowMax)
    }
}

impl<S: Scalar> Backward<S> for Reduce {
    fn backward(&self, ctx: &mut BackCtx<'_, S>, _out: usize, g: &DMatrix<S>) {
        let gx = ctx.grad_mut(self.x);
        let (r, c) = gx.shape();
        match self.kind {
            ReduceKind::Sum => gx.add_scalar_mut(g[(0, 0)]),
            ReduceKind::Mean => gx.add_scalar_mut(g[(0, 0)] / S::from_count(r * c)),
            ReduceKind::RowSums | ReduceKind::RowMeans => {
                let scale = if self.kind == ReduceKind::RowMeans {
                    S::one() / S::from_count(c)
                } else {
                    S::one()
                };
                for j in 0..c {
                    for i in 0..r {
                        gx[(i, j)] += g[i] * scale;
                    }
                }
            }
            ReduceKind::ColSums | ReduceKind::ColMeans => {
                let scale = if self.kind == ReduceKind::ColMeans {
                    S::one() / S::from_count(r)
                } else {
                    S::one()
                };
                for j in 0..c {
                    let gj = g[j] * scale;
                    gx.column_mut(j).add_scalar_mut(gj);
                }
            }
            ReduceKind::RowMax => {
                for (i, &j) in self.argmax.iter().enumerate() {
                    gx[(i, j as usize)] += g[i];
                }
            }
        }
    }

    fn recycle(self, pool: &mut Pool<S>) {
        pool.give_idx(self.argmax);
    }
}

#[cfg(test)]
mod tests {
    use crate::gradcheck::check_gradients;
    use descent_testkit::strategies::{distinct_matrix, matrix_of};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn gradcheck_sums_and_means(x in (1usize..6, 1usize..6).prop_flat_map(|(r, c)| matrix_of(r, c, -3.0, 3.0))) {
            let x = [x];
            check_gradients(&x, |_t, v| v[0].sum()).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| v[0].mean()).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| v[0].row_sums()).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| v[0].row_means()).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| v[0].col_sums()).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| v[0].col_means()).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn gradcheck_row_max(x in (1usize..6, 1usize..6).prop_flat_map(|(r, c)| distinct_matrix(r, c, 0.1))) {
            check_gradients(&[x], |_t, v| v[0].row_max()).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn reductions_have_pytorch_shapes() {
        let tape = crate::Tape::<f64>::new();
        let x = tape.constant(&nalgebra::DMatrix::from_row_slice(
            2,
            3,
            &[1., 5., 3., 4., 2., 6.],
        ));
        assert_eq!(x.row_sums().value().as_slice(), &[9., 12.]);
        assert_eq!(x.col_means().value().as_slice(), &[2.5, 3.5, 4.5]);
        assert_eq!(x.row_max().value().as_slice(), &[5., 6.]);
        assert_eq!(x.mean().item(), 3.5);
    }
}
