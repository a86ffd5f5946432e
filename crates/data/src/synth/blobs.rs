//! Isotropic Gaussian blobs, as scikit-learn's `make_blobs`.

use super::normal;
use crate::ArgError;
use crate::{Error, InMemory, Result};
use descent_core::Scalar;
use nalgebra::DMatrix;
use rand::seq::SliceRandom;
use rand::{Rng, RngExt};

/// Arguments of [`make_blobs`]; `Default` is scikit-learn's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BlobsConfig {
    /// Total number of points (default 100).
    pub n_samples: usize,
    /// Dimension of each point (default 2).
    pub n_features: usize,
    /// Number of blobs = classes (default 3).
    pub n_centers: usize,
    /// Standard deviation of each blob (default 1).
    pub cluster_std: f64,
    /// Centres are drawn uniformly from this box in every dimension
    /// (default `(-10, 10)`).
    pub center_box: (f64, f64),
}

impl Default for BlobsConfig {
    fn default() -> Self {
        BlobsConfig {
            n_samples: 100,
            n_features: 2,
            n_centers: 3,
            cluster_std: 1.0,
            center_box: (-10.0, 10.0),
        }
    }
}

/// Gaussian blobs: centres uniform in `center_box`; blob `k` gets
/// `n / K` points (the first `n mod K` blobs one more), each its centre plus
/// `N(0, cluster_std²)` per coordinate, labelled `k`; then shuffled.
///
/// # Examples
///
/// ```
/// use descent_data::{make_blobs, BlobsConfig, Dataset};
/// use rand::SeedableRng;
///
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
/// let blobs = make_blobs::<f64>(&BlobsConfig { n_centers: 4, ..Default::default() }, &mut rng)?;
/// assert_eq!(blobs.schema().n_classes(), Some(4));
/// # Ok::<(), descent_data::Error>(())
/// ```
pub fn make_blobs<S: Scalar>(config: &BlobsConfig, rng: &mut impl Rng) -> Result<InMemory<S>> {
    let (lo, hi) = config.center_box;
    if config.n_centers == 0 {
        return Err(Error::Arg(ArgError::new(
            "n_centers",
            0,
            "must be at least 1",
        )));
    }
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(Error::Arg(ArgError::new(
            "center_box",
            format!("{:?}", config.center_box),
            "must be finite with lo < hi",
        )));
    }
    if !(config.cluster_std >= 0.0 && config.cluster_std.is_finite()) {
        return Err(Error::Arg(ArgError::new(
            "cluster_std",
            config.cluster_std,
            "must be finite and >= 0",
        )));
    }
    let (k, d) = (config.n_centers, config.n_features);
    let centers: Vec<f64> = (0..k * d).map(|_| rng.random_range(lo..hi)).collect();
    let mut points: Vec<(Vec<f64>, usize)> = Vec::with_capacity(config.n_samples);
    for c in 0..k {
        let count = config.n_samples / k + usize::from(c < config.n_samples % k);
        for _ in 0..count {
            let p = (0..d)
                .map(|j| centers[c * d + j] + config.cluster_std * normal(rng))
                .collect();
            points.push((p, c));
        }
    }
    points.shuffle(rng);
    let x = DMatrix::from_fn(points.len(), d, |i, j| S::cast(points[i].0[j]));
    InMemory::classification(x, points.iter().map(|p| p.1).collect(), k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn blob_sizes_follow_sklearn_and_points_cluster() {
        let c = BlobsConfig {
            n_samples: 10,
            n_centers: 3,
            cluster_std: 0.0,
            ..Default::default()
        };
        let b = make_blobs::<f64>(&c, &mut ChaCha8Rng::seed_from_u64(3)).unwrap();
        let labels = b.class_labels().unwrap();
        let sizes: Vec<usize> = (0..3)
            .map(|k| labels.iter().filter(|&&l| l == k).count())
            .collect();
        assert_eq!(sizes, [4, 3, 3]);
        // With zero spread every point of a blob is its centre.
        for i in 0..10 {
            for j in 0..10 {
                if labels[i] == labels[j] {
                    assert_eq!(b.features().row(i), b.features().row(j));
                }
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_blobs() {
        let c = BlobsConfig::default();
        let a = make_blobs::<f32>(&c, &mut ChaCha8Rng::seed_from_u64(8)).unwrap();
        assert_eq!(
            a,
            make_blobs::<f32>(&c, &mut ChaCha8Rng::seed_from_u64(8)).unwrap()
        );
    }
}
