//! Reductions: sum and mean of everything, of each row, of each column, and
//! the maximum of each row.
//!
//! Every long reduction in the crate accumulates in `f64` and rounds once:
//! `sum_f64`, `dot_f64` and `sum_sq_dev_f64` here, in eight interleaved
//! lanes, and row sums with Kahan compensation. They serve sum, mean, column
//! sums, the bias gradients of convolutions and broadcast adds, the loss
//! reductions, and batch norm's statistics and backward sums; in f64 this is
//! the plain eight-lane sum. A property test bounds the f32 error of every
//! reduction on inputs up to 2¹⁷ long (two roundings of Σ|x|).

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

/// Partial sums per accumulator lane: eight interleaved `f64` lanes let the
/// loop vectorize instead of waiting on one accumulator.
const LANES: usize = 8;

/// Adds the lanes pairwise.
fn combine(acc: [f64; LANES]) -> f64 {
    let [a0, a1, a2, a3, a4, a5, a6, a7] = acc;
    ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7))
}

/// The sum of `xs`, accumulated in `f64` in eight interleaved partial sums
/// (combined pairwise at the end). In `f32` the error is that of one
/// rounding of the result for any length a tape holds (f64 sums of 2^24
/// values stay within about 2^-29 relative of exact); in `f64` this is the
/// plain eight-lane sum.
pub(crate) fn sum_f64<S: Scalar>(xs: &[S]) -> f64 {
    let mut acc = [0.0f64; LANES];
    let chunks = xs.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += v.as_f64();
        }
    }
    for (a, &v) in acc.iter_mut().zip(tail) {
        *a += v.as_f64();
    }
    combine(acc)
}

/// `Σ a_i·b_i`, accumulated in `f64` as [`sum_f64`].
pub(crate) fn dot_f64<S: Scalar>(a: &[S], b: &[S]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0.0f64; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ta, tb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for ((s, &u), &v) in acc.iter_mut().zip(x).zip(y) {
            *s += u.as_f64() * v.as_f64();
        }
    }
    for ((s, &u), &v) in acc.iter_mut().zip(ta).zip(tb) {
        *s += u.as_f64() * v.as_f64();
    }
    combine(acc)
}

/// `Σ (x_i − mean)²`, accumulated in `f64` as [`sum_f64`] (the two-pass
/// variance's second pass).
pub(crate) fn sum_sq_dev_f64<S: Scalar>(xs: &[S], mean: f64) -> f64 {
    let mut acc = [0.0f64; LANES];
    let chunks = xs.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            let d = v.as_f64() - mean;
            *a += d * d;
        }
    }
    for (a, &v) in acc.iter_mut().zip(tail) {
        let d = v.as_f64() - mean;
        *a += d * d;
    }
    combine(acc)
}

/// [`sum_f64`] rounded once to `S`.
pub(crate) fn sum_slice<S: Scalar>(xs: &[S]) -> S {
    S::cast(sum_f64(xs))
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
                    let s = sum_f64(x.as_slice());
                    o[(0, 0)] = S::cast(if kind == ReduceKind::Mean {
                        s / x.len() as f64
                    } else {
                        s
                    });
                    o
                }
                ReduceKind::RowSums | ReduceKind::RowMeans => {
                    // Column by column (contiguous), with Kahan compensation
                    // so a long row sums as accurately as sum_f64.
                    let mut o = t.pool.zeros(r, 1);
                    let mut comp = t.pool.zeros(r, 1);
                    for j in 0..c {
                        for i in 0..r {
                            let y = x[(i, j)] - comp[i];
                            let s = o[i] + y;
                            comp[i] = (s - o[i]) - y;
                            o[i] = s;
                        }
                    }
                    t.pool.give(comp);
                    if kind == ReduceKind::RowMeans {
                        o /= S::from_count(c);
                    }
                    o
                }
                ReduceKind::ColSums | ReduceKind::ColMeans => {
                    let mut o = t.pool.take(1, c);
                    for j in 0..c {
                        let s = sum_f64(x.column(j).as_slice());
                        o[j] = S::cast(if kind == ReduceKind::ColMeans {
                            s / r as f64
                        } else {
                            s
                        });
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
    use crate::Tape;
    use crate::gradcheck::check_gradients;
    use descent_testkit::strategies::{distinct_matrix, matrix_of};
    use nalgebra::DMatrix;
    use proptest::prelude::*;

    /// `n` f32 values `offset + spread·u`, u uniform in [-1, 1) from `seed`.
    fn long_f32(n: usize, offset: f32, spread: f32, seed: u64) -> Vec<f32> {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let u = (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0;
                offset + spread * u
            })
            .collect()
    }

    /// The sum of `xs` with f64 accumulation (exact to ~1e-16 relative here).
    fn exact(xs: &[f32]) -> f64 {
        xs.iter().map(|&v| v as f64).sum()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// In f32, every reduction over up to 2^17 values is within two
        /// roundings of the exact sum of its inputs: |err| ≤ 2·ε₃₂·Σ|xᵢ|.
        #[test]
        fn f32_reductions_of_long_inputs_are_accurate(
            n in 1usize..(1 << 17), offset in -300.0f32..300.0, spread in 0.0f32..100.0, seed: u64,
        ) {
            let xs = long_f32(n, offset, spread, seed);
            let abs: f64 = xs.iter().map(|&v| (v as f64).abs()).sum();
            let bound = |want: f64| 2.0 * f32::EPSILON as f64 * abs.max(want.abs()) + f64::MIN_POSITIVE;
            let want = exact(&xs);
            let tape = Tape::<f32>::new();
            let col = DMatrix::from_column_slice(n, 1, &xs);
            let row = DMatrix::from_row_slice(1, n, &xs);
            let got = [
                ("sum", tape.constant(&col).sum().item() as f64, want),
                ("mean", tape.constant(&col).mean().item() as f64 * n as f64, want),
                ("col_sums", tape.constant(&col).col_sums().item() as f64, want),
                ("col_means", tape.constant(&col).col_means().item() as f64 * n as f64, want),
                ("row_sums", tape.constant(&row).row_sums().item() as f64, want),
                ("row_means", tape.constant(&row).row_means().item() as f64 * n as f64, want),
            ];
            for (name, got, want) in got {
                // a mean is checked through n·mean, which adds one rounding
                prop_assert!((got - want).abs() <= bound(want) * 1.5, "{}: {} vs {} (n = {})", name, got, want, n);
            }
        }
    }

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
