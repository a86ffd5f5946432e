//! Losses, each one fused node: the forward pass and the backward rule are
//! written out directly rather than composed from other ops.
//!
//! - class-index losses, [`Var::cross_entropy`] and [`Var::nll_loss`], in
//!   `loss/classification.rs`;
//! - per-pixel cross-entropy over the channels of a batch of images,
//!   [`Var::cross_entropy2d`], in `loss/cross_entropy2d.rs`;
//! - elementwise losses against a target variable, [`Var::mse_loss`],
//!   [`Var::l1_loss`] and [`Var::binary_cross_entropy_with_logits`], in
//!   `loss/pointwise.rs`;
//! - AugMix's Jensen–Shannon consistency between the softmaxes of a clean
//!   batch and its augmented views, [`Var::js_consistency`], in
//!   `loss/js_consistency.rs`.
//!
//! A [`Reduction`] combines the per-element losses, as PyTorch's `reduction`
//! argument does.

mod classification;
mod cross_entropy2d;
mod js_consistency;
mod pointwise;

use super::{BackCtx, Backward};
use crate::pool::Pool;
#[cfg(doc)]
use crate::var::Var;
use descent_core::Scalar;
use nalgebra::DMatrix;

pub use cross_entropy2d::CrossEntropy2dConfig;
pub use js_consistency::JsConsistencyConfig;

/// How per-element losses are combined (PyTorch `reduction`).
///
/// # Examples
///
/// ```
/// use descent_autodiff::{Reduction, Tape};
/// use nalgebra::DMatrix;
///
/// let tape = Tape::<f64>::new();
/// let x = tape.constant(&DMatrix::from_row_slice(1, 2, &[1.0, 3.0]));
/// let y = tape.constant(&DMatrix::from_row_slice(1, 2, &[0.0, 0.0]));
/// assert_eq!(x.mse_loss(y, Reduction::default()).item(), 5.0); // mean
/// assert_eq!(x.mse_loss(y, Reduction::Sum).item(), 10.0);
/// assert_eq!(x.mse_loss(y, Reduction::None).shape(), (1, 2));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Reduction {
    /// The mean, as a 1×1: over rows for the class-index losses, over every
    /// element for the elementwise ones.
    #[default]
    Mean,
    /// The sum, as a 1×1.
    Sum,
    /// No reduction: one loss per row (class-index losses, `N × 1`) or per
    /// element (elementwise losses, the input's shape).
    None,
}

/// The options of [`Var::cross_entropy`]; `Default` is PyTorch's defaults
/// (mean reduction, no label smoothing).
///
/// # Examples
///
/// ```
/// use descent_autodiff::{CrossEntropyConfig, Reduction};
///
/// let cfg = CrossEntropyConfig { label_smoothing: 0.1, ..Default::default() };
/// assert_eq!(cfg.reduction, Reduction::Mean);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CrossEntropyConfig {
    /// How the per-row losses are combined.
    pub reduction: Reduction,
    /// ε in `[0, 1]`: the target distribution is `(1 − ε)·onehot + ε/C`.
    pub label_smoothing: f64,
}

impl Reduction {
    /// Combines the per-element losses `loss(k)`, `k` a column-major index
    /// into `shape`, into a new pool buffer: `shape` for `None`, else 1×1.
    fn apply<S: Scalar>(
        self,
        pool: &mut Pool<S>,
        shape: (usize, usize),
        mut loss: impl FnMut(usize) -> S,
    ) -> DMatrix<S> {
        if self == Reduction::None {
            let mut out = pool.take(shape.0, shape.1);
            for (k, o) in out.iter_mut().enumerate() {
                *o = loss(k);
            }
            return out;
        }
        let n = shape.0 * shape.1;
        // Accumulated in f64, rounded once.
        let mut total = 0.0f64;
        for k in 0..n {
            total += loss(k).as_f64();
        }
        if self == Reduction::Mean {
            total /= n as f64;
        }
        let mut out = pool.take(1, 1);
        out[0] = S::cast(total);
        out
    }

    /// The gradient reaching per-element loss `k` from the output gradient
    /// `g`, when `n` losses were combined.
    fn upstream<S: Scalar>(self, g: &DMatrix<S>, n: usize) -> impl Fn(usize) -> S + '_ {
        let scale = match self {
            Reduction::Mean => g[0] / S::from_count(n),
            Reduction::Sum => g[0],
            Reduction::None => S::zero(), // unused: each element has its own
        };
        move |k| {
            if self == Reduction::None { g[k] } else { scale }
        }
    }
}

/// A loss node and what its backward rule saved.
#[derive(Debug)]
pub(crate) enum Loss<S: Scalar> {
    Class(classification::ClassLoss<S>),
    Class2d(cross_entropy2d::ClassLoss2d<S>),
    Pointwise(pointwise::Pointwise),
    JsConsistency(js_consistency::JsConsistency<S>),
}

impl<S: Scalar> Backward<S> for Loss<S> {
    fn backward(&self, ctx: &mut BackCtx<'_, S>, out: usize, grad: &DMatrix<S>) {
        match self {
            Loss::Class(op) => op.backward(ctx, out, grad),
            Loss::Class2d(op) => op.backward(ctx, out, grad),
            Loss::Pointwise(op) => op.backward(ctx, out, grad),
            Loss::JsConsistency(op) => op.backward(ctx, out, grad),
        }
    }

    fn recycle(self, pool: &mut Pool<S>) {
        match self {
            Loss::Class(op) => op.recycle(pool),
            Loss::Class2d(op) => op.recycle(pool),
            Loss::Pointwise(op) => Backward::<S>::recycle(op, pool),
            Loss::JsConsistency(op) => op.recycle(pool),
        }
    }
}
