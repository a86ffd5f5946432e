//! Image augmentation: `C × H × W` f32 images in a flat CHW buffer, values
//! nominally in `[0, 1]`, and batches of `N` such images back to back (NCHW).
//!
//! An op ([`ImageAugment`]) first *draws* its per-sample [`DrawnParams`] from the
//! sample's counter-based context, then the params are *applied*. The params
//! are plain serializable values that say everything the application needs,
//! so they can be logged and replayed without the op that drew them.

mod affine;
mod batch;
mod blur;
mod boxes;
mod color;
mod compose;
mod crop;
mod erase;
mod flip;
pub mod functional;
mod grid;
mod jpeg;
mod mask;
mod mix;
mod params;
mod policy;
mod sample;
mod spec;
mod target;
mod tone;
mod warp;

pub use affine::{Affine, RandomAffine, RandomAffineConfig};
pub use batch::{BatchConfig, MIN_IMAGES_PER_THREAD, apply_batch, batch_params, replay_batch};
pub use blur::GaussianBlur;
pub use boxes::{BoxFormat, Boxes, SanitizeConfig};
pub use color::{
    ChannelShift, ColorJitter, ColorJitterConfig, GaussianNoiseImage, RandomGrayscale,
};
pub use compose::{Compose, MAX_RANDOM_ORDER, OneOf, RandomApply, RandomOrder};
pub use crop::{PadMode, PaddingMode, RandomCrop, RandomResizedCrop, RandomResizedCropConfig};
pub use erase::{Cutout, RandomErasing, RandomErasingConfig};
pub use flip::{HorizontalFlip, VerticalFlip};
pub use grid::Interpolation;
pub use jpeg::{JPEG_MAX_SIDE, Jpeg, jpeg};
pub use mask::Mask;
pub use mix::{CutMix, MixBatch, MixParams, MixUp};
pub use params::DrawnParams;

/// The old name of [`DrawnParams`], which clashed with `descent_core::Params`
/// (the values half of a parameter store).
#[deprecated(since = "0.1.0", note = "renamed `DrawnParams`")]
pub type Params = DrawnParams;

/// The old name of [`GaussianNoiseImage`], which clashed with the layer
/// `descent_nn::GaussianNoise`.
#[deprecated(since = "0.1.0", note = "renamed `GaussianNoiseImage`")]
pub type GaussianNoise = GaussianNoiseImage;
pub use policy::{
    AUTOAUGMENT_NUM_BINS, AugMix, AugMixConfig, AugMixDraw, AutoAugment, AutoAugmentConfig,
    AutoAugmentDraw, AutoAugmentPolicy, MAX_AUGMIX_CHAIN_DEPTH, MAX_AUGMIX_WIDTH, PolicyOp,
    RandAugment, RandAugmentConfig, SubPolicyStep, TrivialAugmentWide,
};
pub use sample::{Sample, apply_batch_with_masks};
pub use spec::OpSpec;
pub use tone::{
    RandomAdjustSharpness, RandomAutocontrast, RandomEqualize, RandomInvert, RandomPosterize,
    RandomSolarize,
};
pub use warp::{ElasticTransform, ElasticTransformConfig, RandomPerspective};

use crate::{Error, OpCtx, Result, SampleKey};

pub use descent_core::ImageShape;
/// Core's thread-split type, which [`BatchConfig::parallelism`] holds
/// (re-exported so a user of this crate alone can name it).
pub use descent_core::Parallelism;

/// An image augmentation whose random choices are drawn per sample from a
/// counter-based [`OpCtx`].
///
/// This is DESIGN.md's `Augment<T>` (`apply(&self, item, rng) -> item`)
/// split in two: [`draw`](ImageAugment::draw) turns a context into
/// [`DrawnParams`], and [`DrawnParams::apply`] applies them in place. Taking a context
/// instead of a `&mut Rng` makes each sample's result independent of how
/// many samples were augmented before it (and so of threads and batch
/// order), and the split makes every draw loggable and replayable.
pub trait ImageAugment: Send + Sync {
    /// Draws this op's parameters for one sample and passes each leaf's
    /// [`DrawnParams`] to `emit`, in the order they are to be applied.
    fn draw(&self, ctx: OpCtx, dims: ImageShape, emit: &mut dyn FnMut(DrawnParams));

    /// Augments one image in place; `scratch` is grown to one image and
    /// reused, so a steady-state call allocates nothing.
    ///
    /// Returns [`Error::ShapeMismatch`] if `img` is not `dims.len()` long.
    fn apply(
        &self,
        key: SampleKey,
        dims: ImageShape,
        img: &mut [f32],
        scratch: &mut Vec<f32>,
    ) -> Result<()> {
        check_len("image", dims.len(), img.len())?;
        self.draw(OpCtx::root(key), dims, &mut |p| p.apply(dims, img, scratch));
        Ok(())
    }

    /// This op as serializable data ([`OpSpec`]), from which
    /// [`OpSpec::build`] rebuilds an op that draws the same parameters; every
    /// built-in op and composite of them has one, an op defined elsewhere
    /// `None` unless it says otherwise.
    fn spec(&self) -> Option<OpSpec> {
        None
    }

    /// The parameters this op draws for one sample, for logging and replay
    /// with [`replay`].
    fn params(&self, key: SampleKey, dims: ImageShape) -> Vec<DrawnParams> {
        let mut out = Vec::new();
        self.draw(OpCtx::root(key), dims, &mut |p| out.push(p));
        out
    }
}

impl<T: ImageAugment + ?Sized> ImageAugment for Box<T> {
    fn spec(&self) -> Option<OpSpec> {
        (**self).spec()
    }

    fn draw(&self, ctx: OpCtx, dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        (**self).draw(ctx, dims, emit)
    }
}

/// Applies logged [`DrawnParams`] in order: the same result as the
/// [`ImageAugment::apply`] call that drew them, bit for bit. Every entry is
/// checked first ([`DrawnParams::check`]); one that does not fit `dims` is an
/// [`Error::Arg`] and the image is left unchanged.
///
/// # Examples
///
/// ```
/// use descent_augment::image::{replay, ImageShape, HorizontalFlip, ImageAugment};
/// use descent_augment::SampleKey;
///
/// let dims = ImageShape::new(1, 2, 2);
/// let op = HorizontalFlip::new(0.5)?;
/// let key = SampleKey::new(0, 0, 3);
/// let mut a = vec![0.1, 0.2, 0.3, 0.4];
/// let mut b = a.clone();
/// let mut scratch = Vec::new();
/// op.apply(key, dims, &mut a, &mut scratch)?;
/// replay(&op.params(key, dims), dims, &mut b, &mut scratch)?;
/// assert_eq!(a, b);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn replay(
    params: &[DrawnParams],
    dims: ImageShape,
    img: &mut [f32],
    scratch: &mut Vec<f32>,
) -> Result<()> {
    check_len("image", dims.len(), img.len())?;
    for p in params {
        p.check(dims)?;
    }
    for p in params {
        p.apply(dims, img, scratch);
    }
    Ok(())
}

/// Checks a buffer length.
pub(crate) fn check_len(what: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            what,
            expected,
            got,
        })
    }
}

/// Copies `img` into `scratch` (grown once) and returns it.
pub(crate) fn stash<'a, T: Copy>(img: &[T], scratch: &'a mut Vec<T>) -> &'a [T] {
    scratch.clear();
    scratch.extend_from_slice(img);
    scratch
}

#[cfg(test)]
pub(crate) mod testutil {
    use super::*;
    use proptest::prelude::*;

    /// Small images with values in [0, 1].
    pub fn image() -> impl Strategy<Value = (ImageShape, Vec<f32>)> {
        (1usize..=4, 1usize..=9, 1usize..=9).prop_flat_map(|(c, h, w)| {
            let dims = ImageShape::new(c, h, w);
            (
                Just(dims),
                proptest::collection::vec(0.0f32..=1.0, dims.len()),
            )
        })
    }

    /// Applies `op` to a copy and checks shape and range.
    pub fn check_in_range(
        op: &dyn ImageAugment,
        dims: ImageShape,
        img: &[f32],
        index: u64,
    ) -> Vec<f32> {
        let mut out = img.to_vec();
        let mut scratch = Vec::new();
        op.apply(SampleKey::new(7, 1, index), dims, &mut out, &mut scratch)
            .unwrap();
        assert_eq!(out.len(), img.len());
        for v in &out {
            assert!((0.0..=1.0).contains(v), "value {v} out of [0, 1]");
        }
        out
    }
}
