//! Label corruption for the memorization experiments (Zhang et al. 2017,
//! "Understanding deep learning requires rethinking generalization").

use crate::ArgError;
use crate::{Batch, Dataset, Error, Result, Schema};
use descent_core::Scalar;
use rand::{Rng, RngExt};
use std::marker::PhantomData;

/// A dataset with its class labels replaced; features pass through.
///
/// # Examples
///
/// ```
/// use descent_data::{Dataset, InMemory, Relabeled};
/// use nalgebra::DMatrix;
/// use rand::SeedableRng;
///
/// let labels: Vec<usize> = (0..100).map(|i| i % 10).collect();
/// let data = InMemory::classification(DMatrix::<f32>::zeros(100, 4), labels.clone(), 10)?;
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
/// let noisy = Relabeled::noisy(&data, 0.2, &mut rng)?;
/// let changed = noisy.new_labels().iter().zip(&labels).filter(|(a, b)| a != b).count();
/// assert_eq!(changed, 20);
/// # Ok::<(), descent_data::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Relabeled<S: Scalar, D: Dataset<S>> {
    dataset: D,
    labels: Vec<usize>,
    _scalar: PhantomData<fn() -> S>,
}

impl<S: Scalar, D: Dataset<S>> Relabeled<S, D> {
    /// Every label replaced by one drawn uniformly from all classes
    /// (Zhang et al.'s "random labels"; about `1/K` keep their class).
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_data::{digits, Relabeled};
    /// use rand::SeedableRng;
    ///
    /// let data = digits::<f32>()?;
    /// let random = Relabeled::random(&data, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0))?;
    /// assert!(random.new_labels().iter().all(|&l| l < 10));
    /// # Ok::<(), descent_data::Error>(())
    /// ```
    pub fn random(dataset: D, rng: &mut impl Rng) -> Result<Self> {
        let n_classes = n_classes(&dataset, "random labels")?;
        let labels = (0..dataset.len())
            .map(|_| rng.random_range(0..n_classes.max(1)))
            .collect();
        Ok(Relabeled {
            dataset,
            labels,
            _scalar: PhantomData,
        })
    }

    /// Exactly `round(p·N)` labels, chosen at random, changed to a
    /// different class drawn uniformly (Zhang et al.'s "partially corrupted
    /// labels", with every chosen label really wrong).
    pub fn noisy(dataset: D, p: f64, rng: &mut impl Rng) -> Result<Self> {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::Arg(ArgError::new("p", p, "must lie in [0, 1]")));
        }
        let n_classes = n_classes(&dataset, "noisy labels")?;
        let mut labels = dataset.labels().expect("classification checked");
        let n_noisy = (p * labels.len() as f64).round() as usize;
        if n_noisy > 0 && n_classes < 2 {
            return Err(Error::Arg(ArgError::new(
                "n_classes",
                n_classes,
                "noisy labels need at least 2 classes",
            )));
        }
        for i in rand::seq::index::sample(rng, labels.len(), n_noisy) {
            labels[i] = (labels[i] + rng.random_range(1..n_classes)) % n_classes;
        }
        Ok(Relabeled {
            dataset,
            labels,
            _scalar: PhantomData,
        })
    }

    /// The labels this view reports.
    pub fn new_labels(&self) -> &[usize] {
        &self.labels
    }
}

fn n_classes<S: Scalar, D: Dataset<S>>(dataset: &D, what: &'static str) -> Result<usize> {
    dataset
        .schema()
        .n_classes()
        .ok_or(Error::NotClassification { what })
}

impl<S: Scalar, D: Dataset<S>> Dataset<S> for Relabeled<S, D> {
    fn schema(&self) -> Schema {
        self.dataset.schema()
    }

    fn gather(&self, indices: &[usize], batch: &mut Batch<S>) {
        self.dataset.gather(indices, batch);
        batch.labels.clear();
        batch.labels.extend(indices.iter().map(|&i| self.labels[i]));
    }

    fn labels(&self) -> Option<Vec<usize>> {
        Some(self.labels.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InMemory;
    use nalgebra::DMatrix;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn data(n: usize, k: usize) -> InMemory<f32> {
        let x = DMatrix::from_fn(n, 2, |i, j| (i * 2 + j) as f32);
        InMemory::classification(x, (0..n).map(|i| i % k).collect(), k).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn noisy_changes_exactly_round_p_n_labels(
            n in 0usize..200, k in 2usize..12, p in 0.0f64..=1.0, seed: u64,
        ) {
            let d = data(n, k);
            let noisy = Relabeled::noisy(&d, p, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
            let orig = d.class_labels().unwrap();
            let changed = noisy.new_labels().iter().zip(orig).filter(|(a, b)| a != b).count();
            prop_assert_eq!(changed, (p * n as f64).round() as usize);
            prop_assert!(noisy.new_labels().iter().all(|&l| l < k));
        }
    }

    #[test]
    fn relabeled_batches_keep_features_and_report_new_labels() {
        let d = data(30, 3);
        let r = Relabeled::random(&d, &mut ChaCha8Rng::seed_from_u64(1)).unwrap();
        let b = r.batch(&[5, 7]);
        assert_eq!(b.features, d.batch(&[5, 7]).features);
        assert_eq!(b.labels, [r.new_labels()[5], r.new_labels()[7]]);
    }

    #[test]
    fn random_labels_are_deterministic_and_roughly_uniform() {
        let d = data(10_000, 10);
        let a = Relabeled::random(&d, &mut ChaCha8Rng::seed_from_u64(2)).unwrap();
        let b = Relabeled::random(&d, &mut ChaCha8Rng::seed_from_u64(2)).unwrap();
        assert_eq!(a.new_labels(), b.new_labels());
        let kept = a
            .new_labels()
            .iter()
            .zip(d.class_labels().unwrap())
            .filter(|(x, y)| x == y)
            .count();
        assert!(
            (800..1200).contains(&kept),
            "about 1/10 keep their class: {kept}"
        );
    }

    #[test]
    fn bad_fractions_and_regression_targets_are_rejected() {
        let d = data(10, 2);
        let err = Relabeled::noisy(&d, 1.5, &mut ChaCha8Rng::seed_from_u64(0)).unwrap_err();
        assert!(matches!(err, Error::Arg(ArgError { name: "p", .. })));
        let reg = InMemory::<f32>::regression(DMatrix::zeros(3, 1), DMatrix::zeros(3, 1)).unwrap();
        let err = Relabeled::random(&reg, &mut ChaCha8Rng::seed_from_u64(0)).unwrap_err();
        assert!(matches!(err, Error::NotClassification { .. }));
    }
}
