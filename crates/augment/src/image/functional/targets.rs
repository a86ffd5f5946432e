//! The geometric ops of [`functional`](super) on a [`Mask`] and on
//! [`Boxes`], as torchvision's `*_mask` and `*_bounding_boxes` kernels:
//! masks are resampled by nearest neighbour (pixels from outside take the
//! mask's [`fill`](Mask::fill)), boxes are mapped (warps: their four
//! corners, then the enclosing box) and clamped to the new canvas.
//!
//! Each mask op runs the image op itself, in f64 with nearest
//! interpolation, on a plane of source numbers (see
//! [`Mask`]), so it validates its arguments exactly as the image op does
//! and reads the same pixel an f64 image's nearest sample reads.

use super::geometry::{self, center_crop_origin};
use super::{Image, Interpolation, PaddingMode};
use crate::ArgError;
use crate::image::mask::source_plane;
use crate::image::target::{
    elastic_point, forward_affine_matrix, inverse_perspective, perspective_point,
};
use crate::image::{Boxes, ImageShape, Mask, check_len};
use crate::{Error, Result};

/// Runs `op` on the source plane of `mask` and remaps every plane.
fn via_sources(mask: &Mask, op: impl FnOnce(&Image<f64>) -> Result<Image<f64>>) -> Result<Mask> {
    let d = mask.dims();
    let src = Image::new(ImageShape::new(1, d.h, d.w), source_plane::<f64>(d.h, d.w))?;
    let out = op(&src)?;
    let od = out.dims();
    Ok(mask.remapped(od.h, od.w, out.data()))
}

const FILL: Option<&[f64]> = Some(&[0.0]);
const NEAREST: Interpolation = Interpolation::Nearest;

/// torchvision `horizontal_flip_mask`.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::hflip_mask;
/// use descent_augment::image::Mask;
///
/// assert_eq!(hflip_mask(&Mask::new(1, 3, vec![1, 2, 3])?)?.data(), [3, 2, 1]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn hflip_mask(mask: &Mask) -> Result<Mask> {
    via_sources(mask, |s| Ok(geometry::hflip(s)))
}

/// torchvision `vertical_flip_mask`.
pub fn vflip_mask(mask: &Mask) -> Result<Mask> {
    via_sources(mask, |s| Ok(geometry::vflip(s)))
}

/// torchvision `pad_mask`: [`pad`](super::pad) with the mask's fill for
/// the constant mode.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::{pad_mask, PaddingMode};
/// use descent_augment::image::Mask;
///
/// let m = Mask::new(1, 2, vec![1, 2])?.with_fill(255);
/// assert_eq!(pad_mask(&m, &[1, 0], PaddingMode::Constant)?.data(), [255, 1, 2, 255]);
/// assert_eq!(pad_mask(&m, &[1, 0], PaddingMode::Edge)?.data(), [1, 1, 2, 2]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn pad_mask(mask: &Mask, padding: &[usize], mode: PaddingMode) -> Result<Mask> {
    via_sources(mask, |s| geometry::pad(s, padding, mode, FILL))
}

/// torchvision `crop_mask`: the window may reach outside (fill there).
pub fn crop_mask(
    mask: &Mask,
    top: isize,
    left: isize,
    height: usize,
    width: usize,
) -> Result<Mask> {
    via_sources(mask, |s| geometry::crop(s, top, left, height, width))
}

/// torchvision `center_crop_mask`.
pub fn center_crop_mask(mask: &Mask, output_size: [usize; 2]) -> Result<Mask> {
    via_sources(mask, |s| geometry::center_crop(s, output_size))
}

/// torchvision `resize_mask`: nearest (PyTorch's `nearest`, `floor`).
pub fn resize_mask(mask: &Mask, size: [usize; 2]) -> Result<Mask> {
    via_sources(mask, |s| geometry::resize(s, size, NEAREST))
}

/// torchvision `resized_crop_mask`: nearest.
pub fn resized_crop_mask(
    mask: &Mask,
    top: usize,
    left: usize,
    height: usize,
    width: usize,
    size: [usize; 2],
) -> Result<Mask> {
    via_sources(mask, |s| {
        geometry::resized_crop(s, top, left, height, width, size, NEAREST)
    })
}

/// torchvision `rotate_mask` (`expand=False`): `angle` degrees
/// counter-clockwise, as [`rotate`](super::rotate).
pub fn rotate_mask(mask: &Mask, angle: f64) -> Result<Mask> {
    via_sources(mask, |s| geometry::rotate(s, angle, NEAREST, FILL))
}

/// torchvision `affine_mask`: the arguments of [`affine`](super::affine).
pub fn affine_mask(
    mask: &Mask,
    angle: f64,
    translate: [f64; 2],
    scale: f64,
    shear: [f64; 2],
) -> Result<Mask> {
    via_sources(mask, |s| {
        geometry::affine(s, angle, translate, scale, shear, NEAREST, FILL)
    })
}

/// torchvision `perspective_mask` with explicit coefficients.
pub fn perspective_mask(mask: &Mask, coefficients: [f64; 8]) -> Result<Mask> {
    via_sources(mask, |s| {
        geometry::perspective(s, coefficients, NEAREST, FILL)
    })
}

/// torchvision `elastic_mask` with an explicit displacement (as
/// [`elastic`](super::elastic)).
pub fn elastic_mask(mask: &Mask, displacement: &[f64]) -> Result<Mask> {
    via_sources(mask, |s| geometry::elastic(s, displacement, NEAREST, FILL))
}

/// `[left, top, right, bottom]` of a torchvision padding.
fn padding_ltrb(padding: &[usize]) -> Result<[usize; 4]> {
    match *padding {
        [p] => Ok([p; 4]),
        [x, y] => Ok([x, y, x, y]),
        [l, t, r, b] => Ok([l, t, r, b]),
        _ => Err(Error::Arg(ArgError::new(
            "padding",
            format!("{} values", padding.len()),
            "needs 1, 2 or 4 values",
        ))),
    }
}

/// Boxes on a new canvas, shifted by `(dx, dy)` and clamped.
fn shifted(boxes: &Boxes, canvas: [usize; 2], dx: f64, dy: f64) -> Boxes {
    let mut out = boxes.clone();
    out.map_xyxy(canvas, |[x1, y1, x2, y2]| {
        [x1 + dx, y1 + dy, x2 + dx, y2 + dy]
    });
    out
}

/// torchvision `horizontal_flip_bounding_boxes`: `x → W − x`.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::hflip_boxes;
/// use descent_augment::image::{BoxFormat, Boxes};
///
/// let b = Boxes::new(BoxFormat::Xyxy, [5, 10], vec![[1.0, 1.0, 4.0, 2.0]])?;
/// assert_eq!(hflip_boxes(&b).coords(), [[6.0, 1.0, 9.0, 2.0]]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn hflip_boxes(boxes: &Boxes) -> Boxes {
    let mut out = boxes.clone();
    let w = boxes.canvas()[1] as f64;
    out.map_xyxy(boxes.canvas(), |[x1, y1, x2, y2]| [w - x2, y1, w - x1, y2]);
    out
}

/// torchvision `vertical_flip_bounding_boxes`: `y → H − y`.
pub fn vflip_boxes(boxes: &Boxes) -> Boxes {
    let mut out = boxes.clone();
    let h = boxes.canvas()[0] as f64;
    out.map_xyxy(boxes.canvas(), |[x1, y1, x2, y2]| [x1, h - y2, x2, h - y1]);
    out
}

/// torchvision `pad_bounding_boxes`: shifted by the left and top padding
/// onto the grown canvas (the padding as [`pad`](super::pad)).
pub fn pad_boxes(boxes: &Boxes, padding: &[usize]) -> Result<Boxes> {
    let [l, t, r, b] = padding_ltrb(padding)?;
    let [h, w] = boxes.canvas();
    let grow = |a: usize, x: usize, y: usize| a.checked_add(x).and_then(|s| s.checked_add(y));
    let (Some(oh), Some(ow)) = (grow(h, t, b), grow(w, l, r)) else {
        return Err(Error::Arg(ArgError::new(
            "padding",
            format!("{padding:?}"),
            "is too large",
        )));
    };
    Ok(shifted(boxes, [oh, ow], l as f64, t as f64))
}

/// torchvision `crop_bounding_boxes`: shifted by `(−left, −top)` onto a
/// `height × width` canvas and clamped to it.
pub fn crop_boxes(boxes: &Boxes, top: isize, left: isize, height: usize, width: usize) -> Boxes {
    shifted(boxes, [height, width], -(left as f64), -(top as f64))
}

/// torchvision `center_crop_bounding_boxes`.
pub fn center_crop_boxes(boxes: &Boxes, output_size: [usize; 2]) -> Boxes {
    let [h, w] = boxes.canvas();
    let (top, left) = center_crop_origin((h, w), output_size);
    crop_boxes(boxes, top, left, output_size[0], output_size[1])
}

/// torchvision `resize_bounding_boxes` to `size = [h, w]`: scaled by
/// `w / W` and `h / H`.
pub fn resize_boxes(boxes: &Boxes, size: [usize; 2]) -> Result<Boxes> {
    let [h, w] = boxes.canvas();
    if size.contains(&0) || h == 0 || w == 0 {
        return Err(Error::Arg(ArgError::new(
            "size",
            format!("{size:?} from {:?}", boxes.canvas()),
            "sizes must be positive",
        )));
    }
    let (sx, sy) = (size[1] as f64 / w as f64, size[0] as f64 / h as f64);
    let mut out = boxes.clone();
    out.map_xyxy(size, |[x1, y1, x2, y2]| {
        [x1 * sx, y1 * sy, x2 * sx, y2 * sy]
    });
    Ok(out)
}

/// torchvision `resized_crop_bounding_boxes`: [`crop_boxes`] then
/// [`resize_boxes`].
pub fn resized_crop_boxes(
    boxes: &Boxes,
    top: usize,
    left: usize,
    height: usize,
    width: usize,
    size: [usize; 2],
) -> Result<Boxes> {
    let cropped = crop_boxes(boxes, top as isize, left as isize, height, width);
    resize_boxes(&cropped, size)
}

/// Checks the warp arguments shared with the image ops.
fn check_finite(name: &'static str, vs: &[f64]) -> Result<()> {
    match vs.iter().find(|v| !v.is_finite()) {
        Some(v) => Err(Error::Arg(ArgError::new(name, v, "must be finite"))),
        None => Ok(()),
    }
}

/// torchvision `affine_bounding_boxes` (`center=None`, `expand=False`):
/// the four corners through the forward affine map about the canvas
/// centre, then the enclosing box, clamped.
///
/// # Examples
///
/// ```
/// use descent_augment::image::functional::affine_boxes;
/// use descent_augment::image::{BoxFormat, Boxes};
///
/// let b = Boxes::new(BoxFormat::Xyxy, [10, 10], vec![[4.0, 4.0, 6.0, 6.0]])?;
/// let moved = affine_boxes(&b, 0.0, [2.0, -1.0], 1.0, [0.0, 0.0])?;
/// assert_eq!(moved.coords(), [[6.0, 3.0, 8.0, 5.0]]);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn affine_boxes(
    boxes: &Boxes,
    angle: f64,
    translate: [f64; 2],
    scale: f64,
    shear: [f64; 2],
) -> Result<Boxes> {
    check_finite(
        "angle/translate/shear",
        &[angle, translate[0], translate[1], shear[0], shear[1]],
    )?;
    if !(scale.is_finite() && scale > 0.0) {
        return Err(Error::Arg(ArgError::new(
            "scale",
            scale,
            "must be finite and positive",
        )));
    }
    let [h, w] = boxes.canvas();
    let m = forward_affine_matrix(
        [w as f64 * 0.5, h as f64 * 0.5],
        angle,
        translate,
        scale,
        shear,
    );
    let mut out = boxes.clone();
    out.map_corners(|x, y| (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]));
    Ok(out)
}

/// torchvision `rotate_bounding_boxes` (`expand=False`): `angle` degrees
/// counter-clockwise, [`affine_boxes`] by `−angle`.
pub fn rotate_boxes(boxes: &Boxes, angle: f64) -> Result<Boxes> {
    affine_boxes(boxes, -angle, [0.0; 2], 1.0, [0.0; 2])
}

/// torchvision `perspective_bounding_boxes` with explicit coefficients
/// (output → input, as [`perspective`](super::perspective)): the corners
/// through the inverse map, then the enclosing box, clamped.
pub fn perspective_boxes(boxes: &Boxes, coefficients: [f64; 8]) -> Result<Boxes> {
    check_finite("coefficients", &coefficients)?;
    let k = inverse_perspective(&coefficients)?;
    let mut out = boxes.clone();
    out.map_corners(|x, y| perspective_point(&k, x, y));
    Ok(out)
}

/// torchvision `elastic_bounding_boxes` with an explicit displacement (as
/// [`elastic`](super::elastic)): each corner moves by minus the
/// displacement at its (ceiled, clamped) pixel — torchvision's
/// approximation of the inverse field.
pub fn elastic_boxes(boxes: &Boxes, displacement: &[f64]) -> Result<Boxes> {
    let [h, w] = boxes.canvas();
    check_len("displacement", 2 * h * w, displacement.len())?;
    let mut out = boxes.clone();
    if h * w > 0 {
        out.map_corners(|x, y| elastic_point(displacement, (h, w), x, y));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::functional as f;
    use crate::image::{Affine, BoxFormat, DrawnParams};
    use proptest::prelude::*;

    /// A mask read as a one-channel f64 image.
    fn as_image(m: &Mask) -> Image<f64> {
        Image::new(m.dims(), m.data().iter().map(|&v| v as f64).collect()).unwrap()
    }

    fn labels(img: &Image<f64>) -> Vec<u32> {
        img.data().iter().map(|&v| v as u32).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Each mask op is the image op, nearest, with the mask's fill.
        #[test]
        fn mask_ops_are_the_image_ops_with_nearest_and_the_masks_fill(
            (h, w) in (2usize..9, 2usize..9), seed in 0u32..1000, angle in -180.0f64..180.0,
            t in (-3.0f64..3.0, -3.0f64..3.0), scale in 0.6f64..1.5, p in 0usize..3, size in (1usize..12, 1usize..12),
        ) {
            let data: Vec<u32> = (0..h * w).map(|k| (k as u32 * 7 + seed) % 5).collect();
            let m = Mask::new(h, w, data).unwrap().with_fill(255);
            let img = as_image(&m);
            let fill = Some(&[255.0][..]);
            let n = Interpolation::Nearest;
            let coeffs = [1.05, 0.1, -0.5, -0.05, 0.95, 0.3, 0.002, -0.003];
            let disp: Vec<f64> = (0..2 * h * w).map(|k| ((k * 37 % 11) as f64 - 5.0) / 20.0).collect();
            let pairs = [
                (hflip_mask(&m).unwrap(), f::hflip(&img)),
                (vflip_mask(&m).unwrap(), f::vflip(&img)),
                (pad_mask(&m, &[p, p + 1], PaddingMode::Constant).unwrap(), f::pad(&img, &[p, p + 1], PaddingMode::Constant, fill).unwrap()),
                (pad_mask(&m, &[p.min(h - 1).min(w - 1)], PaddingMode::Reflect).unwrap(), f::pad(&img, &[p.min(h - 1).min(w - 1)], PaddingMode::Reflect, None).unwrap()),
                (resize_mask(&m, [size.0, size.1]).unwrap(), f::resize(&img, [size.0, size.1], n).unwrap()),
                (rotate_mask(&m, angle).unwrap(), f::rotate(&img, angle, n, fill).unwrap()),
                (affine_mask(&m, angle, [t.0, t.1], scale, [t.1 * 5.0, 0.0]).unwrap(), f::affine(&img, angle, [t.0, t.1], scale, [t.1 * 5.0, 0.0], n, fill).unwrap()),
                (perspective_mask(&m, coeffs).unwrap(), f::perspective(&img, coeffs, n, fill).unwrap()),
                (elastic_mask(&m, &disp).unwrap(), f::elastic(&img, &disp, n, fill).unwrap()),
            ];
            for (k, (mask, image)) in pairs.iter().enumerate() {
                prop_assert_eq!(mask.dims(), image.dims(), "op {}", k);
                prop_assert_eq!(mask.data(), &labels(image)[..], "op {}", k);
            }
            // A crop reaching outside fills with the mask's fill.
            let c = crop_mask(&m, -1, 1, h, w).unwrap();
            prop_assert!(c.data()[..w].iter().all(|&v| v == 255));
            prop_assert_eq!(center_crop_mask(&m, [h, w]).unwrap(), m.clone());
        }

        /// The functional box ops and the pipeline's `apply_boxes` agree.
        #[test]
        fn functional_boxes_are_the_pipelines_boxes(
            x in 0.0f64..10.0, y in 0.0f64..8.0, bw in 0.5f64..6.0, bh in 0.5f64..6.0,
            angle in -90.0f32..90.0, scale in 0.7f32..1.3,
        ) {
            let b = Boxes::new(BoxFormat::Xywh, [12, 16], vec![[x, y, bw, bh]]).unwrap();
            let mut piped = b.clone();
            DrawnParams::HFlip { flip: true }.apply_boxes(&mut piped).unwrap();
            prop_assert_eq!(&hflip_boxes(&b), &piped);
            let a = Affine { angle, scale, translate: [1.0, -2.0], shear: [3.0, 0.0], ..Affine::identity(0.0) };
            let mut piped = b.clone();
            DrawnParams::Affine(a).apply_boxes(&mut piped).unwrap();
            let f = affine_boxes(&b, angle as f64, [1.0, -2.0], scale as f64, [3.0, 0.0]).unwrap();
            prop_assert_eq!(f, piped);
            let mut piped = b.clone();
            DrawnParams::ResizedCrop { top: 2, left: 3, height: 6, width: 8 }.apply_boxes(&mut piped).unwrap();
            let f = resized_crop_boxes(&b, 2, 3, 6, 8, [12, 16]).unwrap();
            for (p, q) in piped.coords()[0].iter().zip(f.coords()[0]) {
                prop_assert!((p - q).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn size_changing_box_ops_move_the_canvas() {
        let b = Boxes::new(BoxFormat::Xyxy, [10, 20], vec![[2.0, 2.0, 6.0, 4.0]]).unwrap();
        let p = pad_boxes(&b, &[1, 2]).unwrap();
        assert_eq!(
            (p.canvas(), p.coords()),
            ([14, 22], &[[3.0, 4.0, 7.0, 6.0]][..])
        );
        let c = center_crop_boxes(&b, [6, 10]);
        assert_eq!(
            (c.canvas(), c.coords()),
            ([6, 10], &[[0.0, 0.0, 1.0, 2.0]][..])
        );
        let r = resize_boxes(&b, [5, 40]).unwrap();
        assert_eq!(
            (r.canvas(), r.coords()),
            ([5, 40], &[[4.0, 1.0, 12.0, 2.0]][..])
        );
        let q = rotate_boxes(&b, 180.0).unwrap();
        for (v, want) in q.coords()[0].iter().zip([14.0, 6.0, 18.0, 8.0]) {
            assert!((v - want).abs() < 1e-9, "{q:?}");
        }
        assert!(pad_boxes(&b, &[1, 2, 3]).is_err());
        assert!(resize_boxes(&b, [0, 4]).is_err());
        assert!(affine_boxes(&b, f64::NAN, [0.0; 2], 1.0, [0.0; 2]).is_err());
        assert!(elastic_boxes(&b, &[0.0; 3]).is_err());
        assert!(perspective_boxes(&b, [0.0; 8]).is_err());
    }
}
