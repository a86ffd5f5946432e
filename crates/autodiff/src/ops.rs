//! The ops and their backward rules. Each file holds one family: the forward
//! pass as methods on [`Var`](crate::Var), the backward rule right beside it,
//! and its gradient check at the bottom.
//!
//! Ops never fail: a shape mismatch inside an op is a programming error and
//! panics naming the op and both shapes (`tests/panic_messages.rs`). A
//! backward rule that writes a gradient with a GEMM takes a fresh slot
//! unzeroed, with `beta = 0` (`BackCtx::grad_for_gemm`).

pub(crate) mod batch_norm;
pub(crate) mod binary;
pub(crate) mod conv2d;
pub(crate) mod loss;
pub(crate) mod mask;
pub(crate) mod matmul;
pub(crate) mod pool2d;
pub(crate) mod reduce;
pub(crate) mod scalar;
pub(crate) mod softmax;
pub(crate) mod softmax2d;
pub(crate) mod unary;

use crate::pool::Pool;
use crate::tape::Node;
use descent_core::{ParamId, Scalar};
use nalgebra::DMatrix;

/// What made a node, with whatever its backward rule saved.
#[derive(Debug)]
pub(crate) enum Op<S: Scalar> {
    /// An input (constant or gradient-keeping leaf).
    Leaf,
    /// A copy of a parameter's value.
    Param(ParamId),
    Binary(binary::Binary),
    Scalar(scalar::ScalarOp<S>),
    MatMul(matmul::MatMul),
    Transpose(matmul::Transpose),
    Reduce(reduce::Reduce),
    Unary(unary::Unary<S>),
    Softmax(softmax::Softmax<S>),
    Softmax2d(softmax2d::Softmax2d<S>),
    Conv2d(conv2d::Conv2d<S>),
    Pool2d(pool2d::Pool2d<S>),
    Mask(mask::Mask<S>),
    Loss(loss::Loss<S>),
    BatchNorm(batch_norm::BatchNorm<S>),
}

/// A backward rule: given the gradient `grad` of node `out`, add the
/// gradients of its inputs through `ctx`.
pub(crate) trait Backward<S: Scalar> {
    fn backward(&self, ctx: &mut BackCtx<'_, S>, out: usize, grad: &DMatrix<S>);

    /// Hands saved buffers back to the pool when the tape is reset.
    fn recycle(self, _pool: &mut Pool<S>)
    where
        Self: Sized,
    {
    }
}

impl<S: Scalar> Op<S> {
    pub(crate) fn backward(&self, ctx: &mut BackCtx<'_, S>, out: usize, grad: &DMatrix<S>) {
        match self {
            Op::Leaf | Op::Param(_) => {}
            Op::Binary(op) => op.backward(ctx, out, grad),
            Op::Scalar(op) => op.backward(ctx, out, grad),
            Op::MatMul(op) => op.backward(ctx, out, grad),
            Op::Transpose(op) => op.backward(ctx, out, grad),
            Op::Reduce(op) => op.backward(ctx, out, grad),
            Op::Unary(op) => op.backward(ctx, out, grad),
            Op::Softmax(op) => op.backward(ctx, out, grad),
            Op::Softmax2d(op) => op.backward(ctx, out, grad),
            Op::Conv2d(op) => op.backward(ctx, out, grad),
            Op::Pool2d(op) => op.backward(ctx, out, grad),
            Op::Mask(op) => op.backward(ctx, out, grad),
            Op::Loss(op) => op.backward(ctx, out, grad),
            Op::BatchNorm(op) => op.backward(ctx, out, grad),
        }
    }

    pub(crate) fn recycle(self, pool: &mut Pool<S>) {
        match self {
            Op::Leaf | Op::Param(_) => {}
            Op::Binary(op) => op.recycle(pool),
            Op::Scalar(op) => op.recycle(pool),
            Op::MatMul(op) => op.recycle(pool),
            Op::Transpose(op) => op.recycle(pool),
            Op::Reduce(op) => op.recycle(pool),
            Op::Unary(op) => op.recycle(pool),
            Op::Softmax(op) => op.recycle(pool),
            Op::Softmax2d(op) => op.recycle(pool),
            Op::Conv2d(op) => op.recycle(pool),
            Op::Pool2d(op) => op.recycle(pool),
            Op::Mask(op) => op.recycle(pool),
            Op::Loss(op) => op.recycle(pool),
            Op::BatchNorm(op) => op.recycle(pool),
        }
    }
}

/// What a backward rule may touch: every node's value, the gradient slots,
/// node metadata and the buffer pool.
pub(crate) struct BackCtx<'a, S: Scalar> {
    pub(crate) values: &'a [DMatrix<S>],
    pub(crate) grads: &'a mut [Option<DMatrix<S>>],
    pub(crate) nodes: &'a [Node<S>],
    pub(crate) pool: &'a mut Pool<S>,
}

impl<'a, S: Scalar> BackCtx<'a, S> {
    /// Whether input `idx` wants a gradient.
    pub(crate) fn needs(&self, idx: u32) -> bool {
        self.nodes[idx as usize].needs_grad
    }

    /// The value of node `idx`, borrowed for the whole backward pass.
    pub(crate) fn value(&self, idx: u32) -> &'a DMatrix<S> {
        &self.values[idx as usize]
    }

    /// The gradient accumulator of node `idx`, created as zeros on first use.
    pub(crate) fn grad_mut(&mut self, idx: u32) -> &mut DMatrix<S> {
        let i = idx as usize;
        if self.grads[i].is_none() {
            let (r, c) = self.values[i].shape();
            self.grads[i] = Some(self.pool.zeros(r, c));
        }
        self.grads[i].as_mut().expect("just set")
    }

    /// The gradient slot of node `idx` and whether it is fresh: a fresh
    /// slot comes from the pool unzeroed, so the caller must overwrite every
    /// element (`=`), while an existing one must be accumulated into (`+=`).
    /// Saves a zeroing pass and a read of the whole gradient.
    pub(crate) fn grad_slot(&mut self, idx: u32) -> (&mut DMatrix<S>, bool) {
        let i = idx as usize;
        let fresh = self.grads[i].is_none();
        if fresh {
            let (r, c) = self.values[i].shape();
            self.grads[i] = Some(self.pool.take(r, c));
        }
        (self.grads[i].as_mut().expect("just set"), fresh)
    }

    /// [`grad_slot`](Self::grad_slot) for a GEMM-style update `g ← Δ + beta·g`:
    /// `beta` is 0 for a fresh slot (the GEMM then never reads it), else 1.
    pub(crate) fn grad_for_gemm(&mut self, idx: u32) -> (&mut DMatrix<S>, S) {
        let (g, fresh) = self.grad_slot(idx);
        (g, if fresh { S::zero() } else { S::one() })
    }
}

/// Panics with the op's name and both shapes when `a` and `b` differ.
pub(crate) fn assert_same_shape<S: Scalar>(op: &str, a: &DMatrix<S>, b: &DMatrix<S>) {
    assert!(
        a.shape() == b.shape(),
        "{op}: shape mismatch, {}x{} vs {}x{}",
        a.nrows(),
        a.ncols(),
        b.nrows(),
        b.ncols()
    );
}
