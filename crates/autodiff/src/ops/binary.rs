//! Elementwise `+ - * /` of two variables, broadcasting any dimension of
//! size 1 (a row vector over rows, a column vector over columns, a 1×1 over
//! everything).

use super::reduce::sum_slice;
use super::{BackCtx, Backward, Op};
use crate::var::Var;
use descent_core::Scalar;
use nalgebra::DMatrix;
use std::ops::{Add, Div, Mul, Sub};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinKind {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug)]
pub(crate) struct Binary {
    kind: BinKind,
    a: u32,
    b: u32,
}

/// The broadcast result of two shapes, or a panic naming the op.
fn broadcast(op: BinKind, a: (usize, usize), b: (usize, usize)) -> (usize, usize) {
    let dim = |x: usize, y: usize| match (x, y) {
        _ if x == y => Some(x),
        (1, y) => Some(y),
        (x, 1) => Some(x),
        _ => None,
    };
    match (dim(a.0, b.0), dim(a.1, b.1)) {
        (Some(r), Some(c)) => (r, c),
        _ => panic!(
            "{op:?}: cannot broadcast {}x{} with {}x{}",
            a.0, a.1, b.0, b.1
        ),
    }
}

/// Element `(i, j)` of `m` broadcast to a larger shape.
#[inline(always)]
fn at<S: Scalar>(m: &DMatrix<S>, i: usize, j: usize) -> S {
    let r = if m.nrows() == 1 { 0 } else { i };
    let c = if m.ncols() == 1 { 0 } else { j };
    m[(r, c)]
}

/// Column `j` of `m` broadcast to `j`'s column: the column itself, or its
/// only column; one element long when `m` has one row.
#[inline(always)]
fn column<S: Scalar>(m: &DMatrix<S>, j: usize) -> &[S] {
    let j = if m.ncols() == 1 { 0 } else { j };
    &m.as_slice()[j * m.nrows()..(j + 1) * m.nrows()]
}

/// `out ← f(a, b)` elementwise, `a` and `b` broadcast to `out`'s shape,
/// column by column over plain slices so each case vectorizes.
#[inline(always)]
fn combine<S: Scalar>(out: &mut DMatrix<S>, a: &DMatrix<S>, b: &DMatrix<S>, f: impl Fn(S, S) -> S) {
    if a.shape() == b.shape() {
        let out = out.as_mut_slice().iter_mut();
        for (o, (&x, &y)) in out.zip(a.as_slice().iter().zip(b.as_slice())) {
            *o = f(x, y);
        }
        return;
    }
    let rows = out.nrows();
    for (j, o) in out.as_mut_slice().chunks_exact_mut(rows.max(1)).enumerate() {
        match (column(a, j), column(b, j)) {
            (x, y) if x.len() == rows && y.len() == rows => {
                for (o, (&x, &y)) in o.iter_mut().zip(x.iter().zip(y)) {
                    *o = f(x, y);
                }
            }
            (x, &[y]) if x.len() == rows => {
                for (o, &x) in o.iter_mut().zip(x) {
                    *o = f(x, y);
                }
            }
            (&[x], y) => {
                for (o, &y) in o.iter_mut().zip(y) {
                    *o = f(x, y);
                }
            }
            _ => unreachable!("broadcast checked the shapes"),
        }
    }
}

/// `target ← target + sign · g` (or `sign · g` into a fresh slot), summing
/// over the dimensions in which `target` is broadcast: the backward of `+`
/// and `−`, over plain slices.
fn add_signed<S: Scalar>((target, fresh): (&mut DMatrix<S>, bool), g: &DMatrix<S>, sign: S) {
    let (rows, cols) = g.shape();
    let shape = target.shape();
    let t = target.as_mut_slice();
    match shape {
        (r, c) if (r, c) == (rows, cols) => {
            let pairs = t.iter_mut().zip(g.as_slice());
            if fresh {
                pairs.for_each(|(a, &v)| *a = sign * v);
            } else {
                pairs.for_each(|(a, &v)| *a += sign * v);
            }
        }
        (1, c) if c == cols => {
            // one sum per column
            for (a, col) in t.iter_mut().zip(g.as_slice().chunks_exact(rows.max(1))) {
                let s = sign * sum_slice(col);
                *a = if fresh { s } else { *a + s };
            }
        }
        (r, 1) if r == rows => {
            if fresh {
                t.fill(S::zero());
            }
            for col in g.as_slice().chunks_exact(rows.max(1)) {
                t.iter_mut().zip(col).for_each(|(a, &v)| *a += sign * v);
            }
        }
        _ => {
            let s = sign * sum_slice(g.as_slice());
            t[0] = if fresh { s } else { t[0] + s };
        }
    }
}

/// Adds `f(i, j)` over an `rows × cols` grid into `target`, summing over the
/// dimensions in which `target` is broadcast.
fn accumulate<S: Scalar>(
    target: &mut DMatrix<S>,
    rows: usize,
    cols: usize,
    f: impl Fn(usize, usize) -> S,
) {
    if target.shape() == (rows, cols) {
        for j in 0..cols {
            for i in 0..rows {
                target[(i, j)] += f(i, j);
            }
        }
    } else {
        let (tr, tc) = target.shape();
        for j in 0..cols {
            for i in 0..rows {
                target[(if tr == 1 { 0 } else { i }, if tc == 1 { 0 } else { j })] += f(i, j);
            }
        }
    }
}

impl<'t, S: Scalar> Var<'t, S> {
    fn binary(self, other: Var<'t, S>, kind: BinKind) -> Var<'t, S> {
        self.same_tape(other, "binary op");
        Var::record(self.tape, |t| {
            let (a, b) = (&t.values[self.idx as usize], &t.values[other.idx as usize]);
            let (rows, cols) = broadcast(kind, a.shape(), b.shape());
            let mut out = t.pool.take(rows, cols);
            // One arm per kind, so each loop has its operation inlined.
            match kind {
                BinKind::Add => combine(&mut out, a, b, |x, y| x + y),
                BinKind::Sub => combine(&mut out, a, b, |x, y| x - y),
                BinKind::Mul => combine(&mut out, a, b, |x, y| x * y),
                BinKind::Div => combine(&mut out, a, b, |x, y| x / y),
            }
            let needs = t.needs(self.idx) || t.needs(other.idx);
            let image = if (rows, cols) == a.shape() {
                t.image(self.idx)
            } else {
                t.image(other.idx)
            };
            (
                out,
                Op::Binary(Binary {
                    kind,
                    a: self.idx,
                    b: other.idx,
                }),
                needs,
                image,
            )
        })
    }
}

impl<S: Scalar> Backward<S> for Binary {
    fn backward(&self, ctx: &mut BackCtx<'_, S>, out: usize, g: &DMatrix<S>) {
        let (rows, cols) = g.shape();
        let (a, b, y) = (ctx.value(self.a), ctx.value(self.b), &ctx.values[out]);
        let one = S::one();
        if ctx.needs(self.a) {
            match self.kind {
                BinKind::Add | BinKind::Sub => add_signed(ctx.grad_slot(self.a), g, one),
                BinKind::Mul => accumulate(ctx.grad_mut(self.a), rows, cols, |i, j| {
                    g[(i, j)] * at(b, i, j)
                }),
                BinKind::Div => accumulate(ctx.grad_mut(self.a), rows, cols, |i, j| {
                    g[(i, j)] / at(b, i, j)
                }),
            }
        }
        if ctx.needs(self.b) {
            if let BinKind::Add | BinKind::Sub = self.kind {
                let sign = if self.kind == BinKind::Add { one } else { -one };
                add_signed(ctx.grad_slot(self.b), g, sign);
                return;
            }
            let gb = ctx.grad_mut(self.b);
            match self.kind {
                BinKind::Add | BinKind::Sub => unreachable!("handled above"),
                BinKind::Mul => accumulate(gb, rows, cols, |i, j| g[(i, j)] * at(a, i, j)),
                // d(a/b)/db = -a/b² = -y/b
                BinKind::Div => {
                    accumulate(gb, rows, cols, |i, j| -g[(i, j)] * y[(i, j)] / at(b, i, j))
                }
            }
        }
    }
}

macro_rules! var_binop {
    ($trait:ident, $method:ident, $kind:ident) => {
        impl<'t, S: Scalar> $trait<Var<'t, S>> for Var<'t, S> {
            type Output = Var<'t, S>;
            fn $method(self, rhs: Var<'t, S>) -> Var<'t, S> {
                self.binary(rhs, BinKind::$kind)
            }
        }
    };
}
var_binop!(Add, add, Add);
var_binop!(Sub, sub, Sub);
var_binop!(Mul, mul, Mul);
var_binop!(Div, div, Div);

#[cfg(test)]
mod tests {
    use crate::Tape;
    use crate::gradcheck::check_gradients;
    use descent_testkit::strategies::{matrix_avoiding, matrix_of};
    use nalgebra::DMatrix;
    use proptest::prelude::*;

    fn operands() -> impl Strategy<Value = (DMatrix<f64>, DMatrix<f64>)> {
        (1usize..5, 1usize..5, 0usize..7)
            .prop_map(|(r, c, mode)| match mode {
                0 => ((r, c), (r, c)),
                1 => ((r, c), (1, c)),
                2 => ((r, c), (r, 1)),
                3 => ((1, c), (r, c)),
                4 => ((r, c), (1, 1)),
                5 => ((1, 1), (r, c)),
                _ => ((r, 1), (1, c)),
            })
            .prop_flat_map(|(sa, sb)| {
                (
                    matrix_of(sa.0, sa.1, -2.0, 2.0),
                    matrix_avoiding(sb.0, sb.1, -2.0, 2.0, &[0.0], 0.3),
                )
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn gradcheck_add_sub_mul_div_with_broadcasting((a, b) in operands()) {
            let ab = [a, b];
            check_gradients(&ab, |_t, v| v[0] + v[1]).map_err(TestCaseError::fail)?;
            check_gradients(&ab, |_t, v| v[0] - v[1]).map_err(TestCaseError::fail)?;
            check_gradients(&ab, |_t, v| v[0] * v[1]).map_err(TestCaseError::fail)?;
            check_gradients(&ab, |_t, v| v[0] / v[1]).map_err(TestCaseError::fail)?;
            // the broadcast operand on the left as well
            let ba = [ab[1].clone(), ab[0].clone()];
            check_gradients(&ba, |_t, v| v[1] / v[0] - v[0] * v[1]).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn a_variable_used_twice_gets_both_gradients() {
        let x = nalgebra::DMatrix::from_row_slice(1, 3, &[1.0, -2.0, 3.0]);
        check_gradients(&[x], |_t, v| v[0] * v[0] / (v[0] + 10.0)).unwrap();
    }

    #[test]
    fn broadcast_bias_add_matches_by_hand() {
        let tape = Tape::<f64>::new();
        let x = tape.constant(&nalgebra::DMatrix::from_row_slice(
            2,
            3,
            &[1., 2., 3., 4., 5., 6.],
        ));
        let b = tape.constant(&nalgebra::DMatrix::from_row_slice(1, 3, &[10., 20., 30.]));
        assert_eq!(
            (x + b).value(),
            nalgebra::DMatrix::from_row_slice(2, 3, &[11., 22., 33., 14., 25., 36.])
        );
        let c = tape.constant(&nalgebra::DMatrix::from_row_slice(2, 1, &[100., 200.]));
        assert_eq!(
            (x - c).value(),
            nalgebra::DMatrix::from_row_slice(2, 3, &[-99., -98., -97., -196., -195., -194.])
        );
    }
}
