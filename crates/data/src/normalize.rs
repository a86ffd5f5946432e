//! Input normalization: `(x − mean_c) / std_c` per channel (torchvision's
//! `Normalize`), as a transform of a batch and as a dataset over a dataset.

use crate::ArgError;
use crate::{Batch, Dataset, Error, Result, Schema};
use descent_core::Scalar;
use std::marker::PhantomData;

/// Per-channel mean and standard deviation: `x ← (x − mean[c]) / std[c]`,
/// computed with a subtraction and a true division, like torchvision's
/// `Normalize` (`tensor.sub_(mean).div_(std)`), so results are
/// bit-identical to dividing by hand.
///
/// For image batches a channel is one of the image's `C` planes; for other
/// batches each feature is its own channel (or one pair for every feature).
///
/// # Examples
///
/// ```
/// use descent_data::{Dataset, Normalize, digits};
///
/// let data = digits::<f32>()?;
/// let norm = Normalize::fit(&data)?;           // the set's own mean and std
/// assert_eq!(norm.mean().len(), 1);            // digits are 1 × 8 × 8
/// let mut batch = data.batch(&[0, 1, 2]);
/// let x = batch.features[(0, 5)];
/// norm.apply(&mut batch)?;
/// assert_eq!(batch.features[(0, 5)], (x - norm.mean()[0] as f32) / norm.std()[0] as f32);
/// # Ok::<(), descent_data::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Normalize {
    mean: Vec<f64>,
    std: Vec<f64>,
}

impl Normalize {
    /// Normalization by `mean[c]` and `std[c]` for each channel `c`; every
    /// std must be positive and finite, every mean finite.
    pub fn new(mean: Vec<f64>, std: Vec<f64>) -> Result<Self> {
        if mean.is_empty() || mean.len() != std.len() {
            return Err(Error::Arg(ArgError::new(
                "std",
                std.len(),
                "must have one entry per mean (and at least one)",
            )));
        }
        if let Some(m) = mean.iter().find(|m| !m.is_finite()) {
            return Err(Error::Arg(ArgError::new("mean", m, "must be finite")));
        }
        if let Some(s) = std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(Error::Arg(ArgError::new(
                "std",
                s,
                "must be positive and finite",
            )));
        }
        Ok(Normalize { mean, std })
    }

    /// The per-channel mean and (population) standard deviation of every
    /// sample of `data`, accumulated in f64 (what one computes for MNIST's
    /// 0.1307 / 0.3081). A channel with no spread gets std 1.
    pub fn fit<S: Scalar>(data: &impl Dataset<S>) -> Result<Self> {
        let schema = data.schema();
        let channels = channels(&schema);
        let per = schema.n_features / channels.max(1);
        let (mut sum, mut sq, mut count) = (vec![0.0f64; channels], vec![0.0f64; channels], 0u64);
        let mut batch = Batch::new();
        let indices: Vec<usize> = (0..data.len()).collect();
        for chunk in indices.chunks(1024) {
            data.gather(chunk, &mut batch);
            for j in 0..schema.n_features {
                let c = j / per;
                for v in batch.features.column(j).iter() {
                    let v = v.as_f64();
                    sum[c] += v;
                    sq[c] += v * v;
                }
            }
            count += chunk.len() as u64;
        }
        if count == 0 {
            return Err(Error::Arg(ArgError::new(
                "data",
                0,
                "must hold at least one sample to fit",
            )));
        }
        let n = (count * per as u64) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let std = sq
            .iter()
            .zip(&mean)
            .map(|(q, m)| {
                let var = (q / n - m * m).max(0.0);
                if var > 0.0 { var.sqrt() } else { 1.0 }
            })
            .collect();
        Normalize::new(mean, std)
    }

    /// The means.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// The standard deviations.
    pub fn std(&self) -> &[f64] {
        &self.std
    }

    /// Normalizes `batch`'s features in place.
    pub fn apply<S: Scalar>(&self, batch: &mut Batch<S>) -> Result<()> {
        let d = batch.features.ncols();
        let channels = match batch.image {
            Some(shape) => shape.c,
            None => d,
        };
        let n_channels = self.mean.len();
        if n_channels != channels && n_channels != 1 {
            return Err(Error::Arg(ArgError::new(
                "mean",
                n_channels,
                "must have one entry per channel of the batch (or a single entry)",
            )));
        }
        let per = d / channels.max(1);
        for j in 0..d {
            let c = if n_channels == 1 { 0 } else { j / per };
            let (m, s) = (S::cast(self.mean[c]), S::cast(self.std[c]));
            for v in batch.features.column_mut(j).iter_mut() {
                *v = (*v - m) / s;
            }
        }
        Ok(())
    }
}

fn channels(schema: &Schema) -> usize {
    match schema.image {
        Some(shape) => shape.c,
        None => schema.n_features,
    }
}

/// A dataset whose samples come out normalized; copies nothing.
///
/// # Examples
///
/// ```
/// use descent_data::{Dataset, Normalize, Normalized, digits};
///
/// let data = digits::<f64>()?;
/// let norm = Normalize::fit(&data)?;
/// let normalized = Normalized::new(&data, norm)?;
/// let again = Normalize::fit(&normalized)?;
/// assert!(again.mean()[0].abs() < 1e-12 && (again.std()[0] - 1.0).abs() < 1e-12);
/// # Ok::<(), descent_data::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Normalized<S: Scalar, D: Dataset<S>> {
    dataset: D,
    normalize: Normalize,
    _scalar: PhantomData<fn() -> S>,
}

impl<S: Scalar, D: Dataset<S>> Normalized<S, D> {
    /// `dataset` normalized by `normalize`, whose channel count must match.
    pub fn new(dataset: D, normalize: Normalize) -> Result<Self> {
        let c = channels(&dataset.schema());
        if normalize.mean.len() != c && normalize.mean.len() != 1 {
            return Err(Error::Arg(ArgError::new(
                "mean",
                normalize.mean.len(),
                "must have one entry per channel of the dataset (or a single entry)",
            )));
        }
        Ok(Normalized {
            dataset,
            normalize,
            _scalar: PhantomData,
        })
    }
}

impl<S: Scalar, D: Dataset<S>> Dataset<S> for Normalized<S, D> {
    fn schema(&self) -> Schema {
        self.dataset.schema()
    }

    fn gather(&self, indices: &[usize], batch: &mut Batch<S>) {
        self.dataset.gather(indices, batch);
        // Channel counts were checked in `new`.
        let _ = self.normalize.apply(batch);
    }

    fn labels(&self) -> Option<Vec<usize>> {
        self.dataset.labels()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InMemory;
    use nalgebra::DMatrix;

    #[test]
    fn per_channel_is_bit_identical_to_dividing_by_hand() {
        let x = DMatrix::from_fn(3, 12, |i, j| (i * 12 + j) as f32 / 37.0);
        let data = InMemory::classification(x.clone(), vec![0, 1, 0], 2)
            .unwrap()
            .with_image(crate::ImageShape::new(3, 2, 2))
            .unwrap();
        let norm = Normalize::new(vec![0.485, 0.456, 0.406], vec![0.229, 0.224, 0.225]).unwrap();
        let b = Normalized::new(&data, norm.clone())
            .unwrap()
            .batch(&[0, 1, 2]);
        for i in 0..3 {
            for j in 0..12 {
                let c = j / 4;
                let want = (x[(i, j)] - norm.mean[c] as f32) / norm.std[c] as f32;
                assert_eq!(b.features[(i, j)].to_bits(), want.to_bits());
            }
        }
    }

    #[test]
    fn bad_statistics_are_typed_errors() {
        assert!(Normalize::new(vec![0.5], vec![0.0]).is_err());
        assert!(Normalize::new(vec![f64::NAN], vec![1.0]).is_err());
        assert!(Normalize::new(vec![0.5, 0.5], vec![1.0]).is_err());
        assert!(Normalize::new(vec![], vec![]).is_err());
        let data = InMemory::classification(DMatrix::<f32>::zeros(2, 4), vec![0, 1], 2).unwrap();
        assert!(
            Normalized::new(&data, Normalize::new(vec![0.0; 3], vec![1.0; 3]).unwrap()).is_err()
        );
        // a constant feature gets std 1 rather than a division by zero
        let fitted = Normalize::fit(&data).unwrap();
        assert!(fitted.std().iter().all(|&s| s == 1.0));
    }
}
