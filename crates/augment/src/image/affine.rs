//! Affine warps: rotation, translation, zoom and shear (torchvision
//! `RandomAffine` / `RandomRotation`), bilinear with a constant fill.

use super::{ImageAugment, ImageShape, Params, stash};
use crate::error::check_range;
use crate::{Error, OpCtx, Result};
use rand::RngExt;
use serde::{Deserialize, Serialize};

/// One affine warp about the image centre.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Affine {
    /// Rotation in degrees, counter-clockwise (torchvision's sign).
    pub angle: f32,
    /// Translation in pixels, `[x, y]`.
    pub translate: [f32; 2],
    /// Zoom factor (1 keeps the size; above 1 zooms in).
    pub scale: f32,
    /// Shear angles in degrees, `[x, y]`.
    pub shear: [f32; 2],
    /// Value of pixels that come from outside the image.
    pub fill: f32,
}

impl Affine {
    /// The identity warp with a given fill.
    pub fn identity(fill: f32) -> Self {
        Affine {
            angle: 0.0,
            translate: [0.0; 2],
            scale: 1.0,
            shear: [0.0; 2],
            fill,
        }
    }

    /// torchvision `_get_inverse_affine_matrix` (output → input, centred
    /// pixel coordinates), for the rotation by `-angle` torchvision uses.
    fn inverse_matrix(&self) -> [f64; 6] {
        let rot = (-self.angle as f64).to_radians();
        let (sx, sy) = (
            (self.shear[0] as f64).to_radians(),
            (self.shear[1] as f64).to_radians(),
        );
        let (tx, ty) = (self.translate[0] as f64, self.translate[1] as f64);
        let a = (rot - sy).cos() / sy.cos();
        let b = -(rot - sy).cos() * sx.tan() / sy.cos() - rot.sin();
        let c = (rot - sy).sin() / sy.cos();
        let d = -(rot - sy).sin() * sx.tan() / sy.cos() + rot.cos();
        let s = self.scale as f64;
        let mut m = [d / s, -b / s, 0.0, -c / s, a / s, 0.0];
        m[2] += m[0] * -tx + m[1] * -ty;
        m[5] += m[3] * -tx + m[4] * -ty;
        m
    }
}

/// The configuration of [`RandomAffine`]; `Default` is torchvision's (the
/// identity: every range collapsed, fill 0).
#[derive(Debug, Clone, Copy, PartialEq)]
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
            return Err(Error::config(
                "translate",
                format!("({fx}, {fy})"),
                "fractions must lie in [0, 1]",
            ));
        }
        if config.scale.0 <= 0.0 {
            return Err(Error::config("scale", config.scale.0, "must be positive"));
        }
        if !(0.0..=1.0).contains(&config.fill) {
            return Err(Error::config("fill", config.fill, "must lie in [0, 1]"));
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
    fn draw(&self, ctx: OpCtx, dims: ImageShape, emit: &mut dyn FnMut(Params)) {
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
        emit(Params::Affine(Affine {
            angle,
            translate: [tx, ty],
            scale,
            shear: [shear_x, 0.0],
            fill: c.fill,
        }))
    }
}

/// Warps in place (through `scratch`), bilinear; neighbours outside the
/// image take the fill value.
pub(crate) fn warp(dims: ImageShape, img: &mut [f32], scratch: &mut Vec<f32>, a: &Affine) {
    let (h, w) = (dims.h, dims.w);
    if dims.is_empty() {
        return;
    }
    let m = a.inverse_matrix();
    let src = stash(img, scratch);
    let fill = a.fill as f64;
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    for (plane_out, plane_in) in img.chunks_exact_mut(h * w).zip(src.chunks_exact(h * w)) {
        let at = |x: isize, y: isize| {
            if x < 0 || y < 0 || x >= w as isize || y >= h as isize {
                fill
            } else {
                plane_in[y as usize * w + x as usize] as f64
            }
        };
        for y in 0..h {
            let py = y as f64 + 0.5 - cy;
            for x in 0..w {
                let px = x as f64 + 0.5 - cx;
                let sx = m[0] * px + m[1] * py + m[2] + cx - 0.5;
                let sy = m[3] * px + m[4] * py + m[5] + cy - 0.5;
                let (x0, y0) = (sx.floor(), sy.floor());
                let (fx, fy) = (sx - x0, sy - y0);
                let (x0, y0) = (x0 as isize, y0 as isize);
                let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
                let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
                plane_out[y * w + x] = (top * (1.0 - fy) + bottom * fy) as f32;
            }
        }
    }
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
        fn rotation_by_zero_is_the_identity((dims, img) in image()) {
            let mut x = img.clone();
            warp(dims, &mut x, &mut Vec::new(), &Affine::identity(0.3));
            prop_assert_eq!(&x, &img);
        }
    }

    #[test]
    fn rotation_by_90_degrees_turns_the_image_counter_clockwise() {
        let dims = ImageShape::new(1, 2, 2);
        let mut x = vec![1.0, 2.0, 3.0, 4.0];
        let a = Affine {
            angle: 90.0,
            ..Affine::identity(0.0)
        };
        warp(dims, &mut x, &mut Vec::new(), &a);
        let expected = [2.0, 4.0, 1.0, 3.0];
        for (v, e) in x.iter().zip(expected) {
            assert!((v - e).abs() < 1e-5, "{x:?}");
        }
    }
}
