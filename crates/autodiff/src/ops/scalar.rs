//! A variable combined with a plain number: `x + s`, `x * s`, `s - x`,
//! `s / x`, `-x`, on either side of the operator.

use super::{BackCtx, Backward, Op};
use crate::var::Var;
use descent_core::Scalar;
use nalgebra::DMatrix;
use std::ops::{Add, Div, Mul, Neg, Sub};

#[derive(Clone, Copy, Debug)]
pub(crate) enum ScalarKind {
    /// `x + s`
    Add,
    /// `x * s`
    Mul,
    /// `s - x`
    RSub,
    /// `s / x`
    RDiv,
}

#[derive(Debug)]
pub(crate) struct ScalarOp<S> {
    kind: ScalarKind,
    x: u32,
    s: S,
}

impl<'t, S: Scalar> Var<'t, S> {
    fn scalar_op(self, kind: ScalarKind, s: S) -> Var<'t, S> {
        Var::record(self.tape, |t| {
            let x = &t.values[self.idx as usize];
            let mut out = t.pool.take(x.nrows(), x.ncols());
            for (o, &v) in out.as_mut_slice().iter_mut().zip(x.as_slice()) {
                *o = match kind {
                    ScalarKind::Add => v + s,
                    ScalarKind::Mul => v * s,
                    ScalarKind::RSub => s - v,
                    ScalarKind::RDiv => s / v,
                };
            }
            (
                out,
                Op::Scalar(ScalarOp {
                    kind,
                    x: self.idx,
                    s,
                }),
                t.needs(self.idx),
                t.image(self.idx),
            )
        })
    }

    /// `self + s` elementwise.
    pub fn add_scalar(self, s: S) -> Var<'t, S> {
        self.scalar_op(ScalarKind::Add, s)
    }

    /// `self * s` elementwise.
    pub fn mul_scalar(self, s: S) -> Var<'t, S> {
        self.scalar_op(ScalarKind::Mul, s)
    }

    /// `s - self` elementwise.
    pub fn rsub_scalar(self, s: S) -> Var<'t, S> {
        self.scalar_op(ScalarKind::RSub, s)
    }

    /// `s / self` elementwise.
    pub fn rdiv_scalar(self, s: S) -> Var<'t, S> {
        self.scalar_op(ScalarKind::RDiv, s)
    }
}

impl<S: Scalar> Backward<S> for ScalarOp<S> {
    fn backward(&self, ctx: &mut BackCtx<'_, S>, out: usize, g: &DMatrix<S>) {
        let (x, y) = (ctx.value(self.x), &ctx.values[out]);
        let gx = ctx.grad_mut(self.x);
        match self.kind {
            ScalarKind::Add => *gx += g,
            ScalarKind::Mul => gx.zip_apply(g, |a, b| *a += b * self.s),
            ScalarKind::RSub => *gx -= g,
            // d(s/x)/dx = -s/x² = -y/x
            ScalarKind::RDiv => {
                for ((a, &gi), (&yi, &xi)) in gx
                    .as_mut_slice()
                    .iter_mut()
                    .zip(g.as_slice())
                    .zip(y.as_slice().iter().zip(x.as_slice()))
                {
                    *a -= gi * yi / xi;
                }
            }
        }
    }
}

impl<'t, S: Scalar> Neg for Var<'t, S> {
    type Output = Var<'t, S>;
    fn neg(self) -> Var<'t, S> {
        self.mul_scalar(-S::one())
    }
}

impl<'t, S: Scalar> Add<S> for Var<'t, S> {
    type Output = Var<'t, S>;
    fn add(self, s: S) -> Var<'t, S> {
        self.add_scalar(s)
    }
}

impl<'t, S: Scalar> Sub<S> for Var<'t, S> {
    type Output = Var<'t, S>;
    fn sub(self, s: S) -> Var<'t, S> {
        self.add_scalar(-s)
    }
}

impl<'t, S: Scalar> Mul<S> for Var<'t, S> {
    type Output = Var<'t, S>;
    fn mul(self, s: S) -> Var<'t, S> {
        self.mul_scalar(s)
    }
}

impl<'t, S: Scalar> Div<S> for Var<'t, S> {
    type Output = Var<'t, S>;
    fn div(self, s: S) -> Var<'t, S> {
        self.mul_scalar(S::one() / s)
    }
}

macro_rules! scalar_lhs {
    ($t:ty) => {
        impl<'t> Add<Var<'t, $t>> for $t {
            type Output = Var<'t, $t>;
            fn add(self, x: Var<'t, $t>) -> Var<'t, $t> {
                x.add_scalar(self)
            }
        }
        impl<'t> Sub<Var<'t, $t>> for $t {
            type Output = Var<'t, $t>;
            fn sub(self, x: Var<'t, $t>) -> Var<'t, $t> {
                x.rsub_scalar(self)
            }
        }
        impl<'t> Mul<Var<'t, $t>> for $t {
            type Output = Var<'t, $t>;
            fn mul(self, x: Var<'t, $t>) -> Var<'t, $t> {
                x.mul_scalar(self)
            }
        }
        impl<'t> Div<Var<'t, $t>> for $t {
            type Output = Var<'t, $t>;
            fn div(self, x: Var<'t, $t>) -> Var<'t, $t> {
                x.rdiv_scalar(self)
            }
        }
    };
}
scalar_lhs!(f32);
scalar_lhs!(f64);

#[cfg(test)]
mod tests {
    use crate::gradcheck::check_gradients;
    use descent_testkit::strategies::matrix_avoiding;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn gradcheck_scalar_ops(x in (1usize..5, 1usize..5).prop_flat_map(|(r, c)| matrix_avoiding(r, c, -3.0, 3.0, &[0.0], 0.2)), s in -3.0f64..3.0) {
            let x = [x];
            check_gradients(&x, |_t, v| v[0] + s).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| v[0] - s).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| v[0] * s).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| v[0] / (s.abs() + 0.5)).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| s - v[0]).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| s / v[0]).map_err(TestCaseError::fail)?;
            check_gradients(&x, |_t, v| -v[0]).map_err(TestCaseError::fail)?;
        }
    }
}
