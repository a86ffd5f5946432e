//! Random perspective and elastic warps (torchvision `RandomPerspective`,
//! `ElasticTransform`).

use super::functional::perspective_coefficients;
use super::grid::Interpolation;
use super::spec::OpSpec;
use super::{DrawnParams, ImageAugment, ImageShape, blur};
use crate::ArgError;
use crate::error::check_prob;
use crate::{Error, OpCtx, Result};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::borrow::Cow;

fn check_fill(fill: f32) -> Result<()> {
    if (0.0..=1.0).contains(&fill) {
        Ok(())
    } else {
        Err(Error::Arg(ArgError::new(
            "fill",
            fill,
            "must lie in [0, 1]",
        )))
    }
}

/// torchvision `RandomPerspective`: with probability `p`, moves each corner
/// inwards by up to `distortion_scale` of half the side and warps the image
/// so the corners land there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomPerspective {
    distortion_scale: f32,
    p: f64,
    interpolation: Interpolation,
    fill: f32,
}

impl RandomPerspective {
    /// A random perspective; torchvision's defaults are `distortion_scale =
    /// 0.5`, `p = 0.5`, bilinear, fill 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{Interpolation, RandomPerspective};
    ///
    /// let op = RandomPerspective::new(0.5, 0.5, Interpolation::Bilinear, 0.0)?;
    /// assert!(RandomPerspective::new(1.5, 0.5, Interpolation::Bilinear, 0.0).is_err());
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(
        distortion_scale: f32,
        p: f64,
        interpolation: Interpolation,
        fill: f32,
    ) -> Result<Self> {
        if !(0.0..=1.0).contains(&distortion_scale) {
            return Err(Error::Arg(ArgError::new(
                "distortion_scale",
                distortion_scale,
                "must lie in [0, 1]",
            )));
        }
        check_prob("p", p)?;
        check_fill(fill)?;
        Ok(RandomPerspective {
            distortion_scale,
            p,
            interpolation,
            fill,
        })
    }
}

impl ImageAugment for RandomPerspective {
    fn spec(&self) -> Option<OpSpec> {
        Some(OpSpec::RandomPerspective {
            distortion_scale: self.distortion_scale,
            p: self.p,
            interpolation: self.interpolation,
            fill: self.fill,
        })
    }

    fn draw(&self, ctx: OpCtx, dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        let mut rng = ctx.rng();
        if dims.is_empty() || !rng.random_bool(self.p) {
            return emit(DrawnParams::Identity);
        }
        let (h, w) = (dims.h, dims.w);
        let d = self.distortion_scale as f64;
        let bw = (d * (w / 2) as f64) as usize + 1;
        let bh = (d * (h / 2) as f64) as usize + 1;
        let mut pick = |lo: usize, hi: usize| rng.random_range(lo..hi) as f64;
        let top_left = [pick(0, bw), pick(0, bh)];
        let top_right = [pick(w - bw, w), pick(0, bh)];
        let bottom_right = [pick(w - bw, w), pick(h - bh, h)];
        let bottom_left = [pick(0, bw), pick(h - bh, h)];
        let (wl, hl) = ((w - 1) as f64, (h - 1) as f64);
        let start = [[0.0, 0.0], [wl, 0.0], [wl, hl], [0.0, hl]];
        let end = [top_left, top_right, bottom_right, bottom_left];
        emit(match perspective_coefficients(start, end) {
            Ok(coefficients) => DrawnParams::Perspective {
                coefficients,
                fill: self.fill,
                interpolation: self.interpolation,
            },
            // A 1-pixel side collapses the quadrilateral: nothing to warp.
            Err(_) => DrawnParams::Identity,
        })
    }
}

/// The configuration of [`ElasticTransform`]; `Default` is torchvision's
/// (`alpha = 50`, `sigma = 5`, bilinear, fill 0).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ElasticTransformConfig {
    /// Displacement magnitudes `[αx, αy]`, in pixels.
    pub alpha: [f32; 2],
    /// Smoothness of the field `[σx, σy]`, in pixels.
    pub sigma: [f32; 2],
    /// How pixels are resampled.
    pub interpolation: Interpolation,
    /// Value of pixels from outside the image.
    pub fill: f32,
}

impl Default for ElasticTransformConfig {
    fn default() -> Self {
        ElasticTransformConfig {
            alpha: [50.0; 2],
            sigma: [5.0; 2],
            interpolation: Interpolation::Bilinear,
            fill: 0.0,
        }
    }
}

/// torchvision `ElasticTransform`: a random smooth displacement field per
/// sample (its seed is drawn; the field is rebuilt from it on apply).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ElasticTransform {
    config: ElasticTransformConfig,
}

impl ElasticTransform {
    /// An elastic warp.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{ElasticTransform, ElasticTransformConfig};
    ///
    /// let op = ElasticTransform::new(ElasticTransformConfig::default())?;
    /// let bad = ElasticTransformConfig { sigma: [-1.0, 5.0], ..Default::default() };
    /// assert!(ElasticTransform::new(bad).is_err());
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(config: ElasticTransformConfig) -> Result<Self> {
        for v in config.alpha.iter().chain(&config.sigma) {
            if !(v.is_finite() && *v >= 0.0) {
                return Err(Error::Arg(ArgError::new(
                    "alpha/sigma",
                    v,
                    "must be finite and non-negative",
                )));
            }
        }
        check_fill(config.fill)?;
        Ok(ElasticTransform { config })
    }
}

impl ImageAugment for ElasticTransform {
    fn spec(&self) -> Option<OpSpec> {
        Some(OpSpec::ElasticTransform(self.config))
    }

    fn draw(&self, ctx: OpCtx, _dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        let c = &self.config;
        emit(DrawnParams::Elastic {
            alpha: c.alpha,
            sigma: c.sigma,
            seed: ctx.rng().random(),
            fill: c.fill,
            interpolation: c.interpolation,
        })
    }
}

/// The displacement field (`H × W × 2`, normalised units) of
/// [`DrawnParams::Elastic`], built as torchvision's `ElasticTransform` does:
/// `dx`, `dy` uniform in `[−1, 1]`, each Gaussian-blurred with kernel size
/// `int(8σ + 1)` made odd (reflect border, capped at `2·max(H, W) + 1`
/// taps), then `dx · αx / H` and `dy · αy / W` (torchvision divides `dx`
/// by the height and `dy` by the width).
pub(crate) fn elastic_field(
    dims: ImageShape,
    alpha: [f32; 2],
    sigma: [f32; 2],
    seed: u64,
) -> Vec<f32> {
    let (h, w) = (dims.h, dims.w);
    let plane = ImageShape::new(1, h, w);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut axes = [vec![0f32; h * w], vec![0f32; h * w]];
    for a in axes.iter_mut() {
        for v in a.iter_mut() {
            *v = rng.random::<f32>() * 2.0 - 1.0;
        }
    }
    let sizes = [h, w];
    let most = 2 * h.max(w) + 1;
    for (k, a) in axes.iter_mut().enumerate() {
        let s = sigma[k];
        if s > 0.0 {
            let mut n = ((8.0 * s as f64 + 1.0) as usize).min(most);
            if n % 2 == 0 {
                n += 1;
            }
            let kernel = blur::gaussian_kernel1d::<f32>(n, s as f64);
            let src = a.clone();
            blur::gaussian_blur(&src, plane, a, &kernel, &kernel);
        }
        let scale = alpha[k] / sizes[k] as f32;
        for v in a.iter_mut() {
            *v *= scale;
        }
    }
    let mut field = Vec::with_capacity(2 * h * w);
    for i in 0..h * w {
        field.push(axes[0][i]);
        field.push(axes[1][i]);
    }
    field
}

/// `given` (a field the caller built for this draw, see
/// `mask::apply_with_mask`), or [`elastic_field`] built here when there is
/// none.
pub(crate) fn given_or_built(
    given: Option<&[f32]>,
    dims: ImageShape,
    alpha: [f32; 2],
    sigma: [f32; 2],
    seed: u64,
) -> Cow<'_, [f32]> {
    match given {
        Some(field) => Cow::Borrowed(field),
        None => Cow::Owned(elastic_field(dims, alpha, sigma, seed)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SampleKey;
    use crate::image::testutil::{check_in_range, image};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn warps_keep_shape_and_range((dims, img) in image(), index in 0u64..100, nearest: bool) {
            let interp = if nearest { Interpolation::Nearest } else { Interpolation::Bilinear };
            check_in_range(&RandomPerspective::new(0.6, 1.0, interp, 0.5).unwrap(), dims, &img, index);
            let config = ElasticTransformConfig { alpha: [20.0, 20.0], sigma: [2.0, 2.0], interpolation: interp, fill: 0.25 };
            check_in_range(&ElasticTransform::new(config).unwrap(), dims, &img, index);
        }

        #[test]
        fn the_same_key_gives_the_same_warp((dims, img) in image(), index in 0u64..100) {
            let op = ElasticTransform::new(ElasticTransformConfig::default()).unwrap();
            let a = check_in_range(&op, dims, &img, index);
            let b = check_in_range(&op, dims, &img, index);
            prop_assert_eq!(a, b);
            let op = RandomPerspective::new(0.5, 1.0, Interpolation::Bilinear, 0.0).unwrap();
            let key = SampleKey::new(3, 0, index);
            prop_assert_eq!(op.params(key, dims), op.params(key, dims));
        }
    }

    #[test]
    fn a_zero_field_leaves_the_image_within_grid_rounding() {
        let dims = ImageShape::new(1, 5, 6);
        let field = elastic_field(dims, [0.0, 0.0], [1.0, 1.0], 3);
        assert!(field.iter().all(|&v| v == 0.0));
    }
}
