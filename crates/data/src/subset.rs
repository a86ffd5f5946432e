//! `Subset`: a view of some samples of another dataset.

use crate::{Batch, Dataset, Error, Result, Schema};
use descent_core::Scalar;
use std::marker::PhantomData;

/// The samples of `dataset` at `indices`, in that order, without copying.
///
/// # Examples
///
/// ```
/// use descent_data::{Dataset, InMemory, Subset};
/// use nalgebra::DMatrix;
///
/// let data = InMemory::classification(DMatrix::<f32>::zeros(5, 2), vec![0, 1, 2, 0, 1], 3)?;
/// let tail = Subset::new(&data, vec![3, 4])?;
/// assert_eq!(tail.labels(), Some(vec![0, 1]));
/// assert!(Subset::new(&data, vec![5]).is_err());
/// # Ok::<(), descent_data::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Subset<S: Scalar, D: Dataset<S>> {
    dataset: D,
    indices: Vec<usize>,
    _scalar: PhantomData<fn() -> S>,
}

impl<S: Scalar, D: Dataset<S>> Subset<S, D> {
    /// A view of the samples at `indices`; fails with
    /// [`Error::IndexOutOfRange`] if one is not in the dataset.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_data::{Dataset, InMemory, Subset};
    /// use nalgebra::DMatrix;
    ///
    /// let data = InMemory::classification(DMatrix::<f64>::zeros(3, 1), vec![0, 1, 1], 2)?;
    /// assert_eq!(Subset::new(&data, vec![2, 0])?.len(), 2);
    /// # Ok::<(), descent_data::Error>(())
    /// ```
    pub fn new(dataset: D, indices: Vec<usize>) -> Result<Self> {
        let len = dataset.len();
        if let Some(&index) = indices.iter().find(|&&i| i >= len) {
            return Err(Error::IndexOutOfRange { index, len });
        }
        Ok(Subset {
            dataset,
            indices,
            _scalar: PhantomData,
        })
    }

    /// The indices into the underlying dataset.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }
}

impl<S: Scalar, D: Dataset<S>> Dataset<S> for Subset<S, D> {
    fn schema(&self) -> Schema {
        Schema {
            len: self.indices.len(),
            ..self.dataset.schema()
        }
    }

    fn gather(&self, indices: &[usize], batch: &mut Batch<S>) {
        let mut inner = std::mem::take(&mut batch.scratch);
        inner.clear();
        inner.extend(indices.iter().map(|&i| self.indices[i]));
        self.dataset.gather(&inner, batch);
        batch.indices.clear();
        batch.indices.extend_from_slice(indices);
        batch.scratch = inner;
    }
}
