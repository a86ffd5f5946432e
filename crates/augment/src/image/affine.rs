//! Affine warps: rotation, translation, zoom and shear (torchvision
//! `RandomAffine` / `RandomRotation`), nearest or bilinear with a constant
//! fill blended in at the border as torchvision does.

use super::grid::{self, Interpolation};
use super::spec::OpSpec;
use super::{DrawnParams, ImageAugment, ImageShape, stash};
use crate::ArgError;
use crate::error::check_range;
use crate::{Error, OpCtx, Result};
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// One affine warp: torchvision's `affine(img, angle, translate, scale,
/// shear, interpolation, fill, center)`, about the image centre unless
/// `center` says otherwise.
///
/// `angle` has the sign of torchvision's `affine`: positive turns the image
/// **clockwise** on screen, the opposite of torchvision's `rotate` (a
/// rotation by `θ` counter-clockwise is `angle = −θ`, [`Affine::rotation`]).
/// Until issue 19 it turned the other way while claiming torchvision's
/// sign; an `Affine` logged before then replays mirrored.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Affine {
    /// Rotation in degrees, clockwise on screen (torchvision `affine`'s sign).
    pub angle: f32,
    /// Translation in pixels, `[x, y]`.
    pub translate: [f32; 2],
    /// Zoom factor (1 keeps the size; above 1 zooms in).
    pub scale: f32,
    /// Shear angles in degrees, `[x, y]`.
    pub shear: [f32; 2],
    /// Value of pixels that come from outside the image, blended in as
    /// torchvision's `fill` (bilinear: `(sample − fill)·mask + fill`);
    /// `None` is torchvision's `fill=None`: outside reads as 0 and nothing
    /// is blended, which differs from `Some(0.0)` at bilinear borders.
    /// A log written before issue 19's AutoAugment holds a number here.
    pub fill: Option<f32>,
    /// How pixels are resampled (bilinear when absent from a log).
    #[serde(default)]
    pub interpolation: Interpolation,
    /// The point the warp turns and shears about, in pixel coordinates
    /// `[x, y]` of the image's top-left corner (torchvision's `center`;
    /// `[0, 0]` is the corner AutoAugment's shears use); `None`, the default
    /// and the value when absent from a log, is the image centre.
    #[serde(default)]
    pub center: Option<[f32; 2]>,
}

impl Affine {
    /// The identity warp with a given fill, bilinear, about the centre.
    pub fn identity(fill: f32) -> Self {
        Affine {
            angle: 0.0,
            translate: [0.0; 2],
            scale: 1.0,
            shear: [0.0; 2],
            fill: Some(fill),
            interpolation: Interpolation::Bilinear,
            center: None,
        }
    }

    /// A rotation by `degrees` counter-clockwise (torchvision `rotate`'s
    /// sign), bilinear.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::Affine;
    ///
    /// assert_eq!(Affine::rotation(30.0, 0.0).angle, -30.0);
    /// ```
    pub fn rotation(degrees: f32, fill: f32) -> Self {
        Affine {
            angle: -degrees,
            ..Affine::identity(fill)
        }
    }
}

/// The configuration of [`RandomAffine`]; `Default` is torchvision's (the
/// identity: every range collapsed, fill 0).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RandomAffineConfig {
    /// Rotation range in degrees.
    pub degrees: (f32, f32),
    /// Largest translation as a fraction of width and height, `(fx, fy)`.
    pub translate: (f32, f32),
    /// Zoom range (1 keeps the size).
    pub scale: (f32, f32),
    /// x-shear range in degrees.
    pub shear: (f32, f32),
    /// Fill value outside the image.
    pub fill: f32,
}

impl Default for RandomAffineConfig {
    fn default() -> Self {
        RandomAffineConfig {
            degrees: (0.0, 0.0),
            translate: (0.0, 0.0),
            scale: (1.0, 1.0),
            shear: (0.0, 0.0),
            fill: 0.0,
        }
    }
}

/// A random affine warp: rotation, translation, zoom and shear.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomAffine {
    config: RandomAffineConfig,
}

impl RandomAffine {
    /// A random affine warp.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{RandomAffine, RandomAffineConfig};
    ///
    /// let zoom = RandomAffine::new(RandomAffineConfig { scale: (0.8, 1.2), ..Default::default() })?;
    /// assert!(RandomAffine::new(RandomAffineConfig { scale: (0.0, 1.0), ..Default::default() }).is_err());
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn new(config: RandomAffineConfig) -> Result<Self> {
        check_range("degrees", config.degrees)?;
        check_range("scale", config.scale)?;
        check_range("shear", config.shear)?;
        let (fx, fy) = config.translate;
        if !((0.0..=1.0).contains(&fx) && (0.0..=1.0).contains(&fy)) {
            return Err(Error::Arg(ArgError::new(
                "translate",
                format!("({fx}, {fy})"),
                "fractions must lie in [0, 1]",
            )));
        }
        if config.scale.0 <= 0.0 {
            return Err(Error::Arg(ArgError::new(
                "scale",
                config.scale.0,
                "must be positive",
            )));
        }
        if !(0.0..=1.0).contains(&config.fill) {
            return Err(Error::Arg(ArgError::new(
                "fill",
                config.fill,
                "must lie in [0, 1]",
            )));
        }
        Ok(RandomAffine { config })
    }

    /// torchvision `RandomRotation(degrees)`: an angle uniform in `[-degrees, degrees]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::RandomAffine;
    ///
    /// let rotate = RandomAffine::rotation(15.0, 0.0)?;
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn rotation(degrees: f32, fill: f32) -> Result<Self> {
        Self::new(RandomAffineConfig {
            degrees: (-degrees, degrees),
            fill,
            ..Default::default()
        })
    }

    /// A translation of up to `fraction` of the width and height.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::RandomAffine;
    ///
    /// let shift = RandomAffine::translation(0.125, 0.0)?;
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn translation(fraction: f32, fill: f32) -> Result<Self> {
        Self::new(RandomAffineConfig {
            translate: (fraction, fraction),
            fill,
            ..Default::default()
        })
    }

    /// A zoom by a factor uniform in `scale` (Keras `RandomZoom`).
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::RandomAffine;
    ///
    /// let zoom = RandomAffine::zoom((0.9, 1.1), 0.0)?;
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn zoom(scale: (f32, f32), fill: f32) -> Result<Self> {
        Self::new(RandomAffineConfig {
            scale,
            fill,
            ..Default::default()
        })
    }
}

impl ImageAugment for RandomAffine {
    fn spec(&self) -> Option<OpSpec> {
        Some(OpSpec::RandomAffine(self.config))
    }

    fn draw(&self, ctx: OpCtx, dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        let c = &self.config;
        let mut rng = ctx.rng();
        let mut uniform = |(lo, hi): (f32, f32)| {
            if lo == hi {
                lo
            } else {
                rng.random_range(lo..=hi)
            }
        };
        let angle = uniform(c.degrees);
        let max_dx = (c.translate.0 * dims.w as f32).round();
        let max_dy = (c.translate.1 * dims.h as f32).round();
        let tx = uniform((-max_dx, max_dx)).round();
        let ty = uniform((-max_dy, max_dy)).round();
        let scale = uniform(c.scale);
        let shear_x = uniform(c.shear);
        emit(DrawnParams::Affine(Affine {
            angle,
            translate: [tx, ty],
            scale,
            shear: [shear_x, 0.0],
            fill: Some(c.fill),
            interpolation: Interpolation::Bilinear,
            center: None,
        }))
    }
}

/// Warps in place (through `scratch`): torchvision's `affine` with
/// `fill = [a.fill]` (or `None`) and `center = a.center`.
/// The output → input map of `a` on an image of `dims`, about
/// [`Affine::center`] (the image centre when `None`): what [`warp`] samples
/// with, and what a mask following the image samples with.
pub(crate) fn inverse_matrix(a: &Affine, dims: ImageShape) -> [f64; 6] {
    let center = a.center.map_or([0.0; 2], |[x, y]| {
        [
            x as f64 - dims.w as f64 * 0.5,
            y as f64 - dims.h as f64 * 0.5,
        ]
    });
    grid::inverse_affine_matrix_about(
        center,
        a.angle as f64,
        a.translate.map(f64::from),
        a.scale as f64,
        a.shear.map(f64::from),
    )
}

pub(crate) fn warp(dims: ImageShape, img: &mut [f32], scratch: &mut Vec<f32>, a: &Affine) {
    if dims.is_empty() {
        return;
    }
    let m = inverse_matrix(a, dims);
    let src = stash(img, scratch);
    let fill = a.fill.map(|f| [f]);
    grid::affine(
        src,
        dims,
        img,
        &m,
        a.interpolation,
        fill.as_ref().map(|f| &f[..]),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::testutil::{check_in_range, image};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn affine_warps_keep_shape_and_range((dims, img) in image(), index in 0u64..100) {
            let config = RandomAffineConfig {
                degrees: (-30.0, 30.0), translate: (0.2, 0.2), scale: (0.8, 1.2), shear: (-10.0, 10.0), fill: 0.5,
            };
            check_in_range(&RandomAffine::new(config).unwrap(), dims, &img, index);
        }

        #[test]
        fn the_identity_warp_keeps_the_image_up_to_grid_rounding((dims, img) in image()) {
            // torchvision's grid puts the identity within an ulp of each
            // pixel, not on it, so a fill blends in at the ulp level.
            let mut x = img.clone();
            warp(dims, &mut x, &mut Vec::new(), &Affine::identity(0.3));
            for (a, b) in x.iter().zip(&img) {
                prop_assert!((a - b).abs() < 1e-5, "{} vs {}", a, b);
            }
        }
    }

    #[test]
    fn rotation_by_90_degrees_turns_the_image_counter_clockwise() {
        let dims = ImageShape::new(1, 2, 2);
        let mut x = vec![1.0, 2.0, 3.0, 4.0];
        let a = Affine::rotation(90.0, 0.0);
        warp(dims, &mut x, &mut Vec::new(), &a);
        let expected = [2.0, 4.0, 1.0, 3.0];
        for (v, e) in x.iter().zip(expected) {
            assert!((v - e).abs() < 1e-5, "{x:?}");
        }
    }

    #[test]
    fn a_positive_affine_angle_turns_the_image_clockwise_as_torchvision() {
        let dims = ImageShape::new(1, 2, 2);
        let mut x = vec![1.0, 2.0, 3.0, 4.0];
        let a = Affine {
            angle: 90.0,
            ..Affine::identity(0.0)
        };
        warp(dims, &mut x, &mut Vec::new(), &a);
        let expected = [3.0, 1.0, 4.0, 2.0];
        for (v, e) in x.iter().zip(expected) {
            assert!((v - e).abs() < 1e-5, "{x:?}");
        }
    }
}
