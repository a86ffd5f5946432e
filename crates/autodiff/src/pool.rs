//! Recycled buffers: the tape hands finished matrices back here at `reset`,
//! and the next forward pass takes them out again, so a steady-state training
//! step allocates nothing.
//!
//! Debug builds hand out fresh buffers filled with NaN, so an op that reads a
//! buffer before writing all of it fails its tests on the first pass (that is
//! how im2col's "zero only the padding" was checked).

use descent_core::Scalar;
use nalgebra::DMatrix;
use std::collections::HashMap;

/// What a fresh buffer holds. Debug builds (the tests) fill it with NaN, so
/// an op that reads a [`Pool::take`] buffer before writing all of it poisons
/// its result and fails its tests, even on a first pass where no recycled
/// buffer exists yet; release builds use zeros.
const UNWRITTEN: f64 = if cfg!(debug_assertions) {
    f64::NAN
} else {
    0.0
};

/// Free buffers bucketed by element count.
#[derive(Debug, Default)]
pub(crate) struct Pool<S> {
    free: HashMap<usize, Vec<Vec<S>>>,
    free_idx: Vec<Vec<u32>>,
    /// Buffers created because no free one fitted (for tests and stats).
    pub(crate) fresh: usize,
}

impl<S: Scalar> Pool<S> {
    /// A `rows × cols` matrix with unspecified contents; the caller overwrites it.
    pub(crate) fn take(&mut self, rows: usize, cols: usize) -> DMatrix<S> {
        let n = rows * cols;
        let v = match self.free.get_mut(&n).and_then(Vec::pop) {
            Some(v) => v,
            None => {
                self.fresh += 1;
                vec![S::cast(UNWRITTEN); n]
            }
        };
        DMatrix::from_vec(rows, cols, v)
    }

    /// A `rows × cols` matrix of zeros.
    pub(crate) fn zeros(&mut self, rows: usize, cols: usize) -> DMatrix<S> {
        let mut m = self.take(rows, cols);
        m.as_mut_slice().fill(S::zero());
        m
    }

    /// A copy of `src` in a recycled buffer.
    pub(crate) fn copy_of(&mut self, src: &DMatrix<S>) -> DMatrix<S> {
        let mut m = self.take(src.nrows(), src.ncols());
        m.as_mut_slice().copy_from_slice(src.as_slice());
        m
    }

    /// Returns a matrix's buffer for reuse.
    pub(crate) fn give(&mut self, m: DMatrix<S>) {
        let v: Vec<S> = m.data.into();
        self.free.entry(v.len()).or_default().push(v);
    }

    /// An empty index buffer with spare capacity from earlier steps.
    pub(crate) fn take_idx(&mut self) -> Vec<u32> {
        self.free_idx.pop().unwrap_or_default()
    }

    /// Returns an index buffer for reuse.
    pub(crate) fn give_idx(&mut self, mut v: Vec<u32>) {
        // an empty, never-grown vector holds no memory worth keeping
        if v.capacity() > 0 {
            v.clear();
            self.free_idx.push(v);
        }
    }
}
