//! The tape: an arena of nodes recorded by a forward pass and walked
//! backwards by [`Tape::backward`].

use crate::ops::{BackCtx, Op};
use crate::pool::Pool;
use crate::var::Var;
use descent_core::ImageShape;
use descent_core::{ParamId, ParamStore, Params, Scalar};
use nalgebra::DMatrix;
use std::cell::{Ref, RefCell};

/// One forward pass's record of values and the ops that made them.
///
/// Create one tape and reuse it: [`Tape::reset`] forgets the nodes but keeps
/// their buffers, so from the second step on a training step takes every
/// matrix from the tape's pool instead of the allocator.
///
/// Ops are methods and operators on [`Var`], a `Copy` handle, and never fail:
/// a shape mismatch inside an op is a programming error and panics with the
/// op's name and both shapes.
///
/// # Examples
///
/// ```
/// use descent_autodiff::Tape;
/// use descent_core::{ParamStore, Tags};
/// use nalgebra::DMatrix;
///
/// let mut store = ParamStore::<f64>::new();
/// let w = store.register("w", Tags::WEIGHT, DMatrix::from_row_slice(1, 2, &[3.0, -1.0]))?;
/// let mut tape = Tape::new();
/// for _ in 0..2 {
///     tape.reset();
///     store.zero_grad();
///     let x = tape.param(&store, w);
///     let loss = (x * x + x * 5.0).sum();      // Σ x² + 5x
///     tape.backward(loss, &mut store);
/// }
/// assert_eq!(store.grad(w).as_slice(), &[11.0, 3.0]); // 2x + 5
/// # Ok::<(), descent_core::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct Tape<S: Scalar> {
    inner: RefCell<Inner<S>>,
}

#[derive(Debug, Default)]
pub(crate) struct Inner<S: Scalar> {
    pub(crate) values: Vec<DMatrix<S>>,
    pub(crate) grads: Vec<Option<DMatrix<S>>>,
    pub(crate) nodes: Vec<Node<S>>,
    pub(crate) pool: Pool<S>,
}

#[derive(Debug)]
pub(crate) struct Node<S: Scalar> {
    pub(crate) op: Op<S>,
    pub(crate) needs_grad: bool,
    pub(crate) image: Option<ImageShape>,
}

impl<S: Scalar> Inner<S> {
    pub(crate) fn needs(&self, idx: u32) -> bool {
        self.nodes[idx as usize].needs_grad
    }

    pub(crate) fn value(&self, idx: u32) -> &DMatrix<S> {
        &self.values[idx as usize]
    }

    pub(crate) fn image(&self, idx: u32) -> Option<ImageShape> {
        self.nodes[idx as usize].image
    }

    pub(crate) fn push(
        &mut self,
        value: DMatrix<S>,
        op: Op<S>,
        needs_grad: bool,
        image: Option<ImageShape>,
    ) -> u32 {
        let idx = u32::try_from(self.values.len()).expect("tape holds more than u32::MAX nodes");
        self.values.push(value);
        self.grads.push(None);
        self.nodes.push(Node {
            op,
            needs_grad,
            image,
        });
        idx
    }
}

impl<S: Scalar> Tape<S> {
    /// An empty tape.
    pub fn new() -> Self {
        Tape {
            inner: RefCell::new(Inner {
                values: Vec::new(),
                grads: Vec::new(),
                nodes: Vec::new(),
                pool: Pool::default(),
            }),
        }
    }

    /// Forgets every node, keeping all buffers for the next pass.
    pub fn reset(&mut self) {
        let inner = self.inner.get_mut();
        let Inner {
            values,
            grads,
            nodes,
            pool,
        } = inner;
        for v in values.drain(..) {
            pool.give(v);
        }
        for g in grads.drain(..).flatten() {
            pool.give(g);
        }
        for n in nodes.drain(..) {
            n.op.recycle(pool);
        }
    }

    /// Number of nodes recorded since the last reset.
    pub fn len(&self) -> usize {
        self.inner.borrow().values.len()
    }

    /// True when nothing has been recorded since the last reset.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many buffers the pool had to allocate since the tape was created:
    /// in steady state this stops growing.
    pub fn fresh_buffers(&self) -> usize {
        self.inner.borrow().pool.fresh
    }

    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Inner<S>) -> R) -> R {
        f(&mut self.inner.borrow_mut())
    }

    pub(crate) fn borrow(&self) -> Ref<'_, Inner<S>> {
        self.inner.borrow()
    }

    pub(crate) fn var(&self, idx: u32) -> Var<'_, S> {
        Var { tape: self, idx }
    }

    fn leaf(
        &self,
        value: &DMatrix<S>,
        op: Op<S>,
        needs_grad: bool,
        image: Option<ImageShape>,
    ) -> Var<'_, S> {
        let idx = self.with(|t| {
            let v = t.pool.copy_of(value);
            t.push(v, op, needs_grad, image)
        });
        self.var(idx)
    }

    /// A constant input: no gradient flows into it.
    pub fn constant(&self, value: &DMatrix<S>) -> Var<'_, S> {
        self.leaf(value, Op::Leaf, false, None)
    }

    /// A `rows × cols` constant written by `fill` straight into a recycled
    /// buffer (noise layers use it to stay allocation-free). `fill` must write
    /// every element (the buffer holds stale values) and must not use the tape.
    pub fn constant_with(
        &self,
        rows: usize,
        cols: usize,
        fill: impl FnOnce(&mut DMatrix<S>),
    ) -> Var<'_, S> {
        let mut value = self.with(|t| t.pool.take(rows, cols));
        fill(&mut value);
        let idx = self.with(|t| t.push(value, Op::Leaf, false, None));
        self.var(idx)
    }

    /// A batch of images (`N × (C·H·W)`) as a constant input.
    ///
    /// Panics if `value` does not have `shape.len()` columns.
    pub fn constant_image(&self, value: &DMatrix<S>, shape: ImageShape) -> Var<'_, S> {
        check_image("constant_image", value, shape);
        self.leaf(value, Op::Leaf, false, Some(shape))
    }

    /// A leaf whose gradient is kept after [`backward`](Self::backward) and
    /// read back with [`Tape::grad`]; for inputs that are not parameters.
    pub fn leaf_var(&self, value: &DMatrix<S>) -> Var<'_, S> {
        self.leaf(value, Op::Leaf, true, None)
    }

    /// Like [`leaf_var`](Self::leaf_var) for a batch of images.
    pub fn leaf_image(&self, value: &DMatrix<S>, shape: ImageShape) -> Var<'_, S> {
        check_image("leaf_image", value, shape);
        self.leaf(value, Op::Leaf, true, Some(shape))
    }

    /// The current value of parameter `id`; backward adds its gradient into
    /// the store's gradient for `id`.
    pub fn param(&self, params: &Params<S>, id: ParamId) -> Var<'_, S> {
        self.leaf(params.value(id), Op::Param(id), true, None)
    }

    /// Accumulated gradient of a leaf made by [`leaf_var`](Self::leaf_var) or
    /// [`leaf_image`](Self::leaf_image), after `backward`; `None` if no
    /// gradient reached it.
    pub fn grad(&self, v: Var<'_, S>) -> Option<DMatrix<S>> {
        self.inner.borrow().grads[v.idx as usize].clone()
    }

    /// Back-propagates from a scalar (1×1) `loss`, adding each parameter's
    /// gradient into `store` (gradients accumulate, as in PyTorch; zero them
    /// between steps with [`ParamStore::zero_grad`]).
    ///
    /// Panics if `loss` is not 1×1 or belongs to another tape.
    pub fn backward(&self, loss: Var<'_, S>, store: &mut ParamStore<S>) {
        let shape = loss.shape();
        assert_eq!(
            shape,
            (1, 1),
            "backward: loss must be 1x1, got {}x{}; use backward_with for other outputs",
            shape.0,
            shape.1
        );
        self.run_backward(loss, None, store);
    }

    /// Back-propagates `grad_output` (shaped like `out`): the gradient of
    /// `Σ out ⊙ grad_output`.
    pub fn backward_with(
        &self,
        out: Var<'_, S>,
        grad_output: &DMatrix<S>,
        store: &mut ParamStore<S>,
    ) {
        self.run_backward(out, Some(grad_output), store);
    }

    /// Seeds `out` with `grad_output` (a 1 when `None`) and walks the tape
    /// backwards.
    fn run_backward(
        &self,
        out: Var<'_, S>,
        grad_output: Option<&DMatrix<S>>,
        store: &mut ParamStore<S>,
    ) {
        assert!(
            std::ptr::eq(out.tape, self),
            "backward: variable belongs to another tape"
        );
        let mut inner = self.inner.borrow_mut();
        let Inner {
            values,
            grads,
            nodes,
            pool,
        } = &mut *inner;
        let root = out.idx as usize;
        let (r, c) = values[root].shape();
        if let Some(g) = grad_output {
            let want = g.shape();
            assert_eq!(
                (r, c),
                want,
                "backward_with: grad_output shape {want:?} does not match output shape {:?}",
                (r, c)
            );
        }
        if !nodes[root].needs_grad {
            return;
        }
        let seed = grads[root].get_or_insert_with(|| pool.zeros(r, c));
        match grad_output {
            Some(g) => *seed += g,
            None => seed.add_scalar_mut(S::one()),
        }
        for i in (0..=root).rev() {
            let node = &nodes[i];
            if !node.needs_grad {
                continue;
            }
            match &node.op {
                Op::Leaf => continue, // keeps its gradient for Tape::grad
                Op::Param(id) => {
                    if let Some(g) = grads[i].take() {
                        *store.grad_mut(*id) += &g;
                        pool.give(g);
                    }
                }
                op => {
                    let Some(g) = grads[i].take() else { continue };
                    let mut ctx = BackCtx {
                        values,
                        grads,
                        nodes,
                        pool,
                    };
                    op.backward(&mut ctx, i, &g);
                    ctx.pool.give(g);
                }
            }
        }
    }
}

pub(crate) fn check_image<S: Scalar>(op: &str, value: &DMatrix<S>, shape: ImageShape) {
    assert_eq!(
        value.ncols(),
        shape.len(),
        "{op}: image shape {}x{}x{} needs {} columns, matrix is {}x{}",
        shape.c,
        shape.h,
        shape.w,
        shape.len(),
        value.nrows(),
        value.ncols()
    );
}
