//! Ops that treat something as a constant: multiplying by a fixed mask (what
//! dropout does) and cutting the gradient (`detach`).

use super::{BackCtx, Backward, Op, assert_same_shape};
use crate::pool::Pool;
use crate::var::Var;
use descent_core::Scalar;
use nalgebra::DMatrix;

#[derive(Debug)]
pub(crate) struct Mask<S: Scalar> {
    x: u32,
    mask: DMatrix<S>,
}

impl<'t, S: Scalar> Var<'t, S> {
    /// `self ⊙ mask` for a constant `mask` of the same shape; no gradient
    /// flows into the mask. Dropout multiplies by a mask of `0` and `1/(1−p)`.
    pub fn mask(self, mask: &DMatrix<S>) -> Var<'t, S> {
        let saved = self.tape.with(|t| t.pool.copy_of(mask));
        self.mask_owned(saved)
    }

    /// Like [`mask`](Self::mask), with the mask written by `fill` straight
    /// into a recycled buffer of this value's shape, so a dropout layer
    /// allocates nothing in steady state. `fill` must write every element
    /// (the buffer holds stale values) and must not use the tape.
    pub fn mask_with(self, fill: impl FnOnce(&mut DMatrix<S>)) -> Var<'t, S> {
        let (r, c) = self.shape();
        let mut saved = self.tape.with(|t| t.pool.take(r, c));
        fill(&mut saved);
        self.mask_owned(saved)
    }

    fn mask_owned(self, mask: DMatrix<S>) -> Var<'t, S> {
        Var::record(self.tape, |t| {
            let x = &t.values[self.idx as usize];
            assert_same_shape("mask", x, &mask);
            let mut out = t.pool.take(x.nrows(), x.ncols());
            for ((o, &a), &m) in out
                .as_mut_slice()
                .iter_mut()
                .zip(x.as_slice())
                .zip(mask.as_slice())
            {
                *o = a * m;
            }
            (
                out,
                Op::Mask(Mask { x: self.idx, mask }),
                t.needs(self.idx),
                t.image(self.idx),
            )
        })
    }

    /// The same value with no gradient flowing back (stop-gradient).
    pub fn detach(self) -> Var<'t, S> {
        Var::record(self.tape, |t| {
            let x = &t.values[self.idx as usize];
            let out = t.pool.copy_of(x);
            (out, Op::Leaf, false, t.image(self.idx))
        })
    }
}

impl<S: Scalar> Backward<S> for Mask<S> {
    fn backward(&self, ctx: &mut BackCtx<'_, S>, _out: usize, g: &DMatrix<S>) {
        let gx = ctx.grad_mut(self.x);
        for ((a, &gi), &m) in gx
            .as_mut_slice()
            .iter_mut()
            .zip(g.as_slice())
            .zip(self.mask.as_slice())
        {
            *a += gi * m;
        }
    }

    fn recycle(self, pool: &mut Pool<S>) {
        pool.give(self.mask);
    }
}

#[cfg(test)]
mod tests {
    use crate::gradcheck::check_gradients;
    use descent_testkit::strategies::matrix_of;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn gradcheck_mask_and_detach(
            (x, m) in (1usize..5, 1usize..5).prop_flat_map(|(r, c)| (matrix_of(r, c, -2.0, 2.0), matrix_of(r, c, 0.0, 2.0)))
        ) {
            check_gradients(&[x], |_t, v| v[0].mask(&m)).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn detach_cuts_the_gradient() {
        let tape = crate::Tape::<f64>::new();
        let x = tape.leaf_var(&nalgebra::DMatrix::from_element(1, 2, 3.0));
        let y = (x * x.detach()).sum();
        tape.backward(y, &mut descent_core::ParamStore::new());
        assert_eq!(tape.grad(x).unwrap().as_slice(), &[3.0, 3.0]);
    }
}
