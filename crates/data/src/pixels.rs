//! Shuffled pixels for the memorization experiments (Zhang et al. 2017).

use crate::{Batch, Dataset, Schema};
use descent_core::Scalar;
use rand::seq::SliceRandom;
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::marker::PhantomData;

/// Which permutation each sample's features get.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Permutation {
    /// One permutation for every sample ("shuffled pixels").
    Fixed(Vec<usize>),
    /// Sample `i` gets the permutation drawn from ChaCha8 stream `i` of this
    /// seed ("random pixels"): fixed per sample, different across samples.
    PerSample(u64),
}

/// A dataset whose feature vectors are permuted; labels pass through.
///
/// # Examples
///
/// ```
/// use descent_data::{Dataset, InMemory, ShuffledPixels};
/// use nalgebra::DMatrix;
/// use rand::SeedableRng;
///
/// let x = DMatrix::from_fn(2, 16, |i, j| (i * 16 + j) as f32);
/// let data = InMemory::classification(x, vec![0, 1], 2)?;
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
/// let shuffled = ShuffledPixels::fixed(&data, &mut rng);
/// let b = shuffled.batch(&[0, 1]);
/// // The same permutation for both images: image 1 is image 0 plus 16.
/// assert_eq!(b.features.row(1), b.features.row(0).add_scalar(16.0));
/// # Ok::<(), descent_data::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ShuffledPixels<S: Scalar, D: Dataset<S>> {
    dataset: D,
    permutation: Permutation,
    _scalar: PhantomData<fn() -> S>,
}

impl<S: Scalar, D: Dataset<S>> ShuffledPixels<S, D> {
    /// One random permutation of the features, the same for every sample
    /// (Zhang et al.'s "shuffled pixels": spatial structure is destroyed but
    /// consistently, so a network can still generalize somewhat).
    pub fn fixed(dataset: D, rng: &mut impl Rng) -> Self {
        let mut perm: Vec<usize> = (0..dataset.schema().n_features).collect();
        perm.shuffle(rng);
        ShuffledPixels {
            dataset,
            permutation: Permutation::Fixed(perm),
            _scalar: PhantomData,
        }
    }

    /// A different random permutation for each sample, fixed across epochs
    /// (Zhang et al.'s "random pixels"). Draws one seed from `rng`; sample
    /// `i`'s permutation is regenerated from it on demand, so nothing of
    /// size `N × D` is stored.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_data::{digits, Dataset, ShuffledPixels};
    /// use rand::SeedableRng;
    ///
    /// let data = digits::<f32>()?;
    /// let random = ShuffledPixels::per_sample(&data, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
    /// assert_eq!(random.batch(&[4]), random.batch(&[4])); // fixed per image
    /// # Ok::<(), descent_data::Error>(())
    /// ```
    pub fn per_sample(dataset: D, rng: &mut impl Rng) -> Self {
        ShuffledPixels {
            dataset,
            permutation: Permutation::PerSample(rng.random()),
            _scalar: PhantomData,
        }
    }

    /// A materialized copy (see [`InMemory::collect`](crate::InMemory::collect)).
    pub fn to_in_memory(&self) -> crate::InMemory<S> {
        crate::InMemory::collect(self)
    }
}

impl<S: Scalar, D: Dataset<S>> Dataset<S> for ShuffledPixels<S, D> {
    fn schema(&self) -> Schema {
        self.dataset.schema()
    }

    fn gather(&self, indices: &[usize], batch: &mut Batch<S>) {
        self.dataset.gather(indices, batch);
        let d = batch.features.ncols();
        let mut row = std::mem::take(&mut batch.row);
        let mut perm = std::mem::take(&mut batch.scratch);
        for (r, &sample) in indices.iter().enumerate() {
            let perm: &[usize] = match &self.permutation {
                Permutation::Fixed(p) => p,
                Permutation::PerSample(seed) => {
                    let mut rng = ChaCha8Rng::seed_from_u64(*seed);
                    rng.set_stream(sample as u64);
                    perm.clear();
                    perm.extend(0..d);
                    perm.shuffle(&mut rng);
                    &perm
                }
            };
            row.clear();
            row.extend(batch.features.row(r).iter().copied());
            for (j, &from) in perm.iter().enumerate() {
                batch.features[(r, j)] = row[from];
            }
        }
        batch.row = row;
        batch.scratch = perm;
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
    use rand_chacha::ChaCha8Rng;

    fn data() -> InMemory<f64> {
        let x = DMatrix::from_fn(6, 20, |i, j| (i * 100 + j) as f64);
        InMemory::classification(x, vec![0, 1, 0, 1, 0, 1], 2).unwrap()
    }

    fn sorted(v: impl Iterator<Item = f64>) -> Vec<f64> {
        let mut v: Vec<f64> = v.collect();
        v.sort_by(f64::total_cmp);
        v
    }

    #[test]
    fn per_sample_permutations_differ_across_samples_but_not_across_epochs() {
        let d = data();
        let s = ShuffledPixels::per_sample(&d, &mut ChaCha8Rng::seed_from_u64(1));
        let all: Vec<usize> = (0..6).collect();
        let b = s.batch(&all);
        assert_eq!(b, s.batch(&all), "fixed across calls");
        let again = s.batch(&[3]);
        assert_eq!(
            again.features.row(0),
            b.features.row(3),
            "independent of batch composition"
        );
        let offsets: Vec<Vec<f64>> = (0..6)
            .map(|i| {
                b.features
                    .row(i)
                    .iter()
                    .map(|v| v - 100.0 * i as f64)
                    .collect()
            })
            .collect();
        assert_ne!(offsets[0], offsets[1]);
        for i in 0..6 {
            assert_eq!(
                sorted(b.features.row(i).iter().copied()),
                sorted(d.features().row(i).iter().copied())
            );
        }
        assert_eq!(b.labels, [0, 1, 0, 1, 0, 1]);
    }

    #[test]
    fn fixed_permutation_is_shared_and_is_a_permutation() {
        let d = data();
        let s = ShuffledPixels::fixed(&d, &mut ChaCha8Rng::seed_from_u64(2));
        let b = s.to_in_memory();
        assert_ne!(b.features().row(0), d.features().row(0));
        for i in 0..6 {
            assert_eq!(
                b.features().row(i),
                b.features().row(0).add_scalar(100.0 * i as f64)
            );
        }
        assert_eq!(
            sorted(b.features().row(0).iter().copied()),
            sorted(d.features().row(0).iter().copied())
        );
    }
}
