//! `Batch`: the reusable buffer a loader fills.

use crate::{ImageShape, Schema, TargetKind};
use descent_core::Scalar;
use nalgebra::DMatrix;

/// A mini-batch: what the rest of descent consumes.
///
/// `features` is `N × D` (row = sample; images flattened `C·H·W` row-major,
/// with the dimensions in `image`). Classification batches fill `labels` and
/// leave `targets` with zero columns; regression batches fill the `N × T`
/// `targets` and leave `labels` empty. A batch is meant to be reused: filling
/// it again with the same row count allocates nothing.
#[derive(Debug, Clone)]
pub struct Batch<S: Scalar> {
    /// `N × D` features, one sample per row.
    pub features: DMatrix<S>,
    /// Class labels, one per row (classification only).
    pub labels: Vec<usize>,
    /// `N × T` real-valued targets (regression only; `N × 0` otherwise).
    pub targets: DMatrix<S>,
    /// Per-pixel class labels (segmentation only): one `H × W` class map
    /// per row, row-major, back to back (`N·H·W` entries, PyTorch's `N × H ×
    /// W` target); empty otherwise.
    pub class_maps: Vec<usize>,
    /// The dataset index of each row.
    pub indices: Vec<usize>,
    /// `(C, H, W)` when the features are images.
    pub image: Option<ImageShape>,
    /// Scratch indices for dataset wrappers (subsets, pixel permutations).
    pub(crate) scratch: Vec<usize>,
    /// Scratch values for dataset wrappers that rearrange a row.
    pub(crate) row: Vec<S>,
}

/// Equal when the public contents are; scratch space is ignored.
impl<S: Scalar> PartialEq for Batch<S> {
    fn eq(&self, other: &Self) -> bool {
        self.features == other.features
            && self.labels == other.labels
            && self.targets == other.targets
            && self.class_maps == other.class_maps
            && self.indices == other.indices
            && self.image == other.image
    }
}

impl<S: Scalar> Default for Batch<S> {
    fn default() -> Self {
        Batch {
            features: DMatrix::zeros(0, 0),
            labels: Vec::new(),
            targets: DMatrix::zeros(0, 0),
            class_maps: Vec::new(),
            indices: Vec::new(),
            image: None,
            scratch: Vec::new(),
            row: Vec::new(),
        }
    }
}

impl<S: Scalar> Batch<S> {
    /// An empty batch, to be filled by [`Dataset::gather`](crate::Dataset::gather)
    /// or [`DataLoader::next_into`](crate::DataLoader::next_into).
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_data::Batch;
    ///
    /// let batch = Batch::<f32>::new();
    /// assert_eq!(batch.len(), 0);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of samples (rows).
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether the batch holds no samples.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// Shapes the buffers for `indices` under `schema` and records the
    /// indices, reallocating only when a shape changes. Contents are left
    /// for the dataset to overwrite; `labels` is cleared.
    pub fn prepare(&mut self, indices: &[usize], schema: &Schema) {
        let n = indices.len();
        if self.features.shape() != (n, schema.n_features) {
            self.features.resize_mut(n, schema.n_features, S::zero());
        }
        let t = match schema.targets {
            TargetKind::Classes { .. } | TargetKind::PixelClasses { .. } => 0,
            TargetKind::Values { dim } => dim,
        };
        if self.targets.shape() != (n, t) {
            self.targets.resize_mut(n, t, S::zero());
        }
        self.labels.clear();
        self.class_maps.clear();
        self.indices.clear();
        self.indices.extend_from_slice(indices);
        self.image = schema.image;
    }
}
