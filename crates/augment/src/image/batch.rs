//! Batch application: per-sample parameters, split across descent's threads.

use super::{DrawnParams, ImageAugment, ImageShape, check_len};
use crate::{Result, SampleKey};
use descent_core::Parallelism;

/// The fewest images a batch gives a thread unless told otherwise (64):
/// [`BatchConfig::default`] and [`BatchConfig::new`] start from
/// `Parallelism::with_min_per_thread(MIN_IMAGES_PER_THREAD)`.
pub const MIN_IMAGES_PER_THREAD: usize = 64;

/// Which draws a batch gets (`seed`, `epoch`) and how it is split across
/// threads (`parallelism`, core's one thread-split type, here counted in
/// images). The split never changes the result.
///
/// # Examples
///
/// ```
/// use descent_augment::image::{BatchConfig, MIN_IMAGES_PER_THREAD};
///
/// let config = BatchConfig::new(7, 2).with_threads(1);
/// assert_eq!((config.seed, config.epoch, config.threads()), (7, 2, 1));
/// assert_eq!(config.min_images_per_thread(), MIN_IMAGES_PER_THREAD);
/// // The same, as a struct literal.
/// let same = BatchConfig { seed: 7, epoch: 2, ..BatchConfig::default() }.with_threads(1);
/// assert_eq!(same, config);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchConfig {
    /// The run's seed.
    pub seed: u64,
    /// The epoch.
    pub epoch: u64,
    /// How the batch is cut across threads, in images: at most
    /// `parallelism.threads` pieces, each of at least
    /// `parallelism.min_per_thread` images (default: descent's
    /// process-wide setting, [`descent_core::threads::num_threads`]
    /// (`DESCENT_NUM_THREADS`, else the available cores), read when the
    /// config is built, and [`MIN_IMAGES_PER_THREAD`]). The pieces run on
    /// descent's pool ([`descent_core::threads::install`]), so no more than
    /// that setting run at once.
    pub parallelism: Parallelism,
}

impl BatchConfig {
    /// Seed `seed`, epoch `epoch`, [`descent_core::threads::num_threads`]
    /// threads and at least [`MIN_IMAGES_PER_THREAD`] images per thread.
    pub fn new(seed: u64, epoch: u64) -> Self {
        BatchConfig {
            seed,
            epoch,
            parallelism: Parallelism::with_min_per_thread(MIN_IMAGES_PER_THREAD),
        }
    }

    /// The same config cut for at most `threads` threads (0 counts as 1).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.parallelism.threads = threads;
        self
    }

    /// The same config starting a thread only per `min` images (0 counts
    /// as 1).
    pub fn with_min_images_per_thread(mut self, min: usize) -> Self {
        self.parallelism.min_per_thread = min;
        self
    }

    /// The same config split as `parallelism` says.
    pub fn with_parallelism(mut self, parallelism: Parallelism) -> Self {
        self.parallelism = parallelism;
        self
    }

    /// The most threads the batch is cut for (`parallelism.threads`).
    pub fn threads(&self) -> usize {
        self.parallelism.threads
    }

    /// A thread is started only per this many images
    /// (`parallelism.min_per_thread`).
    pub fn min_images_per_thread(&self) -> usize {
        self.parallelism.min_per_thread
    }
}

impl Default for BatchConfig {
    /// Seed 0, epoch 0, [`descent_core::threads::num_threads`] threads and
    /// at least [`MIN_IMAGES_PER_THREAD`] (64) images per thread.
    fn default() -> Self {
        BatchConfig::new(0, 0)
    }
}

/// Augments `N` images stored back to back (NCHW) in place; sample `i` is
/// keyed by `(seed, epoch, indices[i])`, so the result does not depend on
/// the thread count or on where a sample sits in the batch.
///
/// Allocates one image-sized scratch buffer per thread per call.
///
/// # Examples
///
/// ```
/// use descent_augment::image::{apply_batch, BatchConfig, ImageShape, HorizontalFlip};
///
/// let dims = ImageShape::new(3, 8, 8);
/// let mut batch = vec![0.5f32; 4 * dims.len()];
/// apply_batch(&HorizontalFlip::new(0.5)?, dims, &mut batch, &[10, 11, 12, 13], &BatchConfig::default())?;
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn apply_batch(
    op: &dyn ImageAugment,
    dims: ImageShape,
    batch: &mut [f32],
    indices: &[usize],
    config: &BatchConfig,
) -> Result<()> {
    check_len("batch", indices.len() * dims.len(), batch.len())?;
    let n = indices.len();
    let threads = config.parallelism.threads_for(n);
    let run = |chunk: &mut [f32], idx: &[usize]| {
        let mut scratch = Vec::with_capacity(dims.len());
        if dims.is_empty() {
            return;
        }
        for (img, &i) in chunk.chunks_exact_mut(dims.len()).zip(idx) {
            let key = SampleKey::new(config.seed, config.epoch, i as u64);
            // Lengths were checked above.
            let _ = op.apply(key, dims, img, &mut scratch);
        }
    };
    if threads == 1 {
        run(batch, indices);
        return Ok(());
    }
    let per = n.div_ceil(threads);
    // A pool (descent's, so at most `num_threads` run at once), not threads
    // spawned per call (whose stacks' unmapping interrupts every core to
    // flush its TLB).
    let run = &run;
    descent_core::threads::install(|| {
        rayon::scope(|s| {
            for (chunk, idx) in batch.chunks_mut(per * dims.len()).zip(indices.chunks(per)) {
                s.spawn(move |_| run(chunk, idx));
            }
        })
    });
    Ok(())
}

/// The parameters [`apply_batch`] draws for each sample of a batch, in batch
/// order: sample `i` gets `op.params(SampleKey::new(seed, epoch,
/// indices[i]), dims)`. The log is plain serde data (`Vec<Vec<DrawnParams>>`), so
/// it can be written out (JSON, say) and replayed with [`replay_batch`].
///
/// # Examples
///
/// ```
/// use descent_augment::image::{apply_batch, batch_params, replay_batch, BatchConfig, ImageShape, HorizontalFlip};
///
/// let dims = ImageShape::new(1, 2, 2);
/// let op = HorizontalFlip::new(0.5)?;
/// let config = BatchConfig { seed: 4, ..Default::default() };
/// let indices = [3, 1, 4];
/// let mut a: Vec<f32> = (0..12).map(|i| i as f32 / 12.0).collect();
/// let mut b = a.clone();
/// apply_batch(&op, dims, &mut a, &indices, &config)?;
/// let log = batch_params(&op, dims, &indices, &config);
/// let json = serde_json::to_string(&log).unwrap();
/// let log: Vec<Vec<descent_augment::image::DrawnParams>> = serde_json::from_str(&json).unwrap();
/// replay_batch(&log, dims, &mut b)?;
/// assert_eq!(a, b);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn batch_params(
    op: &dyn ImageAugment,
    dims: ImageShape,
    indices: &[usize],
    config: &BatchConfig,
) -> Vec<Vec<DrawnParams>> {
    indices
        .iter()
        .map(|&i| op.params(SampleKey::new(config.seed, config.epoch, i as u64), dims))
        .collect()
}

/// Applies a log from [`batch_params`] to a batch (`log.len()` images back
/// to back): the same bits as the [`apply_batch`] call that drew it. The
/// length and every entry are checked first ([`DrawnParams::check`]); on an
/// error the batch is unchanged.
pub fn replay_batch(log: &[Vec<DrawnParams>], dims: ImageShape, batch: &mut [f32]) -> Result<()> {
    check_len("batch", log.len() * dims.len(), batch.len())?;
    for p in log.iter().flatten() {
        p.check(dims)?;
    }
    if dims.is_empty() {
        return Ok(());
    }
    let mut scratch = Vec::with_capacity(dims.len());
    for (img, params) in batch.chunks_exact_mut(dims.len()).zip(log) {
        for p in params {
            p.apply(dims, img, &mut scratch);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{
        ColorJitter, ColorJitterConfig, Compose, HorizontalFlip, PadMode, RandomAffine, RandomCrop,
    };
    use proptest::prelude::*;

    fn pipeline() -> Compose {
        let jitter = ColorJitterConfig {
            brightness: 0.4,
            contrast: 0.4,
            saturation: 0.4,
            hue: 0.1,
        };
        Compose::new(vec![
            Box::new(RandomCrop::new(4, PadMode::Reflect).unwrap()),
            Box::new(HorizontalFlip::new(0.5).unwrap()),
            Box::new(RandomAffine::rotation(20.0, 0.0).unwrap()),
            Box::new(ColorJitter::new(jitter).unwrap()),
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(8))]

        #[test]
        fn one_and_two_threads_give_identical_bits(seed in 0u64..1000, epoch in 0u64..5, n in 1usize..40) {
            let dims = ImageShape::new(3, 8, 8);
            let data: Vec<f32> = (0..n * dims.len()).map(|i| (i % 97) as f32 / 96.0).collect();
            let indices: Vec<usize> = (0..n).map(|i| 1000 + 7 * i).collect();
            let one = BatchConfig::new(seed, epoch).with_threads(1);
            let two = one.with_parallelism(Parallelism { threads: 2, min_per_thread: 1 });
            let (mut a, mut b) = (data.clone(), data.clone());
            apply_batch(&pipeline(), dims, &mut a, &indices, &one).unwrap();
            apply_batch(&pipeline(), dims, &mut b, &indices, &two).unwrap();
            prop_assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
            // Sample order does not matter either: the last sample alone gives the same image.
            let last = &data[(n - 1) * dims.len()..];
            let mut c = last.to_vec();
            apply_batch(&pipeline(), dims, &mut c, &indices[n - 1..], &one).unwrap();
            prop_assert_eq!(&c[..], &a[(n - 1) * dims.len()..]);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(8))]

        #[test]
        fn a_logged_batch_replays_to_the_same_bits(seed in 0u64..1000, n in 1usize..12) {
            let dims = ImageShape::new(3, 8, 8);
            let data: Vec<f32> = (0..n * dims.len()).map(|i| (i % 89) as f32 / 88.0).collect();
            let indices: Vec<usize> = (0..n).map(|i| 5 * i + 2).collect();
            let config = BatchConfig::new(seed, 1).with_threads(1);
            let mut a = data.clone();
            apply_batch(&pipeline(), dims, &mut a, &indices, &config).unwrap();
            let log = batch_params(&pipeline(), dims, &indices, &config);
            let json = serde_json::to_string(&log).unwrap();
            let back: Vec<Vec<DrawnParams>> = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&back, &log);
            let mut b = data.clone();
            replay_batch(&back, dims, &mut b).unwrap();
            prop_assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
            prop_assert!(replay_batch(&back, dims, &mut b[1..]).is_err());
        }
    }

    #[test]
    fn the_default_thread_count_is_descents_process_wide_setting() {
        descent_core::threads::set_num_threads(3);
        let threads = BatchConfig::default().threads();
        descent_core::threads::set_num_threads(0);
        assert_eq!(threads, 3);
        assert_eq!(
            BatchConfig::default().threads(),
            descent_core::threads::num_threads()
        );
    }

    #[test]
    fn the_builders_set_the_one_parallelism() {
        let config = BatchConfig::new(3, 4);
        assert_eq!((config.seed, config.epoch), (3, 4));
        assert_eq!(config.min_images_per_thread(), 64);
        assert_eq!(
            BatchConfig::default().min_images_per_thread(),
            MIN_IMAGES_PER_THREAD
        );
        let config = config.with_threads(5).with_min_images_per_thread(8);
        assert_eq!(
            config.parallelism,
            Parallelism {
                threads: 5,
                min_per_thread: 8
            }
        );
        assert_eq!((config.threads(), config.min_images_per_thread()), (5, 8));
        let p = Parallelism {
            threads: 2,
            min_per_thread: 1,
        };
        assert_eq!(BatchConfig::new(3, 4).with_parallelism(p).parallelism, p);
        // 100 images at 64 per thread: one thread, whatever the count.
        assert_eq!(
            config
                .with_min_images_per_thread(64)
                .parallelism
                .threads_for(100),
            1
        );
    }

    #[test]
    fn a_wrong_batch_length_is_an_error() {
        let dims = ImageShape::new(1, 2, 2);
        let err = apply_batch(
            &pipeline(),
            dims,
            &mut [0.0; 7],
            &[0, 1],
            &BatchConfig::default(),
        );
        assert!(matches!(
            err,
            Err(crate::Error::ShapeMismatch {
                expected: 8,
                got: 7,
                ..
            })
        ));
    }
}
