//! `Var`: a cheap, `Copy` handle to a node on a tape.

use crate::ops::Op;
use crate::tape::{Inner, Tape};
use descent_core::ImageShape;
use descent_core::Scalar;
use nalgebra::DMatrix;
use std::fmt;

/// A value recorded on a [`Tape`]: a tape reference plus a node index.
///
/// Ops on `Var` record a new node and return its handle; they never fail, so
/// expressions read like maths: `x * x + x * 5.0`.
#[derive(Clone, Copy)]
pub struct Var<'t, S: Scalar> {
    pub(crate) tape: &'t Tape<S>,
    pub(crate) idx: u32,
}

impl<S: Scalar> fmt::Debug for Var<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (r, c) = self.shape();
        write!(f, "Var#{}({r}x{c})", self.idx)
    }
}

impl<'t, S: Scalar> Var<'t, S> {
    /// The tape this variable lives on.
    pub fn tape(&self) -> &'t Tape<S> {
        self.tape
    }

    /// `(rows, cols)` of the value.
    pub fn shape(&self) -> (usize, usize) {
        self.tape.borrow().value(self.idx).shape()
    }

    /// A copy of the value.
    pub fn value(&self) -> DMatrix<S> {
        self.tape.borrow().value(self.idx).clone()
    }

    /// Calls `f` with a reference to the value, without copying it.
    pub fn with_value<R>(&self, f: impl FnOnce(&DMatrix<S>) -> R) -> R {
        f(self.tape.borrow().value(self.idx))
    }

    /// The single element of a 1×1 value (a loss). Panics on other shapes.
    pub fn item(&self) -> S {
        let t = self.tape.borrow();
        let v = t.value(self.idx);
        assert_eq!(
            v.shape(),
            (1, 1),
            "item: value is {}x{}, not 1x1",
            v.nrows(),
            v.ncols()
        );
        v[(0, 0)]
    }

    /// The image shape recorded for this value, if it is a batch of images.
    pub fn image(&self) -> Option<ImageShape> {
        self.tape.borrow().image(self.idx)
    }

    /// Reinterprets the columns of this value as `shape` images (no copy).
    ///
    /// Panics if the number of columns is not `shape.len()`.
    pub fn as_image(self, shape: ImageShape) -> Self {
        self.tape.with(|t| {
            crate::tape::check_image("as_image", t.value(self.idx), shape);
            t.nodes[self.idx as usize].image = Some(shape);
        });
        self
    }

    /// Whether gradients flow back through this value.
    pub fn requires_grad(&self) -> bool {
        self.tape.borrow().needs(self.idx)
    }

    /// Records a node computed by `f` from the tape's internals; `f` returns
    /// the value, the op, whether it needs a gradient and its image shape.
    pub(crate) fn record(
        tape: &'t Tape<S>,
        f: impl FnOnce(&mut Inner<S>) -> (DMatrix<S>, Op<S>, bool, Option<ImageShape>),
    ) -> Var<'t, S> {
        let idx = tape.with(|t| {
            let (v, op, needs, image) = f(t);
            t.push(v, op, needs, image)
        });
        Var { tape, idx }
    }

    pub(crate) fn same_tape(self, other: Var<'t, S>, op: &str) {
        assert!(
            std::ptr::eq(self.tape, other.tape),
            "{op}: operands belong to different tapes"
        );
    }
}
