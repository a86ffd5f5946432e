//! `InMemory`: a dataset held as a feature matrix and its targets.

use crate::ArgError;
use crate::{Batch, Dataset, Error, ImageShape, Result, Schema, TargetKind};
use descent_core::Scalar;
use nalgebra::DMatrix;

/// The targets of an [`InMemory`] dataset.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets<S: Scalar> {
    /// Class labels in `0..n_classes`, one per sample.
    Classes {
        /// One label per sample.
        labels: Vec<usize>,
        /// The number of classes.
        n_classes: usize,
    },
    /// `N × T` real-valued targets (regression).
    Values(DMatrix<S>),
    /// One `H × W` class map per sample (segmentation), back to back.
    PixelClasses {
        /// `N·H·W` labels, sample by sample, row-major.
        maps: Vec<usize>,
        /// The number of classes.
        n_classes: usize,
    },
}

/// A dataset held in memory: an `N × D` feature matrix (row = sample) and
/// its targets.
#[derive(Debug, Clone, PartialEq)]
pub struct InMemory<S: Scalar> {
    features: DMatrix<S>,
    targets: Targets<S>,
    image: Option<ImageShape>,
}

impl<S: Scalar> InMemory<S> {
    /// A classification dataset: `features` is `N × D`, `labels` has `N`
    /// entries in `0..n_classes`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_data::{Dataset, InMemory};
    /// use nalgebra::DMatrix;
    ///
    /// let data = InMemory::classification(DMatrix::<f64>::zeros(4, 3), vec![0, 1, 2, 1], 3)?;
    /// assert_eq!(data.len(), 4);
    /// assert!(InMemory::classification(DMatrix::<f64>::zeros(2, 3), vec![0, 5], 3).is_err());
    /// # Ok::<(), descent_data::Error>(())
    /// ```
    pub fn classification(
        features: DMatrix<S>,
        labels: Vec<usize>,
        n_classes: usize,
    ) -> Result<Self> {
        if labels.len() != features.nrows() {
            return Err(Error::Arg(ArgError::new(
                "labels",
                format!("{} labels", labels.len()),
                "need one label per feature row",
            )));
        }
        if let Some(&bad) = labels.iter().find(|&&l| l >= n_classes) {
            return Err(Error::Arg(ArgError::new(
                "labels",
                bad,
                "labels must lie in 0..n_classes",
            )));
        }
        Ok(InMemory {
            features,
            targets: Targets::Classes { labels, n_classes },
            image: None,
        })
    }

    /// A segmentation dataset: `features` is `N × (C·H·W)` images of shape
    /// `image`, `maps` holds one `H × W` class map per sample (row-major,
    /// back to back), each label in `0..n_classes` or equal to
    /// `ignore_index` (VOC's 255 marks borders that are not scored).
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_data::{Dataset, ImageShape, InMemory};
    /// use nalgebra::DMatrix;
    ///
    /// let shape = ImageShape::new(1, 2, 2);
    /// let data = InMemory::segmentation(DMatrix::<f32>::zeros(2, 4), shape, vec![0, 1, 1, 0, 255, 1, 0, 0], 2, Some(255))?;
    /// assert_eq!(data.schema().pixel_classes(), Some(2));
    /// assert_eq!(data.batch(&[1]).class_maps, [255, 1, 0, 0]);
    /// assert!(InMemory::segmentation(DMatrix::<f32>::zeros(2, 4), shape, vec![0; 8], 0, None).is_err());
    /// # Ok::<(), descent_data::Error>(())
    /// ```
    pub fn segmentation(
        features: DMatrix<S>,
        image: ImageShape,
        maps: Vec<usize>,
        n_classes: usize,
        ignore_index: Option<usize>,
    ) -> Result<Self> {
        if n_classes == 0 {
            return Err(Error::Arg(ArgError::new(
                "n_classes",
                0,
                "needs at least one class",
            )));
        }
        let plane = image.h * image.w;
        if maps.len() != features.nrows() * plane {
            return Err(Error::Arg(ArgError::new(
                "maps",
                format!("{} labels", maps.len()),
                "need one H × W class map per feature row",
            )));
        }
        if let Some(&bad) = maps
            .iter()
            .find(|&&l| l >= n_classes && Some(l) != ignore_index)
        {
            return Err(Error::Arg(ArgError::new(
                "maps",
                bad,
                "labels must lie in 0..n_classes or be the ignore index",
            )));
        }
        let data = InMemory {
            features,
            targets: Targets::PixelClasses { maps, n_classes },
            image: None,
        };
        data.with_image(image)
    }

    /// A regression dataset: `features` is `N × D`, `targets` is `N × T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_data::{Dataset, InMemory};
    /// use nalgebra::DMatrix;
    ///
    /// let data = InMemory::regression(DMatrix::<f32>::zeros(5, 2), DMatrix::zeros(5, 1))?;
    /// assert_eq!(data.schema().n_classes(), None);
    /// # Ok::<(), descent_data::Error>(())
    /// ```
    pub fn regression(features: DMatrix<S>, targets: DMatrix<S>) -> Result<Self> {
        if targets.nrows() != features.nrows() {
            return Err(Error::Arg(ArgError::new(
                "targets",
                format!("{} rows", targets.nrows()),
                "need one target row per feature row",
            )));
        }
        Ok(InMemory {
            features,
            targets: Targets::Values(targets),
            image: None,
        })
    }

    /// Records that each row is an image of `dims` (`C·H·W` must equal `D`).
    pub fn with_image(mut self, dims: ImageShape) -> Result<Self> {
        if dims.len() != self.features.ncols() {
            return Err(Error::Arg(ArgError::new(
                "image",
                format!("{dims:?}"),
                "C·H·W must equal the number of feature columns",
            )));
        }
        if let Targets::PixelClasses { maps, .. } = &self.targets
            && maps.len() != self.features.nrows() * dims.h * dims.w
        {
            return Err(Error::Arg(ArgError::new(
                "image",
                format!("{dims:?}"),
                "H·W must match the class maps",
            )));
        }
        self.image = Some(dims);
        Ok(self)
    }

    /// Multiplies every feature by `factor` (e.g. `1.0 / 16.0` for digits,
    /// `1.0 / 255.0` for MNIST), in place.
    pub fn scaled(mut self, factor: S) -> Self {
        self.features *= factor;
        self
    }

    /// The `N × D` feature matrix.
    pub fn features(&self) -> &DMatrix<S> {
        &self.features
    }

    /// The targets.
    pub fn targets(&self) -> &Targets<S> {
        &self.targets
    }

    /// The class labels, for a classification dataset.
    pub fn class_labels(&self) -> Option<&[usize]> {
        match &self.targets {
            Targets::Classes { labels, .. } => Some(labels),
            Targets::Values(_) | Targets::PixelClasses { .. } => None,
        }
    }

    /// The image dimensions, for an image dataset.
    pub fn image(&self) -> Option<ImageShape> {
        self.image
    }

    /// A new dataset of the samples at `indices` (copied, in that order).
    pub fn select(&self, indices: &[usize]) -> Result<Self> {
        let len = self.features.nrows();
        if let Some(&index) = indices.iter().find(|&&i| i >= len) {
            return Err(Error::IndexOutOfRange { index, len });
        }
        let batch = self.batch(indices);
        let targets = match &self.targets {
            Targets::Classes { n_classes, .. } => Targets::Classes {
                labels: batch.labels,
                n_classes: *n_classes,
            },
            Targets::Values(_) => Targets::Values(batch.targets),
            Targets::PixelClasses { n_classes, .. } => Targets::PixelClasses {
                maps: batch.class_maps,
                n_classes: *n_classes,
            },
        };
        Ok(InMemory {
            features: batch.features,
            targets,
            image: self.image,
        })
    }

    /// Copies any dataset into memory.
    pub fn collect<D: Dataset<S> + ?Sized>(dataset: &D) -> Self {
        let indices: Vec<usize> = (0..dataset.len()).collect();
        let batch = dataset.batch(&indices);
        let schema = dataset.schema();
        let targets = match schema.targets {
            TargetKind::Classes { n_classes } => Targets::Classes {
                labels: batch.labels,
                n_classes,
            },
            TargetKind::Values { .. } => Targets::Values(batch.targets),
            TargetKind::PixelClasses { n_classes } => Targets::PixelClasses {
                maps: batch.class_maps,
                n_classes,
            },
        };
        InMemory {
            features: batch.features,
            targets,
            image: schema.image,
        }
    }
}

/// Copies `indices` rows of `src` into `dst` (already `indices.len()` rows),
/// column by column so that the writes are contiguous. Consecutive indices
/// (an unshuffled loader, evaluation) copy each column's run as one slice.
pub(crate) fn gather_rows<S: Scalar>(src: &DMatrix<S>, indices: &[usize], dst: &mut DMatrix<S>) {
    // Column by column over the contiguous column-major storage.
    let (n_src, n_dst) = (src.nrows(), dst.nrows());
    if n_src == 0 || n_dst == 0 {
        return;
    }
    let to_cols = dst.as_mut_slice().chunks_exact_mut(n_dst);
    let from_cols = src.as_slice().chunks_exact(n_src);
    match contiguous(indices) {
        Some(rows) => {
            for (from, to) in from_cols.zip(to_cols) {
                to.copy_from_slice(&from[rows.clone()]);
            }
        }
        None => {
            for (from, to) in from_cols.zip(to_cols) {
                for (t, &i) in to.iter_mut().zip(indices) {
                    *t = from[i];
                }
            }
        }
    }
}

/// `start..start + n` when `indices` are `n` consecutive values.
fn contiguous(indices: &[usize]) -> Option<std::ops::Range<usize>> {
    let start = *indices.first()?;
    let consecutive = indices
        .iter()
        .enumerate()
        .fold(true, |ok, (k, &i)| ok & (i.wrapping_sub(start) == k));
    consecutive.then(|| start..start + indices.len())
}

impl<S: Scalar> Dataset<S> for InMemory<S> {
    fn schema(&self) -> Schema {
        Schema {
            len: self.features.nrows(),
            n_features: self.features.ncols(),
            image: self.image,
            targets: match &self.targets {
                Targets::Classes { n_classes, .. } => TargetKind::Classes {
                    n_classes: *n_classes,
                },
                Targets::Values(t) => TargetKind::Values { dim: t.ncols() },
                Targets::PixelClasses { n_classes, .. } => TargetKind::PixelClasses {
                    n_classes: *n_classes,
                },
            },
        }
    }

    fn gather(&self, indices: &[usize], batch: &mut Batch<S>) {
        batch.prepare(indices, &self.schema());
        gather_rows(&self.features, indices, &mut batch.features);
        match &self.targets {
            Targets::Classes { labels, .. } => {
                batch.labels.extend(indices.iter().map(|&i| labels[i]));
            }
            Targets::Values(t) => gather_rows(t, indices, &mut batch.targets),
            Targets::PixelClasses { maps, .. } => {
                let plane = self.image.map_or(0, |d| d.h * d.w);
                for &i in indices {
                    batch
                        .class_maps
                        .extend_from_slice(&maps[i * plane..(i + 1) * plane]);
                }
            }
        }
    }

    fn labels(&self) -> Option<Vec<usize>> {
        self.class_labels().map(<[usize]>::to_vec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_copies_rows_in_index_order() {
        let x = DMatrix::from_fn(5, 3, |i, j| (10 * i + j) as f64);
        let y = DMatrix::from_fn(5, 2, |i, j| (100 * i + j) as f64);
        let data = InMemory::regression(x, y).unwrap();
        let b = data.batch(&[4, 1, 4]);
        assert_eq!(
            b.features.row(0).iter().copied().collect::<Vec<_>>(),
            [40.0, 41.0, 42.0]
        );
        assert_eq!(b.features.row(1)[2], 12.0);
        assert_eq!(b.targets.row(2)[1], 401.0);
        assert!(b.labels.is_empty());
    }

    #[test]
    fn consecutive_and_scattered_indices_gather_the_same_rows() {
        let x = DMatrix::from_fn(9, 4, |i, j| (10 * i + j) as f32);
        let data = InMemory::classification(x, (0..9).map(|i| i % 3).collect(), 3).unwrap();
        for indices in [
            &[2, 3, 4, 5][..],
            &[7],
            &[0, 1, 2, 3, 4, 5, 6, 7, 8],
            &[3, 4, 6],
            &[5, 4],
        ] {
            let b = data.batch(indices);
            for (r, &i) in indices.iter().enumerate() {
                for j in 0..4 {
                    assert_eq!(b.features[(r, j)], (10 * i + j) as f32, "{indices:?}");
                }
                assert_eq!(b.labels[r], i % 3);
            }
        }
    }

    #[test]
    fn select_rejects_out_of_range_index() {
        let data = InMemory::classification(DMatrix::<f32>::zeros(3, 1), vec![0, 0, 1], 2).unwrap();
        assert!(matches!(
            data.select(&[0, 3]),
            Err(Error::IndexOutOfRange { index: 3, len: 3 })
        ));
        assert_eq!(data.select(&[2]).unwrap().class_labels(), Some(&[1][..]));
    }

    #[test]
    fn with_image_checks_the_feature_count() {
        let data = InMemory::classification(DMatrix::<f32>::zeros(1, 12), vec![0], 1).unwrap();
        assert!(data.clone().with_image(ImageShape::new(3, 2, 2)).is_ok());
        assert!(matches!(
            data.with_image(ImageShape::new(1, 2, 2)),
            Err(Error::Arg(ArgError { name: "image", .. }))
        ));
    }
}
