//! The tape: an arena of nodes recorded by a forward pass and walked
//! backwards by [`Tape::backward`].
//!
//! The tape keeps parallel vectors: values, gradient slots, and nodes (the
//! `Op` that made each value). [`Tape::reset`] hands every value, gradient and
//! saved buffer back to the pool.
//!
//! - `constant_swap` takes an input's buffer instead of copying it and leaves
//!   a recycled one of the same shape in its place (a loader's batch, refilled
//!   before it is read again: the two buffers trade places each pass);
//!   `constant_with` (and `Var::mask_with`) fill a recycled buffer in place,
//!   for dropout masks and noise.
//! - `backward_finite` checks finiteness in the pass that adds each gradient
//!   (`x − x` summed over 32 lanes beside the add, an AVX2 build chosen at run
//!   time), cheaper than the plain add it replaces, so a training loop knows
//!   its gradients are finite without reading them again.
//!
//! Invariant: gradients accumulate into the `ParamStore` (PyTorch
//! semantics); zeroing them is the caller's job.

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

    /// `value` as a constant input without copying it: the tape keeps
    /// `value`'s buffer (returned to its pool at [`reset`](Self::reset)) and
    /// leaves in its place a recycled buffer of the same shape whose
    /// contents are stale. For an input its owner refills before reading it
    /// again, such as a data loader's batch; in steady state the two
    /// buffers trade places each pass and nothing is allocated. With
    /// `image`, the value is a batch of images, as in
    /// [`constant_image`](Self::constant_image).
    ///
    /// Panics if `image` is given and `value` does not have `image.len()` columns.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_autodiff::Tape;
    /// use nalgebra::DMatrix;
    ///
    /// let tape = Tape::<f64>::new();
    /// let mut x = DMatrix::from_element(2, 3, 1.5);
    /// let v = tape.constant_swap(&mut x, None);
    /// assert_eq!(v.value(), DMatrix::from_element(2, 3, 1.5));
    /// assert_eq!(x.shape(), (2, 3), "a buffer of the same shape, to refill");
    /// ```
    pub fn constant_swap(&self, value: &mut DMatrix<S>, image: Option<ImageShape>) -> Var<'_, S> {
        if let Some(shape) = image {
            check_image("constant_swap", value, shape);
        }
        let idx = self.with(|t| {
            let fresh = t.pool.take(value.nrows(), value.ncols());
            let v = std::mem::replace(value, fresh);
            t.push(v, Op::Leaf, false, image)
        });
        self.var(idx)
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
        self.run_backward(loss, None, store, false);
    }

    /// [`backward`](Self::backward), also telling whether every parameter
    /// gradient it added into is finite after the addition: `false` when an
    /// element of one of them is NaN or infinite (an overflowing sum
    /// included). It is checked as each gradient is added, in the same pass,
    /// so a training loop that zeroes the gradients and then only runs
    /// backward passes knows whether they are all finite without reading
    /// them again. Gradients this pass does not reach are not looked at.
    ///
    /// Panics as [`backward`](Self::backward) does.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_autodiff::Tape;
    /// use descent_core::{ParamStore, Tags};
    /// use nalgebra::DMatrix;
    ///
    /// let mut store = ParamStore::<f64>::new();
    /// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(1, 2, 2.0))?;
    /// let mut tape = Tape::new();
    /// let loss = (tape.param(store.params(), w) * 3.0).sum();
    /// assert!(tape.backward_finite(loss, &mut store));
    /// assert_eq!(store.grad(w).as_slice(), &[3.0, 3.0]);
    ///
    /// tape.reset();
    /// store.zero_grad();
    /// let loss = (tape.param(store.params(), w) * f64::INFINITY).sum();
    /// assert!(!tape.backward_finite(loss, &mut store));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn backward_finite(&self, loss: Var<'_, S>, store: &mut ParamStore<S>) -> bool {
        let shape = loss.shape();
        assert_eq!(
            shape,
            (1, 1),
            "backward: loss must be 1x1, got {}x{}; use backward_with for other outputs",
            shape.0,
            shape.1
        );
        self.run_backward(loss, None, store, true)
    }

    /// Back-propagates `grad_output` (shaped like `out`): the gradient of
    /// `Σ out ⊙ grad_output`.
    pub fn backward_with(
        &self,
        out: Var<'_, S>,
        grad_output: &DMatrix<S>,
        store: &mut ParamStore<S>,
    ) {
        self.run_backward(out, Some(grad_output), store, false);
    }

    /// Seeds `out` with `grad_output` (a 1 when `None`) and walks the tape
    /// backwards; with `check`, returns whether every parameter gradient it
    /// added into is finite afterwards (else `true`).
    fn run_backward(
        &self,
        out: Var<'_, S>,
        grad_output: Option<&DMatrix<S>>,
        store: &mut ParamStore<S>,
        check: bool,
    ) -> bool {
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
            return true;
        }
        let mut finite = true;
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
                        let dst = store.grad_mut(*id);
                        assert_eq!(
                            dst.shape(),
                            g.shape(),
                            "backward: gradient shape of parameter {id:?}"
                        );
                        if check {
                            finite &= add_checking_finite(dst.as_mut_slice(), g.as_slice());
                        } else {
                            *dst += &g;
                        }
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
        finite
    }
}

/// `dst += src`, returning whether every element of the result is finite:
/// `x - x` is 0 for a finite `x` and NaN otherwise, summed over 32 lanes
/// beside the addition (no branch, and enough independent sums that their
/// latency hides, so it vectorizes with the addition); compiled a second
/// time for AVX2, chosen at run time, as the optimizer's walk is. The sums
/// are exact, so both give the same answer and the same `dst`.
fn add_checking_finite<S: Scalar>(dst: &mut [S], src: &[S]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { add_checking_finite_avx2(dst, src) };
    }
    add_checking_finite_portable(dst, src)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn add_checking_finite_avx2<S: Scalar>(dst: &mut [S], src: &[S]) -> bool {
    add_checking_finite_portable(dst, src)
}

#[inline(always)]
#[allow(clippy::eq_op)] // `x - x` on purpose: 0 exactly when `x` is finite
fn add_checking_finite_portable<S: Scalar>(dst: &mut [S], src: &[S]) -> bool {
    const LANES: usize = 32;
    let mut lanes = [S::zero(); LANES];
    let mut d = dst.chunks_exact_mut(LANES);
    let mut s = src.chunks_exact(LANES);
    for (d, s) in (&mut d).zip(&mut s) {
        for ((d, &s), l) in d.iter_mut().zip(s).zip(lanes.iter_mut()) {
            let x = *d + s;
            *d = x;
            *l += x - x;
        }
    }
    for (d, &s) in d.into_remainder().iter_mut().zip(s.remainder()) {
        let x = *d + s;
        *d = x;
        lanes[0] += x - x;
    }
    lanes.iter().all(|l| *l == S::zero())
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

#[cfg(test)]
mod tests {
    use super::*;
    use descent_core::Tags;

    #[test]
    fn add_checking_finite_adds_exactly_and_finds_any_non_finite_element() {
        for len in [1usize, 15, 16, 17, 31, 32, 33, 40, 1000] {
            let src: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
            let base: Vec<f32> = (0..len).map(|i| (i as f32 * 0.11).cos()).collect();
            let mut dst = base.clone();
            assert!(add_checking_finite(&mut dst, &src));
            let want: Vec<f32> = base.iter().zip(&src).map(|(a, b)| a + b).collect();
            assert_eq!(dst, want);
            for at in [0, len / 2, len - 1] {
                for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                    let mut s = src.clone();
                    s[at] = bad;
                    let mut d = base.clone();
                    assert!(!add_checking_finite(&mut d, &s), "{len} {at} {bad}");
                }
                // two finite values whose sum overflows
                let (mut d, mut s) = (base.clone(), src.clone());
                d[at] = f32::MAX;
                s[at] = f32::MAX;
                assert!(!add_checking_finite(&mut d, &s), "overflow {len} {at}");
            }
        }
    }

    #[test]
    fn backward_finite_is_backward_plus_a_finiteness_check() {
        let mut store = ParamStore::<f64>::new();
        let w = store
            .register(
                "w",
                Tags::WEIGHT,
                DMatrix::from_fn(3, 7, |i, j| (i + j) as f64),
            )
            .unwrap();
        let v = store
            .register("v", Tags::WEIGHT, DMatrix::from_element(1, 5, 1.0))
            .unwrap();
        let mut tape = Tape::new();
        for scale in [2.0, f64::INFINITY, f64::NAN] {
            let mut twin = store.clone();
            store.zero_grad();
            twin.zero_grad();
            tape.reset();
            let loss = (tape.param(store.params(), w).sum() * scale).sum();
            let finite = tape.backward_finite(loss, &mut store);
            tape.reset();
            let loss = (tape.param(twin.params(), w).sum() * scale).sum();
            tape.backward(loss, &mut twin);
            assert_eq!(finite, twin.grads().all_finite(), "{scale}");
            assert_eq!(
                store
                    .grad(w)
                    .as_slice()
                    .iter()
                    .map(|x| x.to_bits())
                    .collect::<Vec<_>>(),
                twin.grad(w)
                    .as_slice()
                    .iter()
                    .map(|x| x.to_bits())
                    .collect::<Vec<_>>()
            );
            assert_eq!(store.grad(v), twin.grad(v), "not reached: left alone");
        }
    }
}
