//! `DataLoader`: shuffled mini-batches, deterministic per `(seed, epoch)`.
//!
//! Invariant: the order of epoch `e` depends only on `(seed, e)`: the
//! identity shuffled by `ChaCha8Rng::seed_from_u64(seed)` on stream `e`, so
//! resuming at an epoch replays it exactly.

use crate::ArgError;
use crate::{Batch, Dataset, Error, Result};
use descent_core::Scalar;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use std::marker::PhantomData;

/// How a [`DataLoader`] batches. `Default` is PyTorch's `DataLoader`
/// defaults: batch size 1, no shuffling, keep the last partial batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoaderConfig {
    /// Samples per batch: 1 is SGD, the dataset's length is full-batch
    /// gradient descent.
    pub batch_size: usize,
    /// Shuffle the order at the start of each epoch.
    pub shuffle: bool,
    /// Drop the last batch of an epoch when it is smaller than `batch_size`.
    pub drop_last: bool,
    /// Seed of the shuffles; epoch `e` uses ChaCha8 stream `e` of this seed.
    pub seed: u64,
}

impl Default for LoaderConfig {
    fn default() -> Self {
        LoaderConfig {
            batch_size: 1,
            shuffle: false,
            drop_last: false,
            seed: 0,
        }
    }
}

/// Iterates a dataset in mini-batches, epoch by epoch.
///
/// The order of epoch `e` is a function of `(seed, e)` only: the identity
/// permutation shuffled by `ChaCha8Rng::seed_from_u64(seed)` on stream `e`.
/// So a resumed run that calls [`set_epoch`](DataLoader::set_epoch) sees the
/// same batches as an uninterrupted one. [`next_into`](DataLoader::next_into)
/// refills one reusable [`Batch`], which allocates nothing once the batch
/// has its size.
///
/// # Examples
///
/// ```
/// use descent_data::{Batch, DataLoader, InMemory, LoaderConfig};
/// use nalgebra::DMatrix;
///
/// let data = InMemory::classification(DMatrix::<f32>::zeros(10, 2), vec![0; 10], 1)?;
/// let config = LoaderConfig { batch_size: 4, shuffle: true, seed: 7, ..Default::default() };
/// let mut loader = DataLoader::new(&data, config)?;
/// let mut batch = Batch::new();
/// for epoch in 0..2 {
///     loader.set_epoch(epoch);
///     let mut sizes = vec![];
///     while loader.next_into(&mut batch) {
///         sizes.push(batch.len());
///     }
///     assert_eq!(sizes, [4, 4, 2]);
/// }
/// # Ok::<(), descent_data::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct DataLoader<S: Scalar, D: Dataset<S>> {
    dataset: D,
    config: LoaderConfig,
    order: Vec<usize>,
    pos: usize,
    epoch: u64,
    _scalar: PhantomData<fn() -> S>,
}

impl<S: Scalar, D: Dataset<S>> DataLoader<S, D> {
    /// A loader over `dataset`, positioned at the start of epoch 0.
    ///
    /// Fails with [`Error::Arg`] when `batch_size` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_data::{DataLoader, InMemory, LoaderConfig};
    /// use nalgebra::DMatrix;
    ///
    /// let data = InMemory::classification(DMatrix::<f32>::zeros(10, 2), vec![0; 10], 1)?;
    /// let full_batch = LoaderConfig { batch_size: 10, ..Default::default() };
    /// assert_eq!(DataLoader::new(&data, full_batch)?.n_batches(), 1);
    /// let none = LoaderConfig { batch_size: 0, ..Default::default() };
    /// assert!(DataLoader::new(&data, none).is_err());
    /// # Ok::<(), descent_data::Error>(())
    /// ```
    pub fn new(dataset: D, config: LoaderConfig) -> Result<Self> {
        if config.batch_size == 0 {
            return Err(Error::Arg(ArgError::new(
                "batch_size",
                0,
                "must be at least 1",
            )));
        }
        let mut loader = DataLoader {
            order: Vec::with_capacity(dataset.len()),
            dataset,
            config,
            pos: 0,
            epoch: 0,
            _scalar: PhantomData,
        };
        loader.set_epoch(0);
        Ok(loader)
    }

    /// Starts epoch `epoch` from its first batch (any epoch, in any order).
    pub fn set_epoch(&mut self, epoch: u64) {
        self.epoch = epoch;
        self.pos = 0;
        self.order.clear();
        self.order.extend(0..self.dataset.len());
        if self.config.shuffle {
            let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
            rng.set_stream(epoch);
            self.order.shuffle(&mut rng);
        }
    }

    /// Starts epoch `epoch` at its batch `batch`: the next batch is the one
    /// an uninterrupted walk would give as that epoch's `batch`-th (how a
    /// resumed run continues mid-epoch). Past the end, the epoch is exhausted.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_data::{Batch, DataLoader, InMemory, LoaderConfig};
    /// use nalgebra::DMatrix;
    ///
    /// let data = InMemory::classification(DMatrix::<f32>::zeros(10, 2), vec![0; 10], 1)?;
    /// let config = LoaderConfig { batch_size: 3, shuffle: true, drop_last: false, seed: 4 };
    /// let mut walk = DataLoader::new(&data, config)?;
    /// walk.set_epoch(2);
    /// let third = walk.batches().nth(2).unwrap();
    /// let mut resumed = DataLoader::new(&data, config)?;
    /// resumed.set_position(2, 2);
    /// let mut batch = Batch::new();
    /// assert!(resumed.next_into(&mut batch));
    /// assert_eq!(batch.indices, third.indices);
    /// # Ok::<(), descent_data::Error>(())
    /// ```
    pub fn set_position(&mut self, epoch: u64, batch: usize) {
        self.set_epoch(epoch);
        self.pos = batch
            .saturating_mul(self.config.batch_size)
            .min(self.order.len());
    }

    /// The number of samples in batch `batch` of an epoch (the last one may
    /// be short when `drop_last` is off); 0 past the end.
    pub fn batch_len(&self, batch: usize) -> usize {
        if batch >= self.n_batches() {
            return 0;
        }
        let start = batch * self.config.batch_size;
        (self.dataset.len() - start).min(self.config.batch_size)
    }

    /// Fills `batch` with the next batch of the current epoch; `false` when
    /// the epoch is over (then `batch` is left unchanged).
    pub fn next_into(&mut self, batch: &mut Batch<S>) -> bool {
        let remaining = self.order.len() - self.pos;
        let size = remaining.min(self.config.batch_size);
        if size == 0 || (self.config.drop_last && size < self.config.batch_size) {
            return false;
        }
        let indices = &self.order[self.pos..self.pos + size];
        self.dataset.gather(indices, batch);
        self.pos += size;
        true
    }

    /// The remaining batches of the current epoch, each freshly allocated
    /// (use [`next_into`](DataLoader::next_into) on a hot path).
    pub fn batches(&mut self) -> impl Iterator<Item = Batch<S>> + '_ {
        std::iter::from_fn(move || {
            let mut batch = Batch::new();
            self.next_into(&mut batch).then_some(batch)
        })
    }

    /// The number of batches in one epoch.
    pub fn n_batches(&self) -> usize {
        let (n, b) = (self.dataset.len(), self.config.batch_size);
        if self.config.drop_last {
            n / b
        } else {
            n.div_ceil(b)
        }
    }

    /// The sample order of the current epoch.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The configuration.
    pub fn config(&self) -> &LoaderConfig {
        &self.config
    }

    /// The dataset.
    pub fn dataset(&self) -> &D {
        &self.dataset
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InMemory;
    use nalgebra::DMatrix;
    use proptest::prelude::*;

    /// A dataset whose single feature is the sample's index.
    fn indexed(n: usize) -> InMemory<f64> {
        let x = DMatrix::from_fn(n, 1, |i, _| i as f64);
        InMemory::classification(x, (0..n).map(|i| i % 3).collect(), 3).unwrap()
    }

    fn epoch_rows(loader: &mut DataLoader<f64, &InMemory<f64>>, epoch: u64) -> Vec<Vec<usize>> {
        loader.set_epoch(epoch);
        let mut batch = Batch::new();
        let mut out = vec![];
        while loader.next_into(&mut batch) {
            let rows: Vec<usize> = batch
                .features
                .column(0)
                .iter()
                .map(|&v| v as usize)
                .collect();
            assert_eq!(
                rows, batch.indices,
                "features come from the indexed samples"
            );
            out.push(rows);
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn every_sample_appears_exactly_once_per_epoch(
            n in 0usize..60, bs in 1usize..70, seed: u64, epoch in 0u64..5, shuffle: bool,
        ) {
            let data = indexed(n);
            let config = LoaderConfig { batch_size: bs, shuffle, drop_last: false, seed };
            let mut loader = DataLoader::new(&data, config).unwrap();
            let mut seen: Vec<usize> = epoch_rows(&mut loader, epoch).concat();
            seen.sort_unstable();
            prop_assert_eq!(seen, (0..n).collect::<Vec<_>>());
        }

        #[test]
        fn the_same_seed_and_epoch_give_the_same_order(
            n in 1usize..60, bs in 1usize..20, seed: u64, epoch in 0u64..1000,
        ) {
            let data = indexed(n);
            let config = LoaderConfig { batch_size: bs, shuffle: true, drop_last: false, seed };
            let mut a = DataLoader::new(&data, config).unwrap();
            let mut b = DataLoader::new(&data, config).unwrap();
            // `a` visits other epochs first: the order must not depend on history.
            epoch_rows(&mut a, epoch + 1);
            prop_assert_eq!(epoch_rows(&mut a, epoch), epoch_rows(&mut b, epoch));
        }

        #[test]
        fn batch_sizes_follow_batch_size_and_drop_last(
            n in 0usize..60, bs in 1usize..70, drop_last: bool,
        ) {
            let data = indexed(n);
            let config = LoaderConfig { batch_size: bs, shuffle: true, drop_last, seed: 1 };
            let mut loader = DataLoader::new(&data, config).unwrap();
            let sizes: Vec<usize> = epoch_rows(&mut loader, 0).iter().map(Vec::len).collect();
            let mut expected = vec![bs; n / bs];
            if !drop_last && n % bs != 0 {
                expected.push(n % bs);
            }
            prop_assert_eq!(sizes.len(), loader.n_batches());
            prop_assert_eq!(sizes, expected);
        }
    }

    #[test]
    fn different_epochs_shuffle_differently() {
        let data = indexed(50);
        let config = LoaderConfig {
            batch_size: 50,
            shuffle: true,
            ..Default::default()
        };
        let mut loader = DataLoader::new(&data, config).unwrap();
        assert_ne!(epoch_rows(&mut loader, 0), epoch_rows(&mut loader, 1));
    }

    #[test]
    fn without_shuffle_the_order_is_the_identity() {
        let data = indexed(5);
        let config = LoaderConfig {
            batch_size: 2,
            ..Default::default()
        };
        let mut loader = DataLoader::new(&data, config).unwrap();
        assert_eq!(
            epoch_rows(&mut loader, 3),
            vec![vec![0, 1], vec![2, 3], vec![4]]
        );
    }

    #[test]
    fn batch_size_one_is_sgd_and_full_size_is_full_batch() {
        let data = indexed(7);
        let sgd = DataLoader::new(
            &data,
            LoaderConfig {
                batch_size: 1,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(sgd.n_batches(), 7);
        let gd = DataLoader::new(
            &data,
            LoaderConfig {
                batch_size: 7,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(gd.n_batches(), 1);
    }

    #[test]
    fn zero_batch_size_is_rejected() {
        let data = indexed(3);
        let config = LoaderConfig {
            batch_size: 0,
            ..Default::default()
        };
        assert!(matches!(
            DataLoader::new(&data, config),
            Err(Error::Arg(ArgError {
                name: "batch_size",
                ..
            }))
        ));
    }

    #[test]
    fn batches_iterator_yields_the_same_batches_as_next_into() {
        let data = indexed(9);
        let config = LoaderConfig {
            batch_size: 4,
            shuffle: true,
            seed: 3,
            ..Default::default()
        };
        let mut loader = DataLoader::new(&data, config).unwrap();
        let via_iter: Vec<Vec<usize>> = loader.batches().map(|b| b.indices).collect();
        assert_eq!(via_iter.concat(), loader.order());
        assert_eq!(via_iter, epoch_rows(&mut loader, 0));
    }
}
