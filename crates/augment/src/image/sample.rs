//! A [`Sample`]: an image with the targets that move with it — a
//! segmentation [`Mask`] and [`Boxes`] — augmented by **one** draw of an
//! op's parameters applied to all three (torchvision v2 passes
//! `(image, tv_tensors.Mask, tv_tensors.BoundingBoxes)` through one
//! transform the same way). The draw is counter-based
//! ([`ImageAugment::params`]), so the image part is bit for bit what
//! [`ImageAugment::apply`] and [`apply_batch`](super::apply_batch) give
//! for the same key.

use super::functional::Image;
use super::mask::{self, MaskScratch, check_mask_planes, check_same_plane};
use super::{
    BatchConfig, Boxes, DrawnParams, ImageAugment, ImageShape, Mask, SanitizeConfig, check_len,
};
use crate::ArgError;
use crate::{Error, OpCtx, Result, SampleKey};

/// An image (`C × H × W`, f32 as the pipeline) with an optional mask of the
/// same height and width and optional boxes on its canvas.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::Image;
/// use descent_augment::image::{BoxFormat, Boxes, HorizontalFlip, ImageShape, Mask, Sample};
/// use descent_augment::SampleKey;
///
/// let image = Image::new(ImageShape::new(1, 2, 4), vec![0.0f32, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0])?;
/// let mut s = Sample::new(image)
///     .with_mask(Mask::new(2, 4, vec![0, 0, 0, 1, 0, 0, 0, 1])?)?
///     .with_boxes(Boxes::new(BoxFormat::Xyxy, [2, 4], vec![[3.0, 0.0, 4.0, 2.0]])?.with_labels(vec![1])?)?;
/// s.augment(&HorizontalFlip::new(1.0)?, SampleKey::new(0, 0, 0), &mut Vec::new())?;
/// assert_eq!(s.image().data()[0], 1.0);
/// assert_eq!(s.mask().unwrap().data()[0], 1);
/// assert_eq!(s.boxes().unwrap().coords(), [[0.0, 0.0, 1.0, 2.0]]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    image: Image<f32>,
    mask: Option<Mask>,
    boxes: Option<Boxes>,
}

impl Sample {
    /// A sample with an image and no targets yet.
    pub fn new(image: Image<f32>) -> Self {
        Sample {
            image,
            mask: None,
            boxes: None,
        }
    }

    /// This sample with a mask, which must have the image's height and
    /// width ([`Error::Arg`] otherwise).
    pub fn with_mask(mut self, mask: Mask) -> Result<Self> {
        check_same_plane(self.image.dims(), mask.dims())?;
        self.mask = Some(mask);
        Ok(self)
    }

    /// This sample with boxes, whose canvas must be the image's `[H, W]`
    /// ([`Error::Arg`] otherwise).
    pub fn with_boxes(mut self, boxes: Boxes) -> Result<Self> {
        let dims = self.image.dims();
        if boxes.canvas() != [dims.h, dims.w] {
            return Err(Error::Arg(ArgError::new(
                "boxes",
                format!("canvas {:?}", boxes.canvas()),
                "must be the image's [H, W]",
            )));
        }
        self.boxes = Some(boxes);
        Ok(self)
    }

    /// The image.
    pub fn image(&self) -> &Image<f32> {
        &self.image
    }

    /// The mask, if any.
    pub fn mask(&self) -> Option<&Mask> {
        self.mask.as_ref()
    }

    /// The boxes, if any.
    pub fn boxes(&self) -> Option<&Boxes> {
        self.boxes.as_ref()
    }

    /// The image, mask and boxes.
    pub fn into_parts(self) -> (Image<f32>, Option<Mask>, Option<Boxes>) {
        (self.image, self.mask, self.boxes)
    }

    /// Applies logged [`DrawnParams`] to the image, the mask and the boxes:
    /// the image exactly as [`replay`](super::replay), the mask by
    /// [`DrawnParams::apply_mask`], the boxes by [`DrawnParams::apply_boxes`].
    /// Everything is checked first; on an error nothing changes.
    pub fn replay(&mut self, params: &[DrawnParams], scratch: &mut Vec<f32>) -> Result<()> {
        let dims = self.image.dims();
        for p in params {
            p.check(dims)?;
        }
        let boxes = match &self.boxes {
            Some(b) => {
                let mut b = b.clone();
                for p in params {
                    p.apply_boxes(&mut b)?;
                }
                Some(b)
            }
            None => None,
        };
        let img = self.image.data_mut();
        check_len("image", dims.len(), img.len())?;
        let mut plane = MaskScratch::default();
        for p in params {
            match &mut self.mask {
                Some(m) => {
                    let fill = m.fill();
                    let image = (dims, &mut *img, &mut *scratch);
                    mask::apply_with_mask(p, image, m.data_mut(), fill, &mut plane);
                }
                None => p.apply(dims, img, scratch),
            }
        }
        if boxes.is_some() {
            self.boxes = boxes;
        }
        Ok(())
    }

    /// Augments the sample with `op`'s parameters for `key`: one draw,
    /// applied to the image, the mask and the boxes.
    pub fn augment(
        &mut self,
        op: &dyn ImageAugment,
        key: SampleKey,
        scratch: &mut Vec<f32>,
    ) -> Result<()> {
        let params = op.params(key, self.image.dims());
        self.replay(&params, scratch)
    }

    /// Drops degenerate boxes and their labels ([`Boxes::sanitize`],
    /// torchvision `SanitizeBoundingBoxes`); returns the kept indices
    /// (every index when there are no boxes: none).
    pub fn sanitize(&mut self, config: &SanitizeConfig) -> Result<Vec<usize>> {
        match &mut self.boxes {
            Some(b) => b.sanitize(config),
            None => Ok(Vec::new()),
        }
    }
}

/// [`apply_batch`](super::apply_batch) for a batch of images with masks:
/// sample `i`'s image (NCHW, `dims`) and its mask (`K` planes of `H × W`
/// labels per sample, back to back, `K ≥ 1`) get the same draw, keyed by
/// `(seed, epoch, indices[i])`, so the images come out bit for bit as
/// `apply_batch` gives them. Pixels of a mask from outside the image take
/// `fill`. Labels are any `Copy` type (`usize` class maps for a loss,
/// `u8`/`u32` as stored). The batch is cut across `config.threads` as
/// `apply_batch` cuts it (on descent's pool); the result does not depend on
/// the thread count. Each piece reuses one image and three mask planes of
/// scratch, so the per-sample work allocates only what an op's draw does.
///
/// # Examples
///
/// ```
/// use descent_augment::image::{apply_batch_with_masks, BatchConfig, ImageShape, VerticalFlip};
///
/// let dims = ImageShape::new(1, 2, 1);
/// let mut images = vec![0.0f32, 1.0, 0.0, 1.0];
/// let mut masks = vec![0usize, 3, 0, 3];
/// apply_batch_with_masks(&VerticalFlip::new(1.0)?, dims, &mut images, &mut masks, 255, &[0, 1], &BatchConfig::default())?;
/// assert_eq!((images, masks), (vec![1.0, 0.0, 1.0, 0.0], vec![3, 0, 3, 0]));
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn apply_batch_with_masks<L: Copy + Send + Sync>(
    op: &dyn ImageAugment,
    dims: ImageShape,
    batch: &mut [f32],
    masks: &mut [L],
    fill: L,
    indices: &[usize],
    config: &BatchConfig,
) -> Result<()> {
    let n = indices.len();
    check_len("batch", n * dims.len(), batch.len())?;
    if n == 0 || dims.is_empty() {
        return Ok(());
    }
    let planes = check_mask_planes(dims, masks.len() / n)?;
    check_len("masks", n * planes * dims.plane(), masks.len())?;
    let per_mask = planes * dims.plane();
    let run = |images: &mut [f32], masks: &mut [L], idx: &[usize]| {
        let (mut scratch, mut plane) = (Vec::with_capacity(dims.len()), MaskScratch::default());
        let samples = images.chunks_exact_mut(dims.len());
        for ((img, m), &i) in samples.zip(masks.chunks_exact_mut(per_mask)).zip(idx) {
            let key = SampleKey::new(config.seed, config.epoch, i as u64);
            op.draw(OpCtx::root(key), dims, &mut |p| {
                mask::apply_with_mask(&p, (dims, img, &mut scratch), m, fill, &mut plane);
            });
        }
    };
    let threads = config.parallelism.threads_for(n);
    if threads == 1 {
        run(batch, masks, indices);
        return Ok(());
    }
    let per = n.div_ceil(threads);
    let run = &run;
    descent_core::threads::install(|| {
        rayon::scope(|s| {
            let pieces = batch
                .chunks_mut(per * dims.len())
                .zip(masks.chunks_mut(per * per_mask))
                .zip(indices.chunks(per));
            for ((images, masks), idx) in pieces {
                s.spawn(move |_| run(images, masks, idx));
            }
        })
    });
    Ok(())
}

#[cfg(test)]
mod tests;
