//! Coloured shapes: a small image set whose class is the shape.
//!
//! Every shape is symmetric about its vertical axis and centres are
//! multiples of half a pixel, so a horizontal flip of an image is exactly
//! the image of the same class drawn at the mirrored centre, which the
//! generator can produce; an integer shift (a crop) is the same class at a
//! shifted centre; and colours carry no class information. Flips, crops and
//! colour shifts therefore preserve the label. (A vertical flip would turn
//! the triangle upside down, which the generator never draws.)

use crate::ArgError;
use crate::{Error, ImageShape, InMemory, Result};
use descent_core::Scalar;
use nalgebra::DMatrix;
use rand::{Rng, RngExt};

/// The classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    /// Class 0: a disc of radius `r`.
    Circle = 0,
    /// Class 1: an axis-aligned square of half-side `0.8 r`.
    Square = 1,
    /// Class 2: an isosceles triangle, apex up, height `2r`, base `2r`.
    Triangle = 2,
    /// Class 3: a plus sign, arms of half-length `r` and half-width `r/3`.
    Cross = 3,
}

impl Shape {
    /// All classes, in label order.
    pub const ALL: [Shape; 4] = [Shape::Circle, Shape::Square, Shape::Triangle, Shape::Cross];

    /// Whether the point `(dx, dy)` from the centre is inside (y grows down).
    fn contains(self, dx: f64, dy: f64, r: f64) -> bool {
        let ax = dx.abs();
        match self {
            Shape::Circle => dx * dx + dy * dy <= r * r,
            Shape::Square => ax <= 0.8 * r && dy.abs() <= 0.8 * r,
            Shape::Triangle => (-r..=r).contains(&dy) && ax <= (dy + r) / 2.0,
            Shape::Cross => (ax <= r && dy.abs() <= r / 3.0) || (ax <= r / 3.0 && dy.abs() <= r),
        }
    }
}

/// Everything that determines one image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShapeParams {
    /// The class.
    pub shape: Shape,
    /// Centre, in pixels from the left edge (a multiple of 0.5).
    pub cx: f64,
    /// Centre, in pixels from the top edge (a multiple of 0.5).
    pub cy: f64,
    /// Size parameter `r`, in pixels.
    pub radius: f64,
    /// Shape colour, RGB in `[0, 1]`.
    pub foreground: [f64; 3],
    /// Background colour, RGB in `[0, 1]`.
    pub background: [f64; 3],
}

impl ShapeParams {
    /// Draws the parameters of a `size × size` image of `shape`: radius
    /// uniform in `[0.15, 0.35]·size`; centre uniform on the half-pixel grid
    /// keeping the shape one pixel inside the border (a range symmetric
    /// under mirroring); background uniform in `[0, 1]³`; foreground uniform
    /// among colours at least 0.4 away (Euclidean) from the background.
    pub fn sample(shape: Shape, size: usize, rng: &mut impl Rng) -> Self {
        let s = size as f64;
        let radius = rng.random_range(0.15..=0.35) * s;
        let lo = (2.0 * (radius + 1.0)).ceil() as i64;
        let hi = ((2.0 * (s - radius - 1.0)).floor() as i64).max(lo);
        let cx = rng_half(rng, lo, hi);
        let cy = rng_half(rng, lo, hi);
        let background: [f64; 3] = [rng.random(), rng.random(), rng.random()];
        let foreground = loop {
            let c: [f64; 3] = [rng.random(), rng.random(), rng.random()];
            let d2: f64 = c
                .iter()
                .zip(&background)
                .map(|(a, b)| (a - b).powi(2))
                .sum();
            if d2 >= 0.16 {
                break c;
            }
        };
        ShapeParams {
            shape,
            cx,
            cy,
            radius,
            foreground,
            background,
        }
    }

    /// Draws the image into `out` (`3·size·size`, planar RGB), testing each
    /// pixel's centre.
    pub fn render<S: Scalar>(&self, size: usize, out: &mut [S]) {
        let plane = size * size;
        for y in 0..size {
            for x in 0..size {
                let inside = self.shape.contains(
                    x as f64 + 0.5 - self.cx,
                    y as f64 + 0.5 - self.cy,
                    self.radius,
                );
                let colour = if inside {
                    &self.foreground
                } else {
                    &self.background
                };
                for (c, &v) in colour.iter().enumerate() {
                    out[c * plane + y * size + x] = S::cast(v);
                }
            }
        }
    }
}

/// `k / 2` for `k` uniform in `lo..=hi`.
fn rng_half(rng: &mut impl Rng, lo: i64, hi: i64) -> f64 {
    rng.random_range(lo..=hi) as f64 / 2.0
}

/// Arguments of [`make_shapes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShapesConfig {
    /// Number of images (default 1000).
    pub n_samples: usize,
    /// Side of the square images in pixels (default 32, at least 8).
    pub size: usize,
}

impl Default for ShapesConfig {
    fn default() -> Self {
        ShapesConfig {
            n_samples: 1000,
            size: 32,
        }
    }
}

/// `n_samples` images of `3 × size × size`, values in `[0, 1]`, 4 classes
/// ([`Shape`]): each sample's class is uniform, then its
/// [`ShapeParams::sample`].
///
/// # Examples
///
/// ```
/// use descent_data::{make_shapes, Dataset, ImageShape, ShapesConfig};
/// use rand::SeedableRng;
///
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
/// let shapes = make_shapes::<f32>(&ShapesConfig { n_samples: 16, size: 16 }, &mut rng)?;
/// assert_eq!(shapes.schema().image, Some(ImageShape::new(3, 16, 16)));
/// # Ok::<(), descent_data::Error>(())
/// ```
pub fn make_shapes<S: Scalar>(config: &ShapesConfig, rng: &mut impl Rng) -> Result<InMemory<S>> {
    if config.size < 8 {
        return Err(Error::Arg(ArgError::new(
            "size",
            config.size,
            "must be at least 8",
        )));
    }
    let dims = ImageShape::new(3, config.size, config.size);
    let d = dims.len();
    let mut pixels = vec![S::zero(); config.n_samples * d];
    let mut labels = Vec::with_capacity(config.n_samples);
    for image in pixels.chunks_mut(d) {
        let shape = Shape::ALL[rng.random_range(0..4)];
        ShapeParams::sample(shape, config.size, rng).render(config.size, image);
        labels.push(shape as usize);
    }
    let x = DMatrix::from_fn(config.n_samples, d, |i, j| pixels[i * d + j]);
    InMemory::classification(x, labels, 4)?.with_image(dims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn render(p: &ShapeParams, size: usize) -> Vec<f64> {
        let mut out = vec![0.0; 3 * size * size];
        p.render(size, &mut out);
        out
    }

    fn hflip(img: &[f64], size: usize) -> Vec<f64> {
        let mut out = img.to_vec();
        for row in out.chunks_mut(size) {
            row.reverse();
        }
        out
    }

    fn mask(p: &ShapeParams, size: usize) -> Vec<bool> {
        let img = render(p, size);
        (0..size * size)
            .map(|i| (0..3).any(|c| img[c * size * size + i] != p.background[c]))
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn a_horizontal_flip_is_the_same_class_at_the_mirrored_centre(
            seed: u64, class in 0usize..4, size in 8usize..40,
        ) {
            let p = ShapeParams::sample(Shape::ALL[class], size, &mut ChaCha8Rng::seed_from_u64(seed));
            let mirrored = ShapeParams { cx: size as f64 - p.cx, ..p };
            // The mirrored centre is one the generator can draw: same range, same grid.
            let lo = (2.0 * (p.radius + 1.0)).ceil() / 2.0;
            let hi = size as f64 - lo;
            prop_assert!((lo..=hi).contains(&p.cx) && (lo..=hi).contains(&mirrored.cx));
            prop_assert_eq!((2.0 * mirrored.cx).fract(), 0.0);
            prop_assert_eq!(hflip(&render(&p, size), size), render(&mirrored, size));
        }

        #[test]
        fn a_one_pixel_shift_is_the_same_class_shifted(seed: u64, class in 0usize..4) {
            let size = 24;
            let p = ShapeParams::sample(Shape::ALL[class], size, &mut ChaCha8Rng::seed_from_u64(seed));
            let shifted = ShapeParams { cx: p.cx + 1.0, ..p };
            let (a, b) = (mask(&p, size), mask(&shifted, size));
            for y in 0..size {
                for x in 1..size {
                    prop_assert_eq!(a[y * size + x - 1], b[y * size + x]);
                }
            }
        }

        #[test]
        fn colours_do_not_change_the_shape(seed: u64, class in 0usize..4) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let p = ShapeParams::sample(Shape::ALL[class], 20, &mut rng);
            let q = ShapeParams { foreground: [1.0, 1.0, 1.0], background: [0.0, 0.0, 0.0], ..p };
            prop_assert_eq!(mask(&p, 20), mask(&q, 20));
            prop_assert!(mask(&p, 20).iter().any(|&m| m), "the shape is visible");
        }
    }

    #[test]
    fn shapes_are_deterministic_in_range_and_cover_all_classes() {
        let c = ShapesConfig {
            n_samples: 64,
            size: 16,
        };
        let a = make_shapes::<f32>(&c, &mut ChaCha8Rng::seed_from_u64(3)).unwrap();
        assert_eq!(
            a,
            make_shapes::<f32>(&c, &mut ChaCha8Rng::seed_from_u64(3)).unwrap()
        );
        assert!(a.features().iter().all(|&v| (0.0..=1.0).contains(&v)));
        let labels = a.class_labels().unwrap();
        assert!((0..4).all(|k| labels.contains(&k)));
    }

    #[test]
    fn the_classes_have_different_masks() {
        let base = ShapeParams {
            shape: Shape::Circle,
            cx: 16.0,
            cy: 16.0,
            radius: 9.0,
            foreground: [1.0; 3],
            background: [0.0; 3],
        };
        let masks: Vec<_> = Shape::ALL
            .iter()
            .map(|&shape| mask(&ShapeParams { shape, ..base }, 32))
            .collect();
        for i in 0..4 {
            for j in i + 1..4 {
                assert_ne!(masks[i], masks[j], "{i} vs {j}");
            }
        }
    }

    #[test]
    fn tiny_images_are_rejected() {
        let err = make_shapes::<f32>(
            &ShapesConfig {
                n_samples: 1,
                size: 4,
            },
            &mut ChaCha8Rng::seed_from_u64(0),
        )
        .unwrap_err();
        assert!(matches!(err, Error::Arg(ArgError { name: "size", .. })));
    }
}
