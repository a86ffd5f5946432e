//! Bounding boxes that follow the geometric ops (torchvision
//! `tv_tensors.BoundingBoxes`): a canvas size, a [`BoxFormat`], one
//! `[f64; 4]` per box and optional class labels, plus torchvision's
//! `SanitizeBoundingBoxes` ([`Boxes::sanitize`]).
//!
//! Every transform converts to XYXY, maps the box (for warps: its four
//! corners, then the enclosing axis-aligned box), clamps to the canvas as
//! torchvision's `clamp_bounding_boxes` does (`x` to `[0, W]`, `y` to
//! `[0, H]`) and converts back to the box's own format.

use crate::ArgError;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// How the four numbers of a box are read (torchvision `BoundingBoxFormat`,
/// the axis-aligned ones). Coordinates are in pixels of the canvas, `x`
/// to the right, `y` down, pixel `(i, j)` spanning `[j, j + 1] × [i, i + 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum BoxFormat {
    /// `[x1, y1, x2, y2]`: top-left and bottom-right corners.
    #[default]
    Xyxy,
    /// `[x, y, w, h]`: top-left corner, width and height (COCO).
    Xywh,
    /// `[cx, cy, w, h]`: centre, width and height (YOLO, DETR).
    Cxcywh,
}

impl BoxFormat {
    /// `b` (in this format) as `[x1, y1, x2, y2]`.
    pub fn to_xyxy(self, b: [f64; 4]) -> [f64; 4] {
        match self {
            BoxFormat::Xyxy => b,
            BoxFormat::Xywh => [b[0], b[1], b[0] + b[2], b[1] + b[3]],
            BoxFormat::Cxcywh => [
                b[0] - b[2] / 2.0,
                b[1] - b[3] / 2.0,
                b[0] + b[2] / 2.0,
                b[1] + b[3] / 2.0,
            ],
        }
    }

    /// `[x1, y1, x2, y2]` in this format.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::BoxFormat;
    ///
    /// let b = BoxFormat::Cxcywh.from_xyxy([2.0, 4.0, 6.0, 10.0]);
    /// assert_eq!(b, [4.0, 7.0, 4.0, 6.0]);
    /// assert_eq!(BoxFormat::Cxcywh.to_xyxy(b), [2.0, 4.0, 6.0, 10.0]);
    /// ```
    pub fn from_xyxy(self, b: [f64; 4]) -> [f64; 4] {
        match self {
            BoxFormat::Xyxy => b,
            BoxFormat::Xywh => [b[0], b[1], b[2] - b[0], b[3] - b[1]],
            BoxFormat::Cxcywh => [
                (b[0] + b[2]) / 2.0,
                (b[1] + b[3]) / 2.0,
                b[2] - b[0],
                b[3] - b[1],
            ],
        }
    }
}

/// Axis-aligned bounding boxes on a canvas of `H × W` pixels, with an
/// optional class label per box (torchvision keeps labels beside the boxes;
/// here they travel with them, so dropping a box drops its label).
///
/// Coordinates are `f64` whatever the image's scalar type: they are
/// positions, not pixel values, and f64 represents every f32 exactly.
///
/// # Examples
///
/// ```
/// use descent_augment::image::{BoxFormat, Boxes};
///
/// let boxes = Boxes::new(BoxFormat::Xywh, [32, 48], vec![[4.0, 2.0, 10.0, 6.0]])?
///     .with_labels(vec![7])?;
/// assert_eq!(boxes.to_xyxy(), vec![[4.0, 2.0, 14.0, 8.0]]);
/// assert!(Boxes::new(BoxFormat::Xyxy, [8, 8], vec![[0.0, f64::NAN, 1.0, 1.0]]).is_err());
/// # Ok::<(), descent_augment::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Boxes {
    format: BoxFormat,
    canvas: [usize; 2],
    coords: Vec<[f64; 4]>,
    labels: Option<Vec<usize>>,
}

impl Boxes {
    /// Boxes in `format` on a canvas of `[height, width]` pixels; every
    /// coordinate must be finite ([`Error::Arg`] otherwise).
    /// Boxes may reach outside the canvas: the first transform clamps them.
    pub fn new(format: BoxFormat, canvas: [usize; 2], coords: Vec<[f64; 4]>) -> Result<Self> {
        if let Some(b) = coords.iter().find(|b| !b.iter().all(|v| v.is_finite())) {
            return Err(Error::Arg(ArgError::new(
                "boxes",
                format!("{b:?}"),
                "every coordinate must be finite",
            )));
        }
        Ok(Boxes {
            format,
            canvas,
            coords,
            labels: None,
        })
    }

    /// These boxes with one class label each ([`Error::ShapeMismatch`] if
    /// the counts differ).
    pub fn with_labels(mut self, labels: Vec<usize>) -> Result<Self> {
        crate::image::check_len("labels", self.coords.len(), labels.len())?;
        self.labels = Some(labels);
        Ok(self)
    }

    /// The format the coordinates are in.
    pub fn format(&self) -> BoxFormat {
        self.format
    }

    /// The canvas `[height, width]`.
    pub fn canvas(&self) -> [usize; 2] {
        self.canvas
    }

    /// The coordinates, in [`format`](Self::format).
    pub fn coords(&self) -> &[[f64; 4]] {
        &self.coords
    }

    /// The labels, if given.
    pub fn labels(&self) -> Option<&[usize]> {
        self.labels.as_deref()
    }

    /// The number of boxes.
    pub fn len(&self) -> usize {
        self.coords.len()
    }

    /// Whether there are no boxes.
    pub fn is_empty(&self) -> bool {
        self.coords.is_empty()
    }

    /// The boxes as `[x1, y1, x2, y2]`.
    pub fn to_xyxy(&self) -> Vec<[f64; 4]> {
        self.coords
            .iter()
            .map(|&b| self.format.to_xyxy(b))
            .collect()
    }

    /// The same boxes in another format.
    pub fn converted(&self, format: BoxFormat) -> Boxes {
        let coords = self
            .to_xyxy()
            .into_iter()
            .map(|b| format.from_xyxy(b))
            .collect();
        Boxes {
            format,
            coords,
            ..self.clone()
        }
    }

    /// Replaces every box by `f(xyxy)` (XYXY in, XYXY out), moves them to
    /// `canvas` and clamps them to it.
    pub(crate) fn map_xyxy(&mut self, canvas: [usize; 2], mut f: impl FnMut([f64; 4]) -> [f64; 4]) {
        let format = self.format;
        let (h, w) = (canvas[0] as f64, canvas[1] as f64);
        for b in &mut self.coords {
            let [x1, y1, x2, y2] = f(format.to_xyxy(*b));
            let cx = |x: f64| x.clamp(0.0, w);
            let cy = |y: f64| y.clamp(0.0, h);
            *b = format.from_xyxy([cx(x1), cy(y1), cx(x2), cy(y2)]);
        }
        self.canvas = canvas;
    }

    /// Maps each box's four corners by `f` (a point map of the canvas) and
    /// takes the enclosing box, then clamps: torchvision's rule for
    /// `affine`, `rotate`, `perspective` and `elastic` on boxes.
    pub(crate) fn map_corners(&mut self, mut f: impl FnMut(f64, f64) -> (f64, f64)) {
        let canvas = self.canvas;
        self.map_xyxy(canvas, |[x1, y1, x2, y2]| {
            let pts = [(x1, y1), (x2, y1), (x2, y2), (x1, y2)].map(|(x, y)| f(x, y));
            let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
            for (x, y) in pts {
                lo = [lo[0].min(x), lo[1].min(y)];
                hi = [hi[0].max(x), hi[1].max(y)];
            }
            [lo[0], lo[1], hi[0], hi[1]]
        });
    }

    /// Drops degenerate boxes and their labels, as torchvision's
    /// `SanitizeBoundingBoxes(min_size, min_area)`: a box is kept when its
    /// width and height are at least `min_size`, its area at least
    /// `min_area`, and it lies inside the canvas. Returns the indices of the
    /// kept boxes (to filter anything else that is per box).
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{BoxFormat, Boxes, SanitizeConfig};
    ///
    /// let mut b = Boxes::new(BoxFormat::Xyxy, [10, 10], vec![[0.0, 0.0, 4.0, 4.0], [3.0, 3.0, 3.5, 9.0]])?
    ///     .with_labels(vec![1, 2])?;
    /// assert_eq!(b.sanitize(&SanitizeConfig::default())?, vec![0]);
    /// assert_eq!(b.labels(), Some(&[1][..]));
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn sanitize(&mut self, config: &SanitizeConfig) -> Result<Vec<usize>> {
        config.check()?;
        let (h, w) = (self.canvas[0] as f64, self.canvas[1] as f64);
        let keep: Vec<usize> = (0..self.coords.len())
            .filter(|&i| {
                let [x1, y1, x2, y2] = self.format.to_xyxy(self.coords[i]);
                let (bw, bh) = (x2 - x1, y2 - y1);
                bw >= config.min_size
                    && bh >= config.min_size
                    && bw * bh >= config.min_area
                    && x1 >= 0.0
                    && y1 >= 0.0
                    && x2 <= w
                    && y2 <= h
            })
            .collect();
        self.coords = keep.iter().map(|&i| self.coords[i]).collect();
        if let Some(labels) = &mut self.labels {
            *labels = keep.iter().map(|&i| labels[i]).collect();
        }
        Ok(keep)
    }
}

/// The thresholds of [`Boxes::sanitize`]; `Default` is torchvision's
/// `SanitizeBoundingBoxes` (`min_size = 1`, `min_area = 1`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SanitizeConfig {
    /// Smallest width and height kept, in pixels.
    pub min_size: f64,
    /// Smallest area kept, in square pixels.
    pub min_area: f64,
}

impl Default for SanitizeConfig {
    fn default() -> Self {
        SanitizeConfig {
            min_size: 1.0,
            min_area: 1.0,
        }
    }
}

impl SanitizeConfig {
    fn check(&self) -> Result<()> {
        for (name, v) in [("min_size", self.min_size), ("min_area", self.min_area)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::Arg(ArgError::new(
                    name,
                    v,
                    "must be finite and non-negative",
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn formats_round_trip(x in -50.0f64..50.0, y in -50.0f64..50.0, w in 0.0f64..40.0, h in 0.0f64..40.0) {
            let xyxy = [x, y, x + w, y + h];
            for f in [BoxFormat::Xyxy, BoxFormat::Xywh, BoxFormat::Cxcywh] {
                let back = f.to_xyxy(f.from_xyxy(xyxy));
                for (a, b) in back.iter().zip(&xyxy) {
                    prop_assert!((a - b).abs() < 1e-12);
                }
            }
        }
    }

    #[test]
    fn sanitize_drops_small_outside_and_labels_follow() {
        let mut b = Boxes::new(
            BoxFormat::Xywh,
            [10, 20],
            vec![
                [0.0, 0.0, 5.0, 5.0],
                [1.0, 1.0, 0.5, 8.0],
                [18.0, 2.0, 3.0, 3.0],
                [2.0, 2.0, 1.0, 1.0],
            ],
        )
        .unwrap()
        .with_labels(vec![10, 11, 12, 13])
        .unwrap();
        assert_eq!(b.sanitize(&SanitizeConfig::default()).unwrap(), [0, 3]);
        assert_eq!(b.labels(), Some(&[10, 13][..]));
        assert_eq!(b.coords(), [[0.0, 0.0, 5.0, 5.0], [2.0, 2.0, 1.0, 1.0]]);
        let bad = SanitizeConfig {
            min_size: f64::NAN,
            ..Default::default()
        };
        assert!(matches!(b.sanitize(&bad), Err(Error::Arg(ArgError { .. }))));
        assert!(matches!(
            b.clone().with_labels(vec![1]),
            Err(Error::ShapeMismatch { .. })
        ));
    }
}
