//! The W6 family of single ops: each of descent-augment's newer image ops
//! and policies on a batch of [`W6_BATCH`] 3×32×32 images through
//! `apply_batch` (per-sample draws, descent's thread setting), and the
//! geometric ops with a segmentation mask moving with each image
//! (`apply_batch_with_masks`). `benches/torch_workloads.py` runs the same
//! ops with torchvision v2 under the same names.

use crate::augment::{Images, W6_BATCH, W6_DIMS};
use descent_augment::image::{
    AugMix, AugMixConfig, AutoAugment, AutoAugmentConfig, AutoAugmentPolicy, Compose, DrawnParams,
    ElasticTransform, ElasticTransformConfig, GaussianBlur, HorizontalFlip, ImageAugment,
    ImageShape, Interpolation, PadMode, RandAugment, RandAugmentConfig, RandomAdjustSharpness,
    RandomAffine, RandomAffineConfig, RandomAutocontrast, RandomCrop, RandomEqualize, RandomInvert,
    RandomPerspective, RandomPosterize, RandomResizedCrop, RandomResizedCropConfig, RandomSolarize,
    TrivialAugmentWide, apply_batch, apply_batch_with_masks,
};
use descent_augment::{OpCtx, Result};

/// Number of classes in the W6 masks' labels (`0..MASK_CLASSES`).
pub const MASK_CLASSES: u32 = 5;

/// One op of the W6 family, with its torchvision v2 counterpart named in
/// [`AugOpId::torchvision`]. Every op is applied to every sample (`p = 1`
/// where torchvision has a `p`), so each row times the op itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AugOpId {
    /// `GaussianBlur([3, 3], σ ∈ (0.1, 2))`.
    GaussianBlur,
    /// `RandomPerspective(0.5, p = 1)`, bilinear, fill 0.
    Perspective,
    /// `ElasticTransform` with torchvision's defaults (α 50, σ 5, bilinear).
    Elastic,
    /// `RandomPosterize(4 bits, p = 1)`.
    Posterize,
    /// `RandomSolarize(0.5, p = 1)`.
    Solarize,
    /// `RandomEqualize(p = 1)`.
    Equalize,
    /// `RandomAutocontrast(p = 1)`.
    Autocontrast,
    /// `RandomAdjustSharpness(2, p = 1)`.
    Sharpness,
    /// `RandomInvert(p = 1)`.
    Invert,
    /// A rotation uniform in ±30°, nearest.
    RotateNearest,
    /// A rotation uniform in ±30°, bilinear.
    RotateBilinear,
    /// Rotation ±15°, translation 0.1, scale (0.9, 1.1), x-shear ±10°, nearest.
    AffineNearest,
    /// The same affine, bilinear.
    AffineBilinear,
    /// `RandomResizedCrop` to 32×32 (torchvision's scale and ratio), bilinear.
    ResizedCrop,
    /// `AutoAugment` with the ImageNet policy (nearest, `fill = None`).
    AutoAugmentImageNet,
    /// `RandAugment` (2 ops, magnitude 9 of 31; descent's bilinear, fill 0).
    RandAugment,
    /// `TrivialAugmentWide` (descent's bilinear, fill 0).
    TrivialAugmentWide,
    /// `AugMix` with torchvision's defaults.
    AugMix,
    /// W6's geometric part: random crop (zero padding 4) + horizontal flip.
    CropFlip,
}

impl AugOpId {
    /// Every op with an image-only row.
    pub const ALL: [AugOpId; 18] = [
        AugOpId::GaussianBlur,
        AugOpId::Perspective,
        AugOpId::Elastic,
        AugOpId::Posterize,
        AugOpId::Solarize,
        AugOpId::Equalize,
        AugOpId::Autocontrast,
        AugOpId::Sharpness,
        AugOpId::Invert,
        AugOpId::RotateNearest,
        AugOpId::RotateBilinear,
        AugOpId::AffineNearest,
        AugOpId::AffineBilinear,
        AugOpId::ResizedCrop,
        AugOpId::AutoAugmentImageNet,
        AugOpId::RandAugment,
        AugOpId::TrivialAugmentWide,
        AugOpId::AugMix,
    ];

    /// The geometric ops that also get a row with a mask moving with the
    /// image (torchvision v2's policies refuse a `Mask`, so they have none).
    pub const WITH_MASK: [AugOpId; 6] = [
        AugOpId::CropFlip,
        AugOpId::RotateNearest,
        AugOpId::AffineBilinear,
        AugOpId::ResizedCrop,
        AugOpId::Perspective,
        AugOpId::Elastic,
    ];

    /// The op's short name, shared with `benches/torch_workloads.py`.
    pub fn op_name(self) -> &'static str {
        match self {
            AugOpId::GaussianBlur => "gaussian_blur",
            AugOpId::Perspective => "perspective",
            AugOpId::Elastic => "elastic",
            AugOpId::Posterize => "posterize",
            AugOpId::Solarize => "solarize",
            AugOpId::Equalize => "equalize",
            AugOpId::Autocontrast => "autocontrast",
            AugOpId::Sharpness => "sharpness",
            AugOpId::Invert => "invert",
            AugOpId::RotateNearest => "rotate_nearest",
            AugOpId::RotateBilinear => "rotate_bilinear",
            AugOpId::AffineNearest => "affine_nearest",
            AugOpId::AffineBilinear => "affine_bilinear",
            AugOpId::ResizedCrop => "resized_crop",
            AugOpId::AutoAugmentImageNet => "autoaugment_imagenet",
            AugOpId::RandAugment => "randaugment",
            AugOpId::TrivialAugmentWide => "trivialaugment_wide",
            AugOpId::AugMix => "augmix",
            AugOpId::CropFlip => "crop_flip",
        }
    }

    /// The row's name in the line protocol: `w6op_<op>` for the image
    /// alone, `w6mask_<op>` with a mask.
    pub fn row_name(self, with_mask: bool) -> String {
        let family = if with_mask { "w6mask" } else { "w6op" };
        format!("{family}_{}", self.op_name())
    }

    /// The op's parameters in torchvision v2 (the call the PyTorch script makes).
    pub fn torchvision(self) -> &'static str {
        match self {
            AugOpId::GaussianBlur => "GaussianBlur(3, (0.1, 2.0))",
            AugOpId::Perspective => "RandomPerspective(0.5, p=1)",
            AugOpId::Elastic => "ElasticTransform()",
            AugOpId::Posterize => "RandomPosterize(4, p=1)",
            AugOpId::Solarize => "RandomSolarize(0.5, p=1)",
            AugOpId::Equalize => "RandomEqualize(p=1)",
            AugOpId::Autocontrast => "RandomAutocontrast(p=1)",
            AugOpId::Sharpness => "RandomAdjustSharpness(2, p=1)",
            AugOpId::Invert => "RandomInvert(p=1)",
            AugOpId::RotateNearest => "RandomRotation(30, NEAREST)",
            AugOpId::RotateBilinear => "RandomRotation(30, BILINEAR)",
            AugOpId::AffineNearest => {
                "RandomAffine(15, (0.1, 0.1), (0.9, 1.1), (-10, 10), NEAREST)"
            }
            AugOpId::AffineBilinear => {
                "RandomAffine(15, (0.1, 0.1), (0.9, 1.1), (-10, 10), BILINEAR)"
            }
            AugOpId::ResizedCrop => "RandomResizedCrop(32, antialias=False)",
            AugOpId::AutoAugmentImageNet => "AutoAugment(IMAGENET)",
            AugOpId::RandAugment => "RandAugment(BILINEAR, fill=0)",
            AugOpId::TrivialAugmentWide => "TrivialAugmentWide(BILINEAR, fill=0)",
            AugOpId::AugMix => "AugMix()",
            AugOpId::CropFlip => "RandomCrop(32, 4) + RandomHorizontalFlip()",
        }
    }

    /// Builds the op.
    pub fn build(self) -> Box<dyn ImageAugment> {
        match self.try_build() {
            Ok(op) => op,
            // Every configuration above is a constant that validates.
            Err(e) => panic!("{}: {e}", self.op_name()),
        }
    }

    fn try_build(self) -> Result<Box<dyn ImageAugment>> {
        let affine = RandomAffineConfig {
            degrees: (-15.0, 15.0),
            translate: (0.1, 0.1),
            scale: (0.9, 1.1),
            shear: (-10.0, 10.0),
            fill: 0.0,
        };
        let rotate = RandomAffineConfig {
            degrees: (-30.0, 30.0),
            ..Default::default()
        };
        Ok(match self {
            AugOpId::GaussianBlur => Box::new(GaussianBlur::new([3, 3], (0.1, 2.0))?),
            AugOpId::Perspective => Box::new(RandomPerspective::new(
                0.5,
                1.0,
                Interpolation::Bilinear,
                0.0,
            )?),
            AugOpId::Elastic => Box::new(ElasticTransform::new(ElasticTransformConfig::default())?),
            AugOpId::Posterize => Box::new(RandomPosterize::new(4, 1.0)?),
            AugOpId::Solarize => Box::new(RandomSolarize::new(0.5, 1.0)?),
            AugOpId::Equalize => Box::new(RandomEqualize::new(1.0)?),
            AugOpId::Autocontrast => Box::new(RandomAutocontrast::new(1.0)?),
            AugOpId::Sharpness => Box::new(RandomAdjustSharpness::new(2.0, 1.0)?),
            AugOpId::Invert => Box::new(RandomInvert::new(1.0)?),
            AugOpId::RotateNearest => Box::new(Nearest(RandomAffine::new(rotate)?)),
            AugOpId::RotateBilinear => Box::new(RandomAffine::new(rotate)?),
            AugOpId::AffineNearest => Box::new(Nearest(RandomAffine::new(affine)?)),
            AugOpId::AffineBilinear => Box::new(RandomAffine::new(affine)?),
            AugOpId::ResizedCrop => {
                Box::new(RandomResizedCrop::new(RandomResizedCropConfig::default())?)
            }
            AugOpId::AutoAugmentImageNet => Box::new(AutoAugment::new(AutoAugmentConfig {
                policy: AutoAugmentPolicy::ImageNet,
                ..Default::default()
            })?),
            AugOpId::RandAugment => Box::new(RandAugment::new(RandAugmentConfig::default())?),
            AugOpId::TrivialAugmentWide => Box::new(TrivialAugmentWide::new(0.0)?),
            AugOpId::AugMix => Box::new(AugMix::new(AugMixConfig::default())?),
            AugOpId::CropFlip => Box::new(Compose::new(vec![
                Box::new(RandomCrop::new(4, PadMode::Constant(0.0))?),
                Box::new(HorizontalFlip::new(0.5)?),
            ])),
        })
    }
}

/// `RandomAffine`'s draw resampled by nearest neighbour (torchvision
/// `RandomAffine(…, interpolation=NEAREST)`; descent's `RandomAffine`
/// always emits bilinear warps).
struct Nearest(RandomAffine);

impl ImageAugment for Nearest {
    fn draw(&self, ctx: OpCtx, dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        self.0.draw(ctx, dims, &mut |p| {
            emit(match p {
                DrawnParams::Affine(mut a) => {
                    a.interpolation = Interpolation::Nearest;
                    DrawnParams::Affine(a)
                }
                other => other,
            })
        })
    }
}

/// `n` deterministic masks for [`augment_input`](crate::augment_input)'s images: one `H × W`
/// plane of labels in `0..MASK_CLASSES` per image (horizontal bands, so a
/// warp moves label boundaries).
///
/// # Examples
///
/// ```
/// let masks = descent_bench::augment_masks(2);
/// assert_eq!(masks.len(), 2 * 32 * 32);
/// assert!(masks.iter().all(|&l| l < descent_bench::MASK_CLASSES));
/// ```
pub fn augment_masks(n: usize) -> Vec<u32> {
    let (h, w) = (W6_DIMS.h, W6_DIMS.w);
    (0..n * h * w)
        .map(|i| ((i / w % h) * MASK_CLASSES as usize / h) as u32)
        .collect()
}

/// A built row of the W6 family: [`reset`](AugOpBatch::reset) restores the
/// images (and masks), untimed; [`step`](AugOpBatch::step) augments them in
/// place and moves to the next epoch.
pub struct AugOpBatch {
    op: Box<dyn ImageAugment>,
    images: Images,
    /// The original masks and the working copy.
    masks: Option<(Vec<u32>, Vec<u32>)>,
}

impl AugOpBatch {
    /// `n` images for `id`, with masks when `with_mask`.
    pub fn new(id: AugOpId, n: usize, with_mask: bool) -> Self {
        let masks = with_mask.then(|| {
            let m = augment_masks(n);
            (m.clone(), m)
        });
        AugOpBatch {
            op: id.build(),
            images: Images::new(n),
            masks,
        }
    }

    /// The W6 batch size ([`W6_BATCH`]) for `id`.
    pub fn w6(id: AugOpId, with_mask: bool) -> Self {
        Self::new(id, W6_BATCH, with_mask)
    }

    /// Images per step.
    pub fn len(&self) -> usize {
        self.images.indices.len()
    }

    /// Whether the batch holds no image.
    pub fn is_empty(&self) -> bool {
        self.images.indices.is_empty()
    }

    /// Copies the original images (and masks) back.
    pub fn reset(&mut self) {
        self.images.reset();
        if let Some((input, masks)) = &mut self.masks {
            masks.copy_from_slice(input);
        }
    }

    /// Augments the batch in place: `apply_batch` on descent's thread
    /// setting, or `apply_batch_with_masks` (mask fill 255) when the row
    /// has masks; then the next epoch.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_bench::{AugOpBatch, AugOpId};
    ///
    /// let mut w = AugOpBatch::new(AugOpId::RotateNearest, 4, true);
    /// w.step()?;
    /// assert_ne!(w.images(), &descent_bench::augment_input(4)[..]);
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn step(&mut self) -> Result<()> {
        let config = self.images.next_config();
        let op = &*self.op;
        let Images { batch, indices, .. } = &mut self.images;
        match &mut self.masks {
            None => apply_batch(op, W6_DIMS, batch, indices, &config),
            Some((_, masks)) => {
                apply_batch_with_masks(op, W6_DIMS, batch, masks, 255, indices, &config)
            }
        }
    }

    /// The images as they stand.
    pub fn images(&self) -> &[f32] {
        &self.images.batch
    }

    /// The masks as they stand (`None` for an image-only row).
    pub fn masks(&self) -> Option<&[u32]> {
        self.masks.as_ref().map(|(_, m)| &m[..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::augment_input;

    #[test]
    fn every_row_applies_its_op_and_stays_in_range() {
        for id in AugOpId::ALL {
            // Every sample gets the op (p = 1); autocontrast is the identity
            // on this full-range input, so the drawn parameters are checked.
            let params = id
                .build()
                .params(descent_augment::SampleKey::new(0, 0, 1), W6_DIMS);
            assert!(
                params.iter().any(|p| *p != DrawnParams::Identity),
                "{}",
                id.op_name()
            );
            let mut w = AugOpBatch::new(id, 4, false);
            w.step().unwrap();
            assert!(w.images().iter().all(|v| (0.0..=1.0).contains(v)));
        }
    }

    #[test]
    fn mask_rows_move_their_masks_and_reset_restores_both() {
        for id in AugOpId::WITH_MASK {
            let mut w = AugOpBatch::new(id, 8, true);
            w.step().unwrap();
            let moved = w.masks().unwrap().to_vec();
            assert!(
                moved.iter().all(|&l| l < MASK_CLASSES || l == 255),
                "{}",
                id.op_name()
            );
            assert_ne!(moved, augment_masks(8), "{}", id.op_name());
            w.reset();
            assert_eq!(w.masks().unwrap(), &augment_masks(8)[..]);
            assert_eq!(w.images(), &augment_input(8)[..]);
        }
    }

    #[test]
    fn nearest_rows_resample_by_nearest_neighbour() {
        let op = AugOpId::AffineNearest.build();
        let p = op.params(descent_augment::SampleKey::new(0, 0, 0), W6_DIMS);
        assert!(matches!(
            &p[..],
            [DrawnParams::Affine(a)] if a.interpolation == Interpolation::Nearest
        ));
        let names: std::collections::BTreeSet<_> =
            AugOpId::ALL.iter().map(|id| id.row_name(false)).collect();
        assert_eq!(names.len(), AugOpId::ALL.len(), "row names are distinct");
    }
}
