//! Batch-level MixUp (Zhang et al. 2018) and CutMix (Yun et al. 2019) with
//! one λ per sample.
//!
//! Sample `i` is mixed with sample `(i + 1) % N` (torchvision v2 rolls the
//! batch by one); its λ (and CutMix box) is drawn from the counter context
//! of `(seed, epoch, indices[i])`. Targets become soft labels, `N × K`.

use super::{ImageShape, check_len};
use crate::ArgError;
use crate::{Error, OpCtx, Result, SampleKey};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The op index of mixing draws, apart from any per-image pipeline's.
const MIX_OP: u64 = 0x6d69_7875_7063_7574;

/// What mixing did to one sample, for logging.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MixParams {
    /// The weight of the sample's own image and label.
    pub lambda: f32,
    /// The batch position of the partner.
    pub partner: usize,
    /// CutMix's pasted box `(top, left, height, width)`; `None` for MixUp.
    pub cut: Option<(usize, usize, usize, usize)>,
}

/// A Gamma(shape, 1) draw (Marsaglia & Tsang 2000; `rand_distr` is not a
/// workspace dependency).
pub(crate) fn gamma(rng: &mut ChaCha8Rng, shape: f64) -> f64 {
    if shape < 1.0 {
        let u: f64 = rng.random();
        return gamma(rng, shape + 1.0) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let u1: f64 = 1.0 - rng.random::<f64>();
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * rng.random::<f64>()).cos();
        let v = (1.0 + c * z).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u: f64 = 1.0 - rng.random::<f64>();
        if u.ln() < 0.5 * z * z + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// A Beta(α, α) draw.
fn beta(rng: &mut ChaCha8Rng, alpha: f64) -> f64 {
    let x = gamma(rng, alpha);
    let y = gamma(rng, alpha);
    if x + y > 0.0 { x / (x + y) } else { 0.5 }
}

fn check_alpha(alpha: f64) -> Result<()> {
    if alpha.is_finite() && alpha > 0.0 {
        Ok(())
    } else {
        Err(Error::Arg(ArgError::new(
            "alpha",
            alpha,
            "must be positive and finite",
        )))
    }
}

/// A batch for [`MixUp::apply`] and [`CutMix::apply`]: the images mixed in
/// place, their class labels, where the soft targets go, and the keys of the
/// draws. torchvision's `MixUp(num_classes=K)(images, labels)` is
/// `MixUp::new(alpha)?.apply(MixBatch { images, shape, labels, n_classes: K, .. })`.
///
/// # Examples
///
/// ```
/// use descent_augment::image::{ImageShape, MixBatch, MixUp};
///
/// let mut images = vec![0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0];
/// let mut targets = vec![0.0; 2 * 3];
/// let log = MixUp::new(1.0)?.apply(MixBatch {
///     images: &mut images,
///     shape: ImageShape::new(1, 2, 2),
///     labels: &[0, 2],
///     n_classes: 3,
///     targets: &mut targets,
///     seed: 0,
///     epoch: 0,
///     indices: &[0, 1],
/// })?;
/// assert_eq!(log[0].partner, 1);
/// assert!((targets[0..3].iter().sum::<f32>() - 1.0).abs() < 1e-6);
/// # Ok::<(), descent_augment::Error>(())
/// ```
#[derive(Debug)]
pub struct MixBatch<'a> {
    /// `N` images stored back to back (NCHW, `N · shape.len()` values),
    /// mixed in place.
    pub images: &'a mut [f32],
    /// The shape of each image.
    pub shape: ImageShape,
    /// Each sample's class, below `n_classes`; `N` is `labels.len()`.
    pub labels: &'a [usize],
    /// The number of classes `K` (torchvision's `num_classes`).
    pub n_classes: usize,
    /// The `N × K` soft targets (row `i` is sample `i`), overwritten.
    pub targets: &'a mut [f32],
    /// The run's seed.
    pub seed: u64,
    /// The epoch.
    pub epoch: u64,
    /// Each sample's index in the dataset: sample `i`'s draw is keyed by
    /// `(seed, epoch, indices[i])`, so it does not depend on the batch's order.
    pub indices: &'a [usize],
}

impl MixBatch<'_> {
    /// The counter context of sample `i`'s draw (`i < indices.len()`).
    fn ctx(&self, i: usize) -> OpCtx {
        OpCtx {
            key: SampleKey::new(self.seed, self.epoch, self.indices[i] as u64),
            op: MIX_OP,
        }
    }
}

/// Mixes a batch in place and writes soft targets; shared by both methods.
/// `draw(batch, i)` gives sample `i`'s weight, partner and box.
fn mix_batch(
    batch: MixBatch<'_>,
    draw: impl Fn(&MixBatch<'_>, usize) -> MixParams,
) -> Result<Vec<MixParams>> {
    let n = batch.labels.len();
    check_len("indices", n, batch.indices.len())?;
    let (dims, n_classes) = (batch.shape, batch.n_classes);
    check_len("batch", n * dims.len(), batch.images.len())?;
    check_len("targets", n * n_classes, batch.targets.len())?;
    if let Some(&label) = batch.labels.iter().find(|&&l| l >= n_classes) {
        return Err(Error::Arg(ArgError::new(
            "labels",
            label,
            "a label is not below n_classes",
        )));
    }
    let params: Vec<MixParams> = (0..n).map(|i| draw(&batch, i)).collect();
    let MixBatch {
        images,
        labels,
        targets,
        ..
    } = batch;
    let original = images.to_vec();
    let len = dims.len();
    targets.fill(0.0);
    for (i, p) in params.iter().enumerate() {
        let (own, other) = (
            &mut images[i * len..(i + 1) * len],
            &original[p.partner * len..(p.partner + 1) * len],
        );
        match p.cut {
            None => {
                for (a, b) in own.iter_mut().zip(other) {
                    *a = p.lambda * *a + (1.0 - p.lambda) * b;
                }
            }
            Some((top, left, h, w)) => {
                for ch in 0..dims.c {
                    for y in top..top + h {
                        let r = ch * dims.plane() + y * dims.w;
                        own[r + left..r + left + w].copy_from_slice(&other[r + left..r + left + w]);
                    }
                }
            }
        }
        targets[i * n_classes + labels[i]] += p.lambda;
        targets[i * n_classes + labels[p.partner]] += 1.0 - p.lambda;
    }
    Ok(params)
}

/// MixUp: `x_i ← λ_i x_i + (1 − λ_i) x_{i+1}`, `λ_i ~ Beta(α, α)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixUp {
    alpha: f64,
}

impl MixUp {
    /// MixUp with `Beta(alpha, alpha)` weights (torchvision v2 default `alpha = 1`).
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{ImageShape, MixBatch, MixUp};
    ///
    /// let mixup = MixUp::new(1.0)?;
    /// let dims = ImageShape::new(1, 2, 2);
    /// let mut batch = vec![0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0];
    /// let mut targets = vec![0.0; 2 * 3];
    /// let log = mixup.apply(MixBatch {
    ///     images: &mut batch,
    ///     shape: dims,
    ///     labels: &[0, 2],
    ///     n_classes: 3,
    ///     targets: &mut targets,
    ///     seed: 0,
    ///     epoch: 0,
    ///     indices: &[0, 1],
    /// })?;
    /// assert_eq!(log.len(), 2);
    /// assert!((targets[0..3].iter().sum::<f32>() - 1.0).abs() < 1e-6);
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(alpha: f64) -> Result<Self> {
        check_alpha(alpha)?;
        Ok(MixUp { alpha })
    }

    /// Mixes `batch.images` in place and writes its `N × n_classes` soft
    /// `targets`: sample `i` with sample `(i + 1) % N`, its λ drawn from the
    /// key `(seed, epoch, indices[i])`. Returns what each sample got.
    pub fn apply(&self, batch: MixBatch<'_>) -> Result<Vec<MixParams>> {
        let n = batch.labels.len();
        mix_batch(batch, |batch, i| MixParams {
            lambda: beta(&mut batch.ctx(i).rng(), self.alpha) as f32,
            partner: (i + 1) % n,
            cut: None,
        })
    }
}

/// CutMix: paste a box of sample `i + 1` into sample `i`; `λ_i` is the
/// area kept, from `Beta(α, α)` adjusted to the clipped box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CutMix {
    alpha: f64,
}

impl CutMix {
    /// CutMix with `Beta(alpha, alpha)` areas (torchvision v2 default `alpha = 1`).
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::CutMix;
    ///
    /// let cutmix = CutMix::new(1.0)?;
    /// assert!(CutMix::new(0.0).is_err());
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(alpha: f64) -> Result<Self> {
        check_alpha(alpha)?;
        Ok(CutMix { alpha })
    }

    /// Like [`MixUp::apply`], pasting boxes instead of blending.
    pub fn apply(&self, batch: MixBatch<'_>) -> Result<Vec<MixParams>> {
        let n = batch.labels.len();
        let dims = batch.shape;
        let (h, w) = (dims.h as f64, dims.w as f64);
        mix_batch(batch, |batch, i| {
            let mut rng = batch.ctx(i).rng();
            let lam = beta(&mut rng, self.alpha);
            let (cy, cx) = (
                rng.random_range(0..dims.h.max(1)) as f64,
                rng.random_range(0..dims.w.max(1)) as f64,
            );
            let r = (1.0 - lam).sqrt();
            let (bh, bw) = ((r * h * 0.5) as i64, (r * w * 0.5) as i64);
            let y0 = (cy as i64 - bh).clamp(0, dims.h as i64) as usize;
            let y1 = (cy as i64 + bh).clamp(0, dims.h as i64) as usize;
            let x0 = (cx as i64 - bw).clamp(0, dims.w as i64) as usize;
            let x1 = (cx as i64 + bw).clamp(0, dims.w as i64) as usize;
            let area = ((y1 - y0) * (x1 - x0)) as f64;
            let lambda = if dims.h * dims.w > 0 {
                1.0 - area / (h * w)
            } else {
                1.0
            };
            MixParams {
                lambda: lambda as f32,
                partner: (i + 1) % n,
                cut: Some((y0, x0, y1 - y0, x1 - x0)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn mixed_labels_sum_to_one(n in 1usize..12, alpha in 0.1f64..4.0, seed in 0u64..100, cut in any::<bool>()) {
            let dims = ImageShape::new(2, 5, 4);
            let mut batch: Vec<f32> = (0..n * dims.len()).map(|i| (i % 11) as f32 / 10.0).collect();
            let labels: Vec<usize> = (0..n).map(|i| i % 3).collect();
            let indices: Vec<usize> = (0..n).collect();
            let mut targets = vec![0.0; n * 3];
            let mix = MixBatch {
                images: &mut batch,
                shape: dims,
                labels: &labels,
                n_classes: 3,
                targets: &mut targets,
                seed,
                epoch: 0,
                indices: &indices,
            };
            let log = if cut {
                CutMix::new(alpha).unwrap().apply(mix)
            } else {
                MixUp::new(alpha).unwrap().apply(mix)
            }.unwrap();
            for i in 0..n {
                let sum: f32 = targets[i * 3..(i + 1) * 3].iter().sum();
                prop_assert!((sum - 1.0).abs() < 1e-5, "row {} sums to {}", i, sum);
                prop_assert!((0.0..=1.0).contains(&log[i].lambda));
            }
            prop_assert!(batch.iter().all(|v| (0.0..=1.0).contains(v)));
        }
    }

    #[test]
    fn a_bad_batch_is_a_typed_error_and_is_left_as_it_was() {
        let dims = ImageShape::new(1, 2, 2);
        let mixup = MixUp::new(1.0).unwrap();
        let run = |images: usize, labels: &[usize], targets: usize, indices: &[usize]| {
            let mut images = vec![0.25; images];
            let mut targets = vec![0.5; targets];
            let err = mixup
                .apply(MixBatch {
                    images: &mut images,
                    shape: dims,
                    labels,
                    n_classes: 3,
                    targets: &mut targets,
                    seed: 0,
                    epoch: 0,
                    indices,
                })
                .unwrap_err();
            assert!(images.iter().all(|&v| v == 0.25) && targets.iter().all(|&v| v == 0.5));
            err
        };
        let what = |e: Error| match e {
            Error::ShapeMismatch { what, .. } => what,
            Error::Arg(a) => a.name,
            e => panic!("unexpected error {e}"),
        };
        // Checked in this order: indices, images, targets, labels.
        assert_eq!(what(run(7, &[0, 3], 5, &[0])), "indices");
        assert_eq!(what(run(7, &[0, 3], 5, &[0, 1])), "batch");
        assert_eq!(what(run(8, &[0, 3], 5, &[0, 1])), "targets");
        assert_eq!(what(run(8, &[0, 3], 6, &[0, 1])), "labels");
    }

    #[test]
    fn beta_draws_have_the_right_mean() {
        let mut rng = OpCtx::root(SampleKey::new(0, 0, 0)).rng();
        let mean = (0..4000).map(|_| beta(&mut rng, 0.4)).sum::<f64>() / 4000.0;
        assert!((mean - 0.5).abs() < 0.03, "{mean}");
        let mean_g = (0..4000).map(|_| gamma(&mut rng, 2.5)).sum::<f64>() / 4000.0;
        assert!((mean_g - 2.5).abs() < 0.15, "{mean_g}");
    }
}
