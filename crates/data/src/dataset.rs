//! The `Dataset` trait and the description of a dataset's samples.
//!
//! Invariant: `gather` allocates only when a batch grows (wrappers borrow the
//! batch's scratch space), and writes every feature of the batch, since a
//! batch's buffer may hold stale values (after the Trainer moved its features
//! to the tape, say); `InMemory` copies each column's run as one slice when
//! the indices are consecutive.

use crate::Batch;
use descent_core::{ImageShape, Scalar};

/// What a dataset's targets are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// Class labels in `0..n_classes` (batches fill [`Batch::labels`]).
    Classes {
        /// The number of classes.
        n_classes: usize,
    },
    /// Real-valued targets of `dim` columns (batches fill [`Batch::targets`]).
    Values {
        /// The number of target columns.
        dim: usize,
    },
    /// A class per pixel (semantic segmentation): an `H × W` class map per
    /// sample of an image dataset (batches fill [`Batch::class_maps`]).
    /// Labels lie in `0..n_classes`, or are the dataset's ignore index.
    PixelClasses {
        /// The number of classes.
        n_classes: usize,
    },
}

/// A dataset's size and the shape of its samples and targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schema {
    /// Number of samples.
    pub len: usize,
    /// Number of features of one sample (`D`, the batch matrix's columns).
    pub n_features: usize,
    /// For image datasets, the `(C, H, W)` the features flatten.
    pub image: Option<ImageShape>,
    /// The kind of targets.
    pub targets: TargetKind,
}

impl Schema {
    /// The number of classes, for a classification dataset (one label per
    /// sample; `None` for per-pixel classes, see [`Schema::pixel_classes`]).
    pub fn n_classes(&self) -> Option<usize> {
        match self.targets {
            TargetKind::Classes { n_classes } => Some(n_classes),
            TargetKind::Values { .. } | TargetKind::PixelClasses { .. } => None,
        }
    }

    /// The number of classes, for a per-pixel classification
    /// (segmentation) dataset.
    pub fn pixel_classes(&self) -> Option<usize> {
        match self.targets {
            TargetKind::PixelClasses { n_classes } => Some(n_classes),
            _ => None,
        }
    }
}

/// A finite, indexable set of samples with targets.
///
/// Two methods are required: [`schema`](Dataset::schema) and
/// [`gather`](Dataset::gather), which copies the samples at some indices
/// into a reusable [`Batch`]. Datasets are read-only; wrappers (subsets,
/// label corruption) are datasets over datasets.
///
/// # Examples
///
/// ```
/// use descent_data::{Batch, Dataset, InMemory};
/// use nalgebra::DMatrix;
///
/// let x = DMatrix::from_row_slice(3, 2, &[0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0]);
/// let data = InMemory::classification(x, vec![0, 1, 0], 2)?;
/// let mut batch = Batch::new();
/// data.gather(&[2, 0], &mut batch);
/// assert_eq!(batch.features.row(0)[1], 5.0);
/// assert_eq!(batch.labels, vec![0, 0]);
/// # Ok::<(), descent_data::Error>(())
/// ```
pub trait Dataset<S: Scalar> {
    /// The dataset's size and sample shape.
    fn schema(&self) -> Schema;

    /// Fills `batch` with the samples at `indices`, in that order: row `r` of
    /// the features (and label or target row `r`) is sample `indices[r]`.
    ///
    /// Reuses `batch`'s buffers; it allocates only when the batch grows.
    ///
    /// # Panics
    ///
    /// If an index is out of range: callers validate indices once, at the
    /// boundary (the loader and [`Subset`](crate::Subset) do).
    fn gather(&self, indices: &[usize], batch: &mut Batch<S>);

    /// Number of samples.
    fn len(&self) -> usize {
        self.schema().len
    }

    /// Whether the dataset has no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every class label in sample order, or `None` for regression targets.
    fn labels(&self) -> Option<Vec<usize>> {
        self.schema().n_classes()?;
        let indices: Vec<usize> = (0..self.len()).collect();
        let mut batch = Batch::new();
        let mut out = Vec::with_capacity(self.len());
        for chunk in indices.chunks(1024) {
            self.gather(chunk, &mut batch);
            out.extend_from_slice(&batch.labels);
        }
        Some(out)
    }

    /// A freshly allocated batch of the samples at `indices`.
    fn batch(&self, indices: &[usize]) -> Batch<S> {
        let mut batch = Batch::new();
        self.gather(indices, &mut batch);
        batch
    }
}

impl<S: Scalar, D: Dataset<S> + ?Sized> Dataset<S> for &D {
    fn schema(&self) -> Schema {
        (**self).schema()
    }
    fn gather(&self, indices: &[usize], batch: &mut Batch<S>) {
        (**self).gather(indices, batch)
    }
    fn labels(&self) -> Option<Vec<usize>> {
        (**self).labels()
    }
}
