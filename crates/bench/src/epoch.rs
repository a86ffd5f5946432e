//! W8: one epoch of a real training run through descent-train's
//! [`Trainer`] on the first [`W8_IMAGES`] MNIST training images: shuffled
//! batches of [`W8_BATCH`], a random crop with zero padding 2 and
//! normalization by MNIST's mean and std on every batch, the W4 model
//! (W1's MLP with BatchNorm1d and Dropout) and AdamW.
//!
//! The PyTorch counterpart (`benches/torch_workloads.py`, `w8_epoch`) runs a
//! `DataLoader` over the same images with torchvision v2's
//! `RandomCrop(28, padding=2)` and `Normalize`, and the same model.

use crate::WorkloadId;
use crate::trainer::epoch_trainer;
use descent_augment::image::{PadMode, RandomCrop};
use descent_data::{InMemory, Normalize, Split, mnist_prefix};
use descent_nn::Sequential;
use descent_train::{Augmentation, Data, TrainConfig, Trainer};
use std::path::Path;

/// The name of W8 in the line protocol.
pub const W8_NAME: &str = "w8_epoch";
/// Images in W8's epoch (the first of MNIST's training set).
pub const W8_IMAGES: usize = 10_000;
/// W8's batch size.
pub const W8_BATCH: usize = 128;
/// W8's random-crop padding (torchvision `RandomCrop(28, padding=2)`).
pub const W8_PAD: usize = 2;
/// MNIST's customary mean and standard deviation (torchvision examples'
/// `Normalize((0.1307,), (0.3081,))`), on pixels scaled to `[0, 1]`.
pub const MNIST_MEAN_STD: (f64, f64) = (0.1307, 0.3081);

/// Reads the first [`W8_IMAGES`] MNIST training images and labels from the
/// IDX files under `dir` (the data root or the `mnist` folder itself; `.gz`
/// or raw), pixels scaled to `[0, 1]` (torchvision's
/// `ToDtype(torch.float32, scale=True)`): what W8 reads once, before any
/// timing.
///
/// # Errors
///
/// [`descent_data::Error`] when the files are missing or malformed.
pub fn w8_data(dir: &Path) -> descent_data::Result<InMemory<f32>> {
    Ok(mnist_prefix::<f32>(Split::Train, Some(dir), W8_IMAGES)?.scaled(1.0 / 255.0))
}

/// W8's trainer and data: call [`epoch`](EpochWorkload::epoch) repeatedly.
pub struct EpochWorkload {
    trainer: Trainer<f32, Sequential<f32>>,
    data: InMemory<f32>,
}

impl EpochWorkload {
    /// The W4 model and AdamW (as [`WorkloadId::W4AdamW`] builds them from
    /// `seed`) in a [`Trainer`] over `data` (see [`w8_data`]): batches of
    /// [`W8_BATCH`], shuffled with `seed`, each cropped at random after zero
    /// padding by [`W8_PAD`], then normalized by [`MNIST_MEAN_STD`].
    ///
    /// # Errors
    ///
    /// A [`descent_train::Error`] if `data` holds no images.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_bench::EpochWorkload;
    /// use descent_data::{ImageShape, InMemory};
    /// use nalgebra::DMatrix;
    ///
    /// let x = DMatrix::from_fn(300, 784, |i, j| ((i + j) % 256) as f32 / 255.0);
    /// let labels = (0..300).map(|i| i % 10).collect();
    /// let data = InMemory::classification(x, labels, 10)?.with_image(ImageShape::new(1, 28, 28))?;
    /// let mut w = EpochWorkload::new(data, 0)?;
    /// let first = w.epoch()?;
    /// assert!(first.is_finite());
    /// assert_eq!(w.steps(), 3); // 128 + 128 + 44 images
    /// assert_eq!(w.images(), 300);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(data: InMemory<f32>, seed: u64) -> descent_train::Result<Self> {
        if data.image().is_none() {
            return Err(descent_train::Error::Data {
                dataset: "train".into(),
                reason: "W8 crops images; the set has no image shape".into(),
            });
        }
        let parts = WorkloadId::W4AdamW.parts(seed);
        let (mean, std) = MNIST_MEAN_STD;
        let augmentation = Augmentation::new(RandomCrop::new(W8_PAD, PadMode::Constant(0.0))?)
            .with_normalize(Normalize::new(vec![mean], vec![std])?);
        let config = TrainConfig {
            batch_size: W8_BATCH,
            shuffle: true,
            seed,
            ..TrainConfig::default()
        };
        let trainer = epoch_trainer(parts, config)?.with_augmentation(augmentation);
        Ok(EpochWorkload { trainer, data })
    }

    /// One epoch through `Trainer::fit`; returns its mean training loss.
    pub fn epoch(&mut self) -> descent_train::Result<f64> {
        self.trainer.extend_epochs(1);
        let history = self.trainer.fit(Data::train(&self.data))?;
        Ok(history.epochs.last().map_or(f64::NAN, |e| e.train.loss))
    }

    /// Images per epoch.
    pub fn images(&self) -> usize {
        descent_data::Dataset::len(&self.data)
    }

    /// Optimizer steps taken so far.
    pub fn steps(&self) -> u64 {
        self.trainer.optimizer().steps()
    }
}
