//! One gradient buffer per parameter.

use crate::{ParamId, Scalar};
use nalgebra::DMatrix;

/// The gradients of all parameters, indexed by [`ParamId`]; each has its
/// parameter's shape. Gradient transforms rewrite them in place into updates.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Grads<S: Scalar> {
    tensors: Vec<DMatrix<S>>,
}

impl<S: Scalar> Grads<S> {
    pub(crate) fn push(&mut self, g: DMatrix<S>) {
        self.tensors.push(g);
    }

    /// Number of gradient tensors (equals the number of parameters).
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    /// Gradient of `id`.
    pub fn get(&self, id: ParamId) -> &DMatrix<S> {
        &self.tensors[id.index()]
    }

    /// Mutable gradient of `id`.
    pub fn get_mut(&mut self, id: ParamId) -> &mut DMatrix<S> {
        &mut self.tensors[id.index()]
    }

    /// Iterates `(id, grad)` in registration order.
    pub fn iter(&self) -> impl Iterator<Item = (ParamId, &DMatrix<S>)> {
        self.tensors
            .iter()
            .enumerate()
            .map(|(i, g)| (ParamId::from_index(i), g))
    }

    /// Iterates `(id, grad)` mutably in registration order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (ParamId, &mut DMatrix<S>)> {
        self.tensors
            .iter_mut()
            .enumerate()
            .map(|(i, g)| (ParamId::from_index(i), g))
    }

    /// Zero gradients shaped like the values of `params`: a buffer of
    /// updates that a transform outside a store may rewrite (an optimizer
    /// adapter keeps one, and tests build one).
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_core::{Grads, ParamStore, Tags};
    /// use nalgebra::DMatrix;
    ///
    /// let mut store = ParamStore::<f32>::new();
    /// let w = store.register("w", Tags::WEIGHT, DMatrix::from_element(2, 3, 1.0))?;
    /// let grads = Grads::zeros_like(store.params());
    /// assert_eq!(grads.get(w).shape(), (2, 3));
    /// assert!(grads.get(w).iter().all(|&g| g == 0.0));
    /// # Ok::<(), descent_core::Error>(())
    /// ```
    pub fn zeros_like(params: &crate::Params<S>) -> Self {
        Grads {
            tensors: params
                .iter()
                .map(|(_, _, v)| DMatrix::zeros(v.nrows(), v.ncols()))
                .collect(),
        }
    }

    /// Sets every element to zero, keeping the buffers.
    pub fn zero(&mut self) {
        for g in &mut self.tensors {
            g.as_mut_slice().fill(S::zero());
        }
    }

    /// True when every element of every gradient is finite.
    pub fn all_finite(&self) -> bool {
        // Over contiguous slices in blocks, without an early exit inside a
        // block, so the check vectorizes (a gradient is one pass of memory).
        self.tensors.iter().all(|g| {
            g.as_slice()
                .chunks(1024)
                .all(|block| block.iter().fold(true, |ok, x| ok & x.is_finite()))
        })
    }
}
