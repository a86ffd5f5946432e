//! How drawn [`DrawnParams`] move bounding boxes: torchvision v2's box kernels
//! (`horizontal_flip_bounding_boxes`, `crop_bounding_boxes`,
//! `resized_crop_bounding_boxes`, `affine_bounding_boxes`,
//! `perspective_bounding_boxes`, `elastic_bounding_boxes`) for the
//! pipeline's size-keeping ops.

use super::{Boxes, DrawnParams, ImageShape, warp};
use crate::ArgError;
use crate::{Error, Result};

/// torchvision `_get_inverse_affine_matrix(center, …, inverted=False)`:
/// the input → output map `[a, b, c, d, e, f]` of the affine warp whose
/// output → input map the image kernel samples by.
pub(crate) fn forward_affine_matrix(
    center: [f64; 2],
    angle: f64,
    translate: [f64; 2],
    scale: f64,
    shear: [f64; 2],
) -> [f64; 6] {
    let [cx, cy] = center;
    let [tx, ty] = translate;
    let [a, b, c, d] = super::grid::rotation_shear(angle, shear);
    let mut m = [a * scale, b * scale, 0.0, c * scale, d * scale, 0.0];
    m[2] += cx + tx - m[0] * cx - m[1] * cy;
    m[5] += cy + ty - m[3] * cx - m[4] * cy;
    m
}

/// The inverse of perspective `coefficients` (torchvision
/// `_compute_perspective_thetas`): input point → output point.
pub(crate) fn inverse_perspective(c: &[f64; 8]) -> Result<[f64; 8]> {
    let denom = c[0] * c[4] - c[1] * c[3];
    if denom == 0.0 || !denom.is_finite() {
        return Err(Error::Arg(ArgError::new(
            "coefficients",
            format!("{c:?}"),
            "cannot be inverted to move boxes (c0·c4 − c1·c3 = 0)",
        )));
    }
    Ok([
        (c[4] - c[5] * c[7]) / denom,
        (-c[1] + c[2] * c[7]) / denom,
        (c[1] * c[5] - c[2] * c[4]) / denom,
        (-c[3] + c[5] * c[6]) / denom,
        (c[0] - c[2] * c[6]) / denom,
        (-c[0] * c[5] + c[2] * c[3]) / denom,
        (-c[4] * c[6] + c[3] * c[7]) / denom,
        (-c[0] * c[7] + c[1] * c[6]) / denom,
    ])
}

/// Applies the 8 perspective coefficients `k` to the point `(x, y)`.
pub(crate) fn perspective_point(k: &[f64; 8], x: f64, y: f64) -> (f64, f64) {
    let den = k[6] * x + k[7] * y + 1.0;
    (
        (k[0] * x + k[1] * y + k[2]) / den,
        (k[3] * x + k[4] * y + k[5]) / den,
    )
}

/// torchvision `elastic_bounding_boxes`' point map: the corner `(x, y)`
/// moves by minus the displacement at pixel `(ceil y, ceil x)` (clamped to
/// the canvas; torchvision's approximation of the inverse field), in pixels.
pub(crate) fn elastic_point<D: Copy + Into<f64>>(
    field: &[D],
    (h, w): (usize, usize),
    x: f64,
    y: f64,
) -> (f64, f64) {
    let ix = (x.ceil().max(0.0) as usize).min(w - 1);
    let iy = (y.ceil().max(0.0) as usize).min(h - 1);
    let k = 2 * (iy * w + ix);
    (
        ix as f64 - field[k].into() * w as f64 * 0.5,
        iy as f64 - field[k + 1].into() * h as f64 * 0.5,
    )
}

impl DrawnParams {
    /// Moves bounding boxes as these parameters move an image of the boxes'
    /// canvas: flips mirror them, crops shift and clamp them, a resized crop
    /// also scales them, and the warps (affine, perspective, elastic) map
    /// each box's four corners and take the enclosing box, clamped to the
    /// canvas — torchvision v2's box kernels. Photometric ops leave them
    /// unchanged. Checks the parameters first ([`DrawnParams::check`]); a
    /// perspective that cannot be inverted is an [`Error::Arg`]
    /// and the boxes are left unchanged.
    ///
    /// Elastic boxes follow torchvision's approximation (each corner moves
    /// by minus the displacement at its pixel), which need not enclose the
    /// warped object.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{BoxFormat, Boxes, DrawnParams};
    ///
    /// let mut b = Boxes::new(BoxFormat::Xyxy, [4, 10], vec![[1.0, 0.0, 3.0, 2.0]])?;
    /// DrawnParams::HFlip { flip: true }.apply_boxes(&mut b)?;
    /// assert_eq!(b.coords(), [[7.0, 0.0, 9.0, 2.0]]);
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn apply_boxes(&self, boxes: &mut Boxes) -> Result<()> {
        let [h, w] = boxes.canvas();
        let dims = ImageShape::new(1, h, w);
        self.check(dims)?;
        let canvas = [h, w];
        let (hf, wf) = (h as f64, w as f64);
        match *self {
            DrawnParams::HFlip { flip: true } => {
                boxes.map_xyxy(canvas, |[x1, y1, x2, y2]| [wf - x2, y1, wf - x1, y2])
            }
            DrawnParams::VFlip { flip: true } => {
                boxes.map_xyxy(canvas, |[x1, y1, x2, y2]| [x1, hf - y2, x2, hf - y1])
            }
            DrawnParams::Crop { top, left, pad, .. } => {
                let (dx, dy) = (pad as f64 - left as f64, pad as f64 - top as f64);
                boxes.map_xyxy(canvas, |[x1, y1, x2, y2]| {
                    [x1 + dx, y1 + dy, x2 + dx, y2 + dy]
                })
            }
            DrawnParams::ResizedCrop {
                top,
                left,
                height,
                width,
            } if height > 0 && width > 0 => {
                let (t, l) = (top as f64, left as f64);
                let (ch, cw) = (height as f64, width as f64);
                // crop (clamped to the crop), then resize to the canvas
                let (sx, sy) = (wf / cw, hf / ch);
                boxes.map_xyxy(canvas, |[x1, y1, x2, y2]| {
                    let cx = |x: f64| (x - l).clamp(0.0, cw) * sx;
                    let cy = |y: f64| (y - t).clamp(0.0, ch) * sy;
                    [cx(x1), cy(y1), cx(x2), cy(y2)]
                })
            }
            DrawnParams::Affine(a) => {
                // torchvision's box kernel turns about `center` in pixel
                // coordinates, the canvas centre when none is given
                let center = a.center.map_or([wf * 0.5, hf * 0.5], |c| c.map(f64::from));
                let m = forward_affine_matrix(
                    center,
                    a.angle as f64,
                    a.translate.map(f64::from),
                    a.scale as f64,
                    a.shear.map(f64::from),
                );
                boxes.map_corners(|x, y| (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]))
            }
            DrawnParams::Perspective { coefficients, .. } => {
                let k = inverse_perspective(&coefficients)?;
                boxes.map_corners(|x, y| perspective_point(&k, x, y))
            }
            DrawnParams::Elastic {
                alpha, sigma, seed, ..
            } if !dims.is_empty() => {
                let field = warp::elastic_field(dims, alpha, sigma, seed);
                boxes.map_corners(|x, y| elastic_point(&field, (h, w), x, y))
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{Affine, BoxFormat, PadMode};

    fn boxes(format: BoxFormat, b: [f64; 4]) -> Boxes {
        Boxes::new(format, [10, 20], vec![b]).unwrap()
    }

    #[test]
    fn flips_mirror_boxes_in_every_format() {
        let cases = [
            (
                BoxFormat::Xyxy,
                [2.0, 1.0, 5.0, 4.0],
                [15.0, 1.0, 18.0, 4.0],
            ),
            (BoxFormat::Xywh, [2.0, 1.0, 3.0, 3.0], [15.0, 1.0, 3.0, 3.0]),
            (
                BoxFormat::Cxcywh,
                [3.5, 2.5, 3.0, 3.0],
                [16.5, 2.5, 3.0, 3.0],
            ),
        ];
        for (f, b, want) in cases {
            let mut x = boxes(f, b);
            DrawnParams::HFlip { flip: true }
                .apply_boxes(&mut x)
                .unwrap();
            assert_eq!(x.coords(), [want], "{f:?}");
            DrawnParams::HFlip { flip: false }
                .apply_boxes(&mut x)
                .unwrap();
            assert_eq!(x.coords(), [want], "{f:?}");
        }
        let mut x = boxes(BoxFormat::Xyxy, [2.0, 1.0, 5.0, 4.0]);
        DrawnParams::VFlip { flip: true }
            .apply_boxes(&mut x)
            .unwrap();
        assert_eq!(x.coords(), [[2.0, 6.0, 5.0, 9.0]]);
    }

    #[test]
    fn crops_shift_and_clamp() {
        let mut x = boxes(BoxFormat::Xyxy, [1.0, 1.0, 6.0, 4.0]);
        let p = DrawnParams::Crop {
            top: 0,
            left: 4,
            pad: 2,
            mode: PadMode::Reflect,
        };
        p.apply_boxes(&mut x).unwrap();
        assert_eq!(x.coords(), [[0.0, 3.0, 4.0, 6.0]]);
        let mut x = boxes(BoxFormat::Xyxy, [4.0, 2.0, 8.0, 6.0]);
        let p = DrawnParams::ResizedCrop {
            top: 0,
            left: 5,
            height: 5,
            width: 10,
        };
        p.apply_boxes(&mut x).unwrap();
        assert_eq!(x.coords(), [[0.0, 4.0, 6.0, 10.0]]);
    }

    #[test]
    fn a_half_turn_maps_a_box_onto_its_point_reflection() {
        let mut x = boxes(BoxFormat::Xyxy, [2.0, 1.0, 5.0, 4.0]);
        DrawnParams::Affine(Affine::rotation(180.0, 0.0))
            .apply_boxes(&mut x)
            .unwrap();
        let want = [15.0, 6.0, 18.0, 9.0];
        for (a, b) in x.coords()[0].iter().zip(want) {
            assert!((a - b).abs() < 1e-9, "{:?}", x.coords());
        }
    }

    #[test]
    fn the_perspective_inverse_undoes_the_coefficients() {
        let c = [1.1, 0.1, -2.0, 0.05, 0.9, 1.0, 0.001, -0.002];
        let k = inverse_perspective(&c).unwrap();
        let (x, y) = perspective_point(&c, 3.0, 7.0);
        let (bx, by) = perspective_point(&k, x, y);
        assert!((bx - 3.0).abs() < 1e-9 && (by - 7.0).abs() < 1e-9);
        let mut x = boxes(BoxFormat::Xyxy, [1.0, 1.0, 2.0, 2.0]);
        let before = x.clone();
        let p = DrawnParams::Perspective {
            coefficients: [1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0],
            fill: 0.0,
            interpolation: Default::default(),
        };
        assert!(matches!(
            p.apply_boxes(&mut x),
            Err(Error::Arg(ArgError { .. }))
        ));
        assert_eq!(x, before);
    }
}
