//! Where data meets the tape: a [`Batch`] becomes a tape input in one call,
//! and image augmentation (per-sample ops, MixUp, CutMix) applies to a batch
//! as it is.

use crate::{Error, Result};
use descent_augment::image::{
    BatchConfig, CutMix, ImageAugment, MixBatch, MixUp, apply_batch, apply_batch_with_masks,
};
use descent_autodiff::{Tape, Var};
use descent_core::{ImageShape, Scalar};
use descent_data::{Batch, Normalize};

/// The batch's features as a constant on `tape`: an image input (shape
/// recorded, ready for `conv2d`) when the batch holds images, a plain matrix
/// otherwise.
///
/// # Examples
///
/// ```
/// use descent_autodiff::Tape;
/// use descent_data::{Dataset, digits};
///
/// let data = digits::<f32>()?;
/// let batch = data.batch(&[0, 1, 2]);
/// let tape = Tape::new();
/// let x = descent_train::input(&tape, &batch);
/// assert_eq!(x.shape(), (3, 64));
/// # Ok::<(), descent_data::Error>(())
/// ```
pub fn input<'t, S: Scalar>(tape: &'t Tape<S>, batch: &Batch<S>) -> Var<'t, S> {
    match batch.image {
        Some(shape) => tape.constant_image(&batch.features, shape),
        None => tape.constant(&batch.features),
    }
}

/// Like [`input`], but the features move to the tape instead of being
/// copied: `batch` keeps its labels, targets and indices, and holds a
/// recycled features buffer of the same shape with stale contents until it
/// is refilled (by the loader, before the next micro-batch).
pub(crate) fn input_moved<'t, S: Scalar>(tape: &'t Tape<S>, batch: &mut Batch<S>) -> Var<'t, S> {
    tape.constant_swap(&mut batch.features, batch.image)
}

/// Batch-level mixing of images and labels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mix {
    /// MixUp (Zhang et al. 2018).
    MixUp(MixUp),
    /// CutMix (Yun et al. 2019).
    CutMix(CutMix),
}

/// Image augmentation of a training batch: a per-sample op (any
/// [`ImageAugment`], e.g. a `Compose` of crop, flip and colour jitter), then
/// optionally MixUp or CutMix, which turn the labels into soft targets.
///
/// A sample's augmentation is keyed by `(seed, epoch, dataset index)`, so it
/// is the same on any thread count and after a resume.
///
/// On a segmentation batch (one with `class_maps`), each sample's class map
/// gets the same draw as its image: geometric ops move it by nearest
/// neighbour, pixels from outside the image take
/// [`mask_fill`](Augmentation::mask_fill) (0 by default, as torchvision;
/// set it to the loss's ignore index to leave them unscored), photometric
/// ops leave it alone.
pub struct Augmentation {
    op: Option<Box<dyn ImageAugment>>,
    mix: Option<Mix>,
    mask_fill: usize,
    normalize: Option<Normalize>,
    images: Vec<f32>,
    targets: Vec<f32>,
}

impl std::fmt::Debug for Augmentation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Augmentation")
            .field("op", &self.op.is_some())
            .field("mix", &self.mix)
            .field("normalize", &self.normalize)
            .finish()
    }
}

impl Augmentation {
    /// Per-sample augmentation by `op`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{Compose, HorizontalFlip, PadMode, RandomCrop};
    /// use descent_train::Augmentation;
    ///
    /// let ops = Compose::new(vec![
    ///     Box::new(RandomCrop::new(2, PadMode::Constant(0.0))?),
    ///     Box::new(HorizontalFlip::new(0.5)?),
    /// ]);
    /// let aug = Augmentation::new(ops);
    /// assert!(!aug.mixes());
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(op: impl ImageAugment + 'static) -> Self {
        Augmentation {
            op: Some(Box::new(op)),
            mix: None,
            mask_fill: 0,
            normalize: None,
            images: Vec::new(),
            targets: Vec::new(),
        }
    }

    /// Only batch mixing, no per-sample op.
    pub fn mix_only(mix: Mix) -> Self {
        Augmentation {
            op: None,
            mix: Some(mix),
            mask_fill: 0,
            normalize: None,
            images: Vec::new(),
            targets: Vec::new(),
        }
    }

    /// Adds MixUp or CutMix after the per-sample op.
    pub fn with_mix(mut self, mix: Mix) -> Self {
        self.mix = Some(mix);
        self
    }

    /// Sets the label of class-map pixels that come from outside the image
    /// (e.g. the loss's `ignore_index`, 255 for VOC).
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::HorizontalFlip;
    /// use descent_train::Augmentation;
    ///
    /// let aug = Augmentation::new(HorizontalFlip::new(0.5)?).mask_fill(255);
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn mask_fill(mut self, fill: usize) -> Self {
        self.mask_fill = fill;
        self
    }

    /// Normalizes every augmented batch last, per channel (torchvision's
    /// `Compose([..., RandomCrop(28, padding=2), Normalize(mean, std)])`):
    /// the ops see pixels in `[0, 1]` (a crop's zero padding is black, not
    /// the mean), the model sees normalized ones. The values are those of
    /// [`Normalize::apply`] on the augmented batch, bit for bit. Evaluation
    /// batches are not augmented: normalize them with
    /// [`Normalized`](descent_data::Normalized).
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{PadMode, RandomCrop};
    /// use descent_data::Normalize;
    /// use descent_train::Augmentation;
    ///
    /// let norm = Normalize::new(vec![0.1307], vec![0.3081])?;
    /// let aug = Augmentation::new(RandomCrop::new(2, PadMode::Constant(0.0))?).with_normalize(norm);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_normalize(mut self, normalize: Normalize) -> Self {
        self.normalize = Some(normalize);
        self
    }

    /// Whether batches come out with soft targets.
    pub fn mixes(&self) -> bool {
        self.mix.is_some()
    }

    /// Augments `batch` in place (features, and with mixing, `targets` as
    /// `N × n_classes` soft targets; then the normalization, if any);
    /// returns whether the targets are soft. A normalization whose channel
    /// count does not fit the batch's images is an error.
    pub fn apply<S: Scalar>(
        &mut self,
        batch: &mut Batch<S>,
        n_classes: Option<usize>,
        seed: u64,
        epoch: u64,
    ) -> Result<bool> {
        let shape = batch.image.ok_or_else(|| Error::Data {
            dataset: "train".into(),
            reason: "image augmentation needs image batches (the dataset has no image shape)"
                .into(),
        })?;
        if self.mix.is_some() && !batch.class_maps.is_empty() {
            return Err(Error::Data {
                dataset: "train".into(),
                reason: "MixUp and CutMix do not mix class maps; use them on classification sets"
                    .into(),
            });
        }
        self.gather_images(batch, shape);
        if let Some(op) = &self.op {
            let config = BatchConfig {
                seed,
                epoch,
                ..BatchConfig::default()
            };
            if batch.class_maps.is_empty() {
                apply_batch(
                    op.as_ref(),
                    shape,
                    &mut self.images,
                    &batch.indices,
                    &config,
                )?;
            } else {
                apply_batch_with_masks(
                    op.as_ref(),
                    shape,
                    &mut self.images,
                    &mut batch.class_maps,
                    self.mask_fill,
                    &batch.indices,
                    &config,
                )?;
            }
        }
        let mut soft = false;
        if let Some(mix) = &self.mix {
            let n_classes = n_classes.ok_or_else(|| Error::Data {
                dataset: "train".into(),
                reason: "MixUp and CutMix need class labels".into(),
            })?;
            self.targets.clear();
            self.targets.resize(batch.len() * n_classes, 0.0);
            let to_mix = MixBatch {
                images: &mut self.images,
                shape,
                labels: &batch.labels,
                n_classes,
                targets: &mut self.targets,
                seed,
                epoch,
                indices: &batch.indices,
            };
            match mix {
                Mix::MixUp(m) => m.apply(to_mix)?,
                Mix::CutMix(m) => m.apply(to_mix)?,
            };
            let n = batch.len();
            let t = &self.targets;
            batch.targets.resize_mut(n, n_classes, S::zero());
            for i in 0..n {
                for c in 0..n_classes {
                    batch.targets[(i, c)] = S::cast(f64::from(t[i * n_classes + c]));
                }
            }
            soft = true;
        }
        self.scatter_images(batch, shape);
        if let Some(norm) = &self.normalize {
            norm.apply(batch)?;
        }
        Ok(soft)
    }

    /// Copies the batch's rows (samples, strided in the column-major matrix)
    /// into contiguous NCHW images.
    fn gather_images<S: Scalar>(&mut self, batch: &Batch<S>, shape: ImageShape) {
        let (n, d) = (batch.len(), shape.len());
        self.images.clear();
        self.images.resize(n * d, 0.0);
        let f = &batch.features;
        for j in 0..d {
            let col = f.column(j);
            for i in 0..n {
                self.images[i * d + j] = col[i].as_f64() as f32;
            }
        }
    }

    fn scatter_images<S: Scalar>(&self, batch: &mut Batch<S>, shape: ImageShape) {
        let (n, d) = (batch.len(), shape.len());
        for j in 0..d {
            let mut col = batch.features.column_mut(j);
            for i in 0..n {
                col[i] = S::cast(f64::from(self.images[i * d + j]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_augment::image::{PadMode, RandomCrop};
    use descent_data::{Dataset, InMemory};
    use nalgebra::DMatrix;

    fn images(c: usize) -> InMemory<f32> {
        let d = c * 16;
        let x = DMatrix::from_fn(5, d, |i, j| ((i * d + j) % 13) as f32 / 12.0);
        InMemory::classification(x, vec![0, 1, 2, 0, 1], 3)
            .unwrap()
            .with_image(ImageShape::new(c, 4, 4))
            .unwrap()
    }

    fn crop() -> RandomCrop {
        RandomCrop::new(2, PadMode::Constant(0.0)).unwrap()
    }

    #[test]
    fn normalizing_after_the_ops_is_normalize_apply_on_the_augmented_batch() {
        let data = images(1);
        let norm = Normalize::new(vec![0.1307], vec![0.3081]).unwrap();
        let mut plain = data.batch(&[4, 0, 2]);
        let mut normalized = plain.clone();
        Augmentation::new(crop())
            .apply(&mut plain, Some(3), 7, 1)
            .unwrap();
        norm.apply(&mut plain).unwrap();
        Augmentation::new(crop())
            .with_normalize(norm)
            .apply(&mut normalized, Some(3), 7, 1)
            .unwrap();
        let bits = |b: &Batch<f32>| b.features.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&plain), bits(&normalized));
        // The crop padded with black before normalizing: (0 − mean) / std occurs.
        let black = (0.0 - 0.1307f64 as f32) / 0.3081f64 as f32;
        assert!(normalized.features.iter().any(|&v| v == black));
    }

    #[test]
    fn a_normalization_for_other_channels_is_an_error() {
        let data = images(2);
        let mut batch = data.batch(&[0, 1]);
        let norm = Normalize::new(vec![0.5; 3], vec![0.25; 3]).unwrap();
        let err = Augmentation::new(crop())
            .with_normalize(norm)
            .apply(&mut batch, Some(3), 0, 0)
            .unwrap_err();
        assert!(err.to_string().contains("mean"), "{err}");
    }
}
