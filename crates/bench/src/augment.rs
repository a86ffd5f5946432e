//! The issue's workload W6: random crop (padding 4) + horizontal flip +
//! brightness/contrast on 3×32×32 images, a batch at a time through
//! descent-augment's batched path. The criterion group
//! `benches/benchmarks/augment.rs` uses the same pipeline and input.

use descent_augment::image::{
    BatchConfig, ColorJitter, ColorJitterConfig, Compose, HorizontalFlip, ImageShape, PadMode,
    RandomCrop, apply_batch,
};

/// Images per timed W6 iteration.
pub const W6_BATCH: usize = 1024;

/// The shape of a W6 image.
pub const W6_DIMS: ImageShape = ImageShape { c: 3, h: 32, w: 32 };

/// Random crop with 4 pixels of zero padding, horizontal flip with
/// probability 0.5, and brightness and contrast factors in [0.8, 1.2]
/// (torchvision's ColorJitter order, drawn per sample).
pub fn augment_pipeline() -> Compose {
    let jitter = ColorJitterConfig {
        brightness: 0.2,
        contrast: 0.2,
        ..Default::default()
    };
    Compose::new(vec![
        Box::new(RandomCrop::new(4, PadMode::Constant(0.0)).expect("valid padding")),
        Box::new(HorizontalFlip::new(0.5).expect("valid probability")),
        Box::new(ColorJitter::new(jitter).expect("valid jitter ranges")),
    ])
}

/// `n` deterministic W6 images back to back (NCHW), values in [0, 1].
///
/// # Examples
///
/// ```
/// let images = descent_bench::augment_input(2);
/// assert_eq!(images.len(), 2 * 3 * 32 * 32);
/// assert!(images.iter().all(|v| (0.0..=1.0).contains(v)));
/// ```
pub fn augment_input(n: usize) -> Vec<f32> {
    (0..n * W6_DIMS.len())
        .map(|i| (i % 251) as f32 / 250.0)
        .collect()
}

/// The images a W6-family row augments: the original batch, the working
/// copy, the sample indices and the epoch, shared by [`AugmentBatch`] and
/// [`crate::AugOpBatch`].
pub(crate) struct Images {
    input: Vec<f32>,
    pub(crate) batch: Vec<f32>,
    pub(crate) indices: Vec<usize>,
    epoch: u64,
}

impl Images {
    /// `n` images of [`augment_input`], at epoch 0.
    pub(crate) fn new(n: usize) -> Self {
        let input = augment_input(n);
        Images {
            batch: input.clone(),
            input,
            indices: (0..n).collect(),
            epoch: 0,
        }
    }

    /// Copies the original images back into the batch.
    pub(crate) fn reset(&mut self) {
        self.batch.copy_from_slice(&self.input);
    }

    /// This step's settings (`BatchConfig::default()`'s thread count at the
    /// current epoch); the next call is for the next epoch, so every step
    /// draws new parameters.
    pub(crate) fn next_config(&mut self) -> BatchConfig {
        let config = BatchConfig {
            epoch: self.epoch,
            ..BatchConfig::default()
        };
        self.epoch += 1;
        config
    }
}

/// A built W6 case: [`reset`](AugmentBatch::reset) restores the input
/// (untimed), [`step`](AugmentBatch::step) augments it in place for the
/// next epoch.
pub struct AugmentBatch {
    op: Compose,
    images: Images,
}

impl AugmentBatch {
    /// A batch of `n` images.
    pub fn new(n: usize) -> Self {
        AugmentBatch {
            op: augment_pipeline(),
            images: Images::new(n),
        }
    }

    /// Images per step.
    pub fn len(&self) -> usize {
        self.images.indices.len()
    }

    /// Whether the batch holds no image.
    pub fn is_empty(&self) -> bool {
        self.images.indices.is_empty()
    }

    /// Copies the original images back into the batch.
    pub fn reset(&mut self) {
        self.images.reset();
    }

    /// Augments the batch in place with `BatchConfig::default()`'s thread
    /// count ([`descent_core::threads::num_threads`]), then moves to the
    /// next epoch so every step draws new parameters.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut w = descent_bench::AugmentBatch::new(4);
    /// w.step()?;
    /// assert_ne!(w.images(), &descent_bench::augment_input(4)[..]);
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn step(&mut self) -> descent_augment::Result<()> {
        let config = self.images.next_config();
        let Images { batch, indices, .. } = &mut self.images;
        apply_batch(&self.op, W6_DIMS, batch, indices, &config)
    }

    /// The batch as it stands.
    pub fn images(&self) -> &[f32] {
        &self.images.batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_restores_the_input_and_epochs_draw_anew() {
        let mut w = AugmentBatch::new(8);
        w.step().unwrap();
        let first = w.images().to_vec();
        w.reset();
        assert_eq!(w.images(), &augment_input(8)[..]);
        w.step().unwrap();
        assert_ne!(w.images(), &first[..], "epoch 1 draws other parameters");
        assert!(w.images().iter().all(|v| (0.0..=1.0).contains(v)));
    }
}
