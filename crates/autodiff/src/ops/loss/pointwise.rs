//! Elementwise losses between an input and a target of the same shape:
//! squared error, absolute error and binary cross-entropy on logits.
//! Gradients flow into both operands.

use super::{Loss, Reduction};
use crate::ops::{BackCtx, Backward, Op, assert_same_shape};
use crate::var::Var;
use descent_core::Scalar;
use nalgebra::DMatrix;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PointKind {
    Mse,
    L1,
    BceWithLogits,
}

#[derive(Debug)]
pub(crate) struct Pointwise {
    kind: PointKind,
    reduction: Reduction,
    x: u32,
    y: u32,
}

impl PointKind {
    fn name(self) -> &'static str {
        match self {
            PointKind::Mse => "mse_loss",
            PointKind::L1 => "l1_loss",
            PointKind::BceWithLogits => "binary_cross_entropy_with_logits",
        }
    }

    /// The loss of input `x` against target `y`.
    fn loss<S: Scalar>(self, x: S, y: S) -> S {
        match self {
            PointKind::Mse => (x - y) * (x - y),
            PointKind::L1 => (x - y).abs(),
            // log(1 + e^x) − x·y, written so that no exp overflows
            PointKind::BceWithLogits => x.max(S::zero()) - x * y + (-x.abs()).exp().ln_1p(),
        }
    }

    /// `(∂loss/∂x, ∂loss/∂y)`.
    fn grads<S: Scalar>(self, x: S, y: S) -> (S, S) {
        match self {
            PointKind::Mse => {
                let d = (x - y) * S::cast(2.0);
                (d, -d)
            }
            PointKind::L1 => {
                let s = sign(x - y);
                (s, -s)
            }
            PointKind::BceWithLogits => (sigmoid(x) - y, -x),
        }
    }
}

/// −1, 0 or 1 (PyTorch's `sign`: 0 at 0, so ties get no gradient); NaN stays NaN.
fn sign<S: Scalar>(d: S) -> S {
    if d > S::zero() {
        S::one()
    } else if d < S::zero() {
        -S::one()
    } else if d == S::zero() {
        S::zero()
    } else {
        d
    }
}

/// The logistic function without overflow for large `|x|`.
fn sigmoid<S: Scalar>(x: S) -> S {
    if x >= S::zero() {
        S::one() / (S::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (S::one() + e)
    }
}

impl<'t, S: Scalar> Var<'t, S> {
    fn pointwise_loss(self, target: Var<'t, S>, kind: PointKind, reduction: Reduction) -> Self {
        self.same_tape(target, kind.name());
        Var::record(self.tape, |t| {
            let (x, y) = (&t.values[self.idx as usize], &t.values[target.idx as usize]);
            assert_same_shape(kind.name(), x, y);
            let out = reduction.apply(&mut t.pool, x.shape(), |k| kind.loss(x[k], y[k]));
            let needs = t.needs(self.idx) || t.needs(target.idx);
            let image = match reduction {
                Reduction::None => t.image(self.idx),
                Reduction::Mean | Reduction::Sum => None,
            };
            let op = Pointwise {
                kind,
                reduction,
                x: self.idx,
                y: target.idx,
            };
            (out, Op::Loss(Loss::Pointwise(op)), needs, image)
        })
    }

    /// Squared error `(self − target)²` against a `target` of the same
    /// shape, as PyTorch's `F.mse_loss`. `Mean` averages over every element;
    /// `None` keeps the input's shape. Gradients flow into both operands.
    ///
    /// Panics, naming the op and both shapes, if the shapes differ.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_autodiff::{Reduction, Tape};
    /// use nalgebra::DMatrix;
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.constant(&DMatrix::from_row_slice(2, 1, &[1.0, 2.0]));
    /// let y = tape.constant(&DMatrix::from_row_slice(2, 1, &[0.0, 4.0]));
    /// assert_eq!(x.mse_loss(y, Reduction::Mean).item(), 2.5);
    /// ```
    pub fn mse_loss(self, target: Var<'t, S>, reduction: Reduction) -> Var<'t, S> {
        self.pointwise_loss(target, PointKind::Mse, reduction)
    }

    /// Absolute error `|self − target|` against a `target` of the same
    /// shape, as PyTorch's `F.l1_loss`. The gradient is `sign(self − target)`,
    /// 0 where they are equal, as in PyTorch. `Mean` averages over every
    /// element; `None` keeps the input's shape. Gradients flow into both
    /// operands.
    ///
    /// Panics, naming the op and both shapes, if the shapes differ.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_autodiff::{Reduction, Tape};
    /// use nalgebra::DMatrix;
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.constant(&DMatrix::from_row_slice(1, 3, &[1.0, 2.0, -3.0]));
    /// let y = tape.constant(&DMatrix::from_row_slice(1, 3, &[0.0, 2.0, 3.0]));
    /// assert_eq!(x.l1_loss(y, Reduction::Sum).item(), 7.0);
    /// ```
    pub fn l1_loss(self, target: Var<'t, S>, reduction: Reduction) -> Var<'t, S> {
        self.pointwise_loss(target, PointKind::L1, reduction)
    }

    /// Binary cross-entropy of logits `self` against probabilities `target`
    /// of the same shape, as PyTorch's `F.binary_cross_entropy_with_logits`,
    /// in the stable form `max(x, 0) − x·y + log(1 + exp(−|x|))`. The
    /// gradients are `σ(x) − y` for the logits and `−x` for the target.
    /// `Mean` averages over every element; `None` keeps the input's shape.
    ///
    /// Panics, naming the op and both shapes, if the shapes differ.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_autodiff::{Reduction, Tape};
    /// use nalgebra::DMatrix;
    ///
    /// let tape = Tape::<f64>::new();
    /// let x = tape.constant(&DMatrix::from_row_slice(1, 2, &[0.0, 1000.0]));
    /// let y = tape.constant(&DMatrix::from_row_slice(1, 2, &[1.0, 1.0]));
    /// let loss = x.binary_cross_entropy_with_logits(y, Reduction::Sum);
    /// assert!((loss.item() - 2f64.ln()).abs() < 1e-15); // log 2 + 0
    /// ```
    pub fn binary_cross_entropy_with_logits(
        self,
        target: Var<'t, S>,
        reduction: Reduction,
    ) -> Var<'t, S> {
        self.pointwise_loss(target, PointKind::BceWithLogits, reduction)
    }
}

impl<S: Scalar> Backward<S> for Pointwise {
    fn backward(&self, ctx: &mut BackCtx<'_, S>, _out: usize, g: &DMatrix<S>) {
        let (x, y) = (ctx.value(self.x), ctx.value(self.y));
        let up = self.reduction.upstream(g, x.len());
        if ctx.needs(self.x) {
            let gx = ctx.grad_mut(self.x);
            for k in 0..x.len() {
                gx[k] += up(k) * self.kind.grads(x[k], y[k]).0;
            }
        }
        if ctx.needs(self.y) {
            let gy = ctx.grad_mut(self.y);
            for k in 0..y.len() {
                gy[k] += up(k) * self.kind.grads(x[k], y[k]).1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PointKind;
    use crate::gradcheck::check_gradients;
    use crate::{Reduction, Tape, Var};
    use descent_core::ParamStore;
    use descent_testkit::panic_message;
    use descent_testkit::strategies::{matrix_avoiding, matrix_of};
    use nalgebra::DMatrix;
    use proptest::prelude::*;

    const REDUCTIONS: [Reduction; 3] = [Reduction::Mean, Reduction::Sum, Reduction::None];

    fn loss<'t>(kind: PointKind, x: Var<'t, f64>, y: Var<'t, f64>, r: Reduction) -> Var<'t, f64> {
        match kind {
            PointKind::Mse => x.mse_loss(y, r),
            PointKind::L1 => x.l1_loss(y, r),
            PointKind::BceWithLogits => x.binary_cross_entropy_with_logits(y, r),
        }
    }

    /// Checks the gradients into both operands for every reduction.
    fn gradcheck_all_reductions(
        kind: PointKind,
        x: DMatrix<f64>,
        y: DMatrix<f64>,
    ) -> Result<(), TestCaseError> {
        let xy = [x, y];
        for r in REDUCTIONS {
            check_gradients(&xy, |_t, v| loss(kind, v[0], v[1], r))
                .map_err(|e| TestCaseError::fail(format!("{kind:?} {r:?}: {e}")))?;
        }
        Ok(())
    }

    fn pair(lo: f64, hi: f64) -> impl Strategy<Value = (DMatrix<f64>, DMatrix<f64>)> {
        (1usize..5, 1usize..5)
            .prop_flat_map(move |(r, c)| (matrix_of(r, c, lo, hi), matrix_of(r, c, lo, hi)))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
        fn gradcheck_mse_loss_into_input_and_target_for_every_reduction((x, y) in pair(-3.0, 3.0)) {
            gradcheck_all_reductions(PointKind::Mse, x, y)?;
        }

        #[test]
        fn gradcheck_l1_loss_into_input_and_target_away_from_ties(
            (x, d) in (1usize..5, 1usize..5).prop_flat_map(|(r, c)| {
                (matrix_of(r, c, -3.0, 3.0), matrix_avoiding(r, c, -2.0, 2.0, &[0.0], 0.05))
            })
        ) {
            let y = &x - d; // x − y = d stays clear of the kink at 0
            gradcheck_all_reductions(PointKind::L1, x, y)?;
        }

        #[test]
        fn gradcheck_bce_with_logits_into_logits_and_target_for_every_reduction(
            (x, y) in (1usize..5, 1usize..5).prop_flat_map(|(r, c)| (matrix_of(r, c, -8.0, 8.0), matrix_of(r, c, 0.0, 1.0)))
        ) {
            gradcheck_all_reductions(PointKind::BceWithLogits, x, y)?;
        }
    }

    #[test]
    fn l1_gradient_is_zero_at_ties() {
        let tape = Tape::<f64>::new();
        let x = tape.leaf_var(&DMatrix::from_row_slice(1, 3, &[1.0, 2.0, 3.0]));
        let y = tape.leaf_var(&DMatrix::from_row_slice(1, 3, &[0.0, 2.0, 5.0]));
        tape.backward(x.l1_loss(y, Reduction::Sum), &mut ParamStore::new());
        assert_eq!(tape.grad(x).unwrap().as_slice(), &[1.0, 0.0, -1.0]);
        assert_eq!(tape.grad(y).unwrap().as_slice(), &[-1.0, 0.0, 1.0]);
    }

    #[test]
    fn bce_with_logits_stays_finite_and_exact_for_huge_logits() {
        let tape = Tape::<f64>::new();
        let x = tape.leaf_var(&DMatrix::from_row_slice(1, 3, &[800.0, -800.0, 40.0]));
        let y = tape.constant(&DMatrix::from_row_slice(1, 3, &[0.0, 0.0, 1.0]));
        let loss = x.binary_cross_entropy_with_logits(y, Reduction::None);
        let v = loss.value();
        assert_eq!(v[0], 800.0);
        assert_eq!(v[1], 0.0);
        assert!((v[2] - (-40f64).exp()).abs() < 1e-30, "{}", v[2]);
        tape.backward(loss.sum(), &mut ParamStore::new());
        assert_eq!(tape.grad(x).unwrap().as_slice()[..2], [1.0, 0.0]);
    }

    #[test]
    fn none_keeps_the_input_shape_and_mean_divides_by_every_element() {
        let tape = Tape::<f64>::new();
        let x = tape.constant(&DMatrix::from_row_slice(2, 3, &[1., 2., 3., 4., 5., 6.]));
        let y = tape.constant(&DMatrix::zeros(2, 3));
        for kind in [PointKind::Mse, PointKind::L1, PointKind::BceWithLogits] {
            let none = loss(kind, x, y, Reduction::None).value();
            assert_eq!(none.shape(), (2, 3), "{kind:?}");
            let sum = loss(kind, x, y, Reduction::Sum).item();
            let mean = loss(kind, x, y, Reduction::Mean).item();
            assert!(
                (sum - none.sum()).abs() < 1e-12 && (mean - sum / 6.0).abs() < 1e-12,
                "{kind:?}"
            );
        }
    }

    #[test]
    fn shape_mismatch_panics_naming_the_op_and_both_shapes() {
        let msg = panic_message(|| {
            let tape = Tape::<f64>::new();
            let x = tape.constant(&DMatrix::zeros(2, 3));
            x.mse_loss(tape.constant(&DMatrix::zeros(3, 2)), Reduction::Mean);
        });
        assert!(
            msg.contains("mse_loss") && msg.contains("2x3") && msg.contains("3x2"),
            "{msg}"
        );
    }
}
