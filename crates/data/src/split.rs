//! Train / validation / test splits, stratified on request.

use crate::ArgError;
use crate::{Dataset, Error, Result, Subset};
use descent_core::Scalar;
use rand::Rng;
use rand::seq::SliceRandom;

/// Fractions of a split. The training part is what remains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitConfig {
    /// Fraction of samples for validation (default 0.1).
    pub validation: f64,
    /// Fraction of samples for testing (default 0.2).
    pub test: f64,
    /// Keep each class's proportion in every part (classification only).
    pub stratify: bool,
}

impl Default for SplitConfig {
    fn default() -> Self {
        SplitConfig {
            validation: 0.1,
            test: 0.2,
            stratify: false,
        }
    }
}

/// Disjoint sample indices of the three parts, each sorted ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splits {
    /// Training indices.
    pub train: Vec<usize>,
    /// Validation indices.
    pub validation: Vec<usize>,
    /// Test indices.
    pub test: Vec<usize>,
}

impl Splits {
    /// Splits `dataset` at random: `round(test·n)` test samples,
    /// `round(validation·n)` validation samples and the rest for training.
    /// With `stratify`, the rounding is per class, so each part keeps the
    /// class proportions.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_data::{InMemory, SplitConfig, Splits};
    /// use nalgebra::DMatrix;
    /// use rand::SeedableRng;
    ///
    /// let labels: Vec<usize> = (0..100).map(|i| usize::from(i < 20)).collect();
    /// let data = InMemory::classification(DMatrix::<f32>::zeros(100, 1), labels, 2)?;
    /// let config = SplitConfig { validation: 0.1, test: 0.2, stratify: true };
    /// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    /// let splits = Splits::new(&data, &config, &mut rng)?;
    /// assert_eq!((splits.train.len(), splits.validation.len(), splits.test.len()), (70, 10, 20));
    /// assert_eq!(splits.test.iter().filter(|&&i| i < 20).count(), 4);
    /// # Ok::<(), descent_data::Error>(())
    /// ```
    pub fn new<S: Scalar, D: Dataset<S> + ?Sized>(
        dataset: &D,
        config: &SplitConfig,
        rng: &mut impl Rng,
    ) -> Result<Self> {
        for (name, f) in [("validation", config.validation), ("test", config.test)] {
            if !(0.0..=1.0).contains(&f) {
                return Err(Error::Arg(ArgError::new(name, f, "must lie in [0, 1]")));
            }
        }
        if config.validation + config.test > 1.0 {
            return Err(Error::Arg(ArgError::new(
                "validation + test",
                config.validation + config.test,
                "must not exceed 1",
            )));
        }
        let groups: Vec<Vec<usize>> = if config.stratify {
            let labels = dataset.labels().ok_or(Error::NotClassification {
                what: "a stratified split",
            })?;
            let n_classes = dataset.schema().n_classes().unwrap_or(0);
            let mut groups = vec![Vec::new(); n_classes];
            for (i, &l) in labels.iter().enumerate() {
                groups[l].push(i);
            }
            groups
        } else {
            vec![(0..dataset.len()).collect()]
        };
        let mut splits = Splits {
            train: Vec::new(),
            validation: Vec::new(),
            test: Vec::new(),
        };
        for mut group in groups {
            group.shuffle(rng);
            let n = group.len() as f64;
            let n_test = (config.test * n).round() as usize;
            let n_val = ((config.validation * n).round() as usize).min(group.len() - n_test);
            splits.test.extend_from_slice(&group[..n_test]);
            splits
                .validation
                .extend_from_slice(&group[n_test..n_test + n_val]);
            splits.train.extend_from_slice(&group[n_test + n_val..]);
        }
        splits.train.sort_unstable();
        splits.validation.sort_unstable();
        splits.test.sort_unstable();
        Ok(splits)
    }

    /// The three parts as views of `dataset`: `(train, validation, test)`.
    #[allow(clippy::type_complexity)]
    pub fn subsets<'d, S: Scalar, D: Dataset<S>>(
        &self,
        dataset: &'d D,
    ) -> Result<(Subset<S, &'d D>, Subset<S, &'d D>, Subset<S, &'d D>)> {
        Ok((
            Subset::new(dataset, self.train.clone())?,
            Subset::new(dataset, self.validation.clone())?,
            Subset::new(dataset, self.test.clone())?,
        ))
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

    fn data(labels: Vec<usize>, n_classes: usize) -> InMemory<f32> {
        InMemory::classification(DMatrix::zeros(labels.len(), 1), labels, n_classes).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn splits_partition_the_samples(
            labels in proptest::collection::vec(0usize..4, 0..80),
            val in 0.0f64..0.5, test in 0.0f64..0.5, stratify: bool, seed: u64,
        ) {
            let d = data(labels.clone(), 4);
            let config = SplitConfig { validation: val, test, stratify };
            let s = Splits::new(&d, &config, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
            let mut all = [s.train.clone(), s.validation.clone(), s.test.clone()].concat();
            all.sort_unstable();
            prop_assert_eq!(all, (0..labels.len()).collect::<Vec<_>>());
            if stratify {
                for c in 0..4 {
                    let n_c = labels.iter().filter(|&&l| l == c).count() as f64;
                    let t_c = s.test.iter().filter(|&&i| labels[i] == c).count();
                    prop_assert_eq!(t_c, (test * n_c).round() as usize);
                }
            } else {
                prop_assert_eq!(s.test.len(), (test * labels.len() as f64).round() as usize);
            }
        }
    }

    #[test]
    fn the_same_rng_state_gives_the_same_split() {
        let d = data((0..50).map(|i| i % 2).collect(), 2);
        let c = SplitConfig::default();
        let a = Splits::new(&d, &c, &mut ChaCha8Rng::seed_from_u64(5)).unwrap();
        let b = Splits::new(&d, &c, &mut ChaCha8Rng::seed_from_u64(5)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn fractions_above_one_are_rejected() {
        let d = data(vec![0; 10], 1);
        let c = SplitConfig {
            validation: 0.6,
            test: 0.6,
            stratify: false,
        };
        let err = Splits::new(&d, &c, &mut ChaCha8Rng::seed_from_u64(0)).unwrap_err();
        assert!(matches!(
            err,
            Error::Arg(ArgError {
                name: "validation + test",
                ..
            })
        ));
    }

    #[test]
    fn stratifying_regression_targets_is_an_error() {
        let d = InMemory::<f32>::regression(DMatrix::zeros(4, 1), DMatrix::zeros(4, 1)).unwrap();
        let c = SplitConfig {
            stratify: true,
            ..Default::default()
        };
        let err = Splits::new(&d, &c, &mut ChaCha8Rng::seed_from_u64(0)).unwrap_err();
        assert!(matches!(err, Error::NotClassification { .. }));
    }

    #[test]
    fn subsets_view_the_parts() {
        let d = data((0..10).map(|i| i % 2).collect(), 2);
        let s = Splits::new(
            &d,
            &SplitConfig::default(),
            &mut ChaCha8Rng::seed_from_u64(1),
        )
        .unwrap();
        let (train, val, test) = s.subsets(&d).unwrap();
        assert_eq!((train.len(), val.len(), test.len()), (7, 1, 2));
        let b = test.batch(&[1]);
        assert_eq!(b.indices, vec![1]);
        assert_eq!(b.labels, vec![s.test[1] % 2]);
    }
}
