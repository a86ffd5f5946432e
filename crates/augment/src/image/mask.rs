//! Segmentation masks that follow the geometric ops (torchvision
//! `tv_tensors.Mask`): integer class maps resampled by **nearest**
//! neighbour, with their own fill for pixels from outside the image.
//!
//! A mask is never interpolated itself: the op's own kernel is run on a
//! plane holding `1 + index` of each pixel (0 marks "outside"), with nearest
//! interpolation and fill 0, and each output pixel then copies the class
//! of the source pixel it names. So a mask pixel comes from exactly the
//! pixel the image's nearest sample reads, for every op, and any label
//! type can follow.

use super::{DrawnParams, ImageShape, Interpolation, affine, check_len, crop, flip, grid, warp};
use crate::ArgError;
use crate::{Error, Result};
use descent_core::Scalar;
use serde::{Deserialize, Serialize};

/// A segmentation mask: `C × H × W` integer labels (usually `C = 1`, a class
/// map; torchvision's `Mask` also holds `K × H × W` instance masks), and the
/// label given to pixels that come from outside the image (torchvision
/// fills masks with 0; an ignore index such as 255 keeps them out of the
/// loss).
///
/// # Examples
///
/// ```
/// use descent_augment::image::Mask;
///
/// let m = Mask::new(2, 3, vec![0, 0, 1, 0, 1, 1])?.with_fill(255);
/// assert_eq!(m.dims().plane(), 6);
/// assert_eq!(m.fill(), 255);
/// assert!(Mask::new(2, 3, vec![0; 5]).is_err());
/// # Ok::<(), descent_augment::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mask {
    dims: ImageShape,
    data: Vec<u32>,
    fill: u32,
}

impl Mask {
    /// A one-channel `h × w` class map (row-major), fill 0.
    pub fn new(h: usize, w: usize, data: Vec<u32>) -> Result<Self> {
        Self::with_channels(ImageShape::new(1, h, w), data)
    }

    /// A `C × H × W` mask (channel-major, row-major), fill 0.
    pub fn with_channels(dims: ImageShape, data: Vec<u32>) -> Result<Self> {
        check_len("mask", dims.len(), data.len())?;
        Ok(Mask {
            dims,
            data,
            fill: 0,
        })
    }

    /// This mask with pixels from outside the image labelled `fill`.
    pub fn with_fill(mut self, fill: u32) -> Self {
        self.fill = fill;
        self
    }

    /// The shape.
    pub fn dims(&self) -> ImageShape {
        self.dims
    }

    /// The labels, flat CHW.
    pub fn data(&self) -> &[u32] {
        &self.data
    }

    /// The labels, flat CHW, mutably.
    pub fn data_mut(&mut self) -> &mut [u32] {
        &mut self.data
    }

    /// The label of pixels from outside the image.
    pub fn fill(&self) -> u32 {
        self.fill
    }

    /// The labels, flat CHW.
    pub fn into_data(self) -> Vec<u32> {
        self.data
    }

    /// Builds the result of a size-changing op from its source map.
    pub(crate) fn remapped<T: Scalar>(&self, oh: usize, ow: usize, map: &[T]) -> Mask {
        let mut data = Vec::with_capacity(self.dims.c * oh * ow);
        for plane in self.data.chunks_exact(self.dims.plane().max(1)) {
            data.extend(map.iter().map(|&k| lookup(plane, k, self.fill)));
        }
        data.truncate(self.dims.c * oh * ow);
        Mask {
            dims: ImageShape::new(self.dims.c, oh, ow),
            data,
            fill: self.fill,
        }
    }
}

/// The label of source `k` (1-based; 0 is the fill) in `plane`.
#[inline]
fn lookup<L: Copy, T: Scalar>(plane: &[L], k: T, fill: L) -> L {
    let k = k.as_f64() as usize;
    if k == 0 { fill } else { plane[k - 1] }
}

/// A plane of `h × w` source numbers `1 ..= h·w`.
pub(crate) fn source_plane<T: Scalar>(h: usize, w: usize) -> Vec<T> {
    (1..=h * w).map(T::from_count).collect()
}

/// Largest plane whose source numbers f32 holds exactly.
const F32_EXACT: usize = 1 << 24;

/// For each output pixel of the geometric op `p` on an `h × w` plane:
/// `1 +` the source pixel its nearest sample reads, or 0 where the fill
/// goes, written into reused buffers: `Some(true)` when the map is in
/// `dst`, `Some(false)` when in `src`, `None` when `p` does not move pixels
/// (photometric ops, a flip not taken, an invalid window the image op also
/// skips). Neither buffer reallocates once it holds a plane (the elastic
/// field aside). An elastic warp reads `field` when given (the image's, see
/// [`apply_with_mask`]), else builds it.
fn source_map_into<T: Scalar>(
    p: &DrawnParams,
    h: usize,
    w: usize,
    (src, dst): (&mut Vec<T>, &mut Vec<T>),
    field: Option<&[f32]>,
) -> Option<bool> {
    let dims = ImageShape::new(1, h, w);
    if dims.is_empty() || !moves_pixels(p) {
        return None;
    }
    let zero = [T::cast(0.0)];
    src.clear();
    src.extend((1..=h * w).map(T::from_count));
    dst.clear();
    dst.resize(h * w, T::cast(0.0));
    let (src, dst) = (&mut src[..], &mut dst[..]);
    match *p {
        DrawnParams::HFlip { flip: true } => {
            flip::hflip(dims, src);
            return Some(false);
        }
        DrawnParams::VFlip { flip: true } => {
            flip::vflip(dims, src);
            return Some(false);
        }
        DrawnParams::Crop {
            top,
            left,
            pad,
            mode,
        } => {
            let span = pad.checked_mul(2).filter(|&s| s <= isize::MAX as usize / 2);
            if (top == pad && left == pad) || span.is_none_or(|s| top > s || left > s) {
                return None;
            }
            let origin = (top as isize - pad as isize, left as isize - pad as isize);
            crop::window(src, dims, dst, origin, (h, w), mode.split().0, Some(&zero));
        }
        DrawnParams::ResizedCrop {
            top,
            left,
            height,
            width,
        } => {
            p.check(dims).ok()?;
            if height == 0 || width == 0 {
                return None;
            }
            let window = (top, left, height, width);
            crop::resize(src, dims, dst, window, (h, w), Interpolation::Nearest);
        }
        DrawnParams::Affine(a) => {
            let m = affine::inverse_matrix(&a, dims);
            grid::affine(src, dims, dst, &m, Interpolation::Nearest, Some(&zero));
        }
        DrawnParams::Perspective { coefficients, .. } => {
            let c = &coefficients;
            grid::perspective(src, dims, dst, c, Interpolation::Nearest, Some(&zero));
        }
        DrawnParams::Elastic {
            alpha, sigma, seed, ..
        } => {
            p.check(dims).ok()?;
            let field = warp::given_or_built(field, dims, alpha, sigma, seed);
            let field: Vec<T> = field.iter().map(|&v| T::cast(v as f64)).collect();
            grid::elastic(src, dims, dst, &field, Interpolation::Nearest, Some(&zero));
        }
        _ => return None,
    }
    Some(true)
}

/// Whether `p` may move pixels (so a mask follows): the variants
/// [`source_map_into`] handles, checked before it fills any buffer.
fn moves_pixels(p: &DrawnParams) -> bool {
    matches!(
        p,
        DrawnParams::HFlip { flip: true }
            | DrawnParams::VFlip { flip: true }
            | DrawnParams::Crop { .. }
            | DrawnParams::ResizedCrop { .. }
            | DrawnParams::Affine(_)
            | DrawnParams::Perspective { .. }
            | DrawnParams::Elastic { .. }
    )
}

/// The buffers [`apply_params`] reuses from call to call: one plane of
/// labels and the source map's two planes, so moving a mask allocates
/// nothing once they have grown (the elastic field aside).
#[derive(Debug)]
pub(crate) struct MaskScratch<L> {
    plane: Vec<L>,
    src: Vec<f32>,
    dst: Vec<f32>,
    src64: Vec<f64>,
    dst64: Vec<f64>,
}

impl<L> Default for MaskScratch<L> {
    fn default() -> Self {
        MaskScratch {
            plane: Vec::new(),
            src: Vec::new(),
            dst: Vec::new(),
            src64: Vec::new(),
            dst64: Vec::new(),
        }
    }
}

/// Applies `p` to one image (`dims`) as [`DrawnParams::apply`] does and
/// moves its mask (`planes` of `H × W` labels) as [`apply_params`] does,
/// from one draw: an elastic warp's displacement field is built once and
/// read by both.
pub(crate) fn apply_with_mask<L: Copy>(
    p: &DrawnParams,
    (dims, img, scratch): (ImageShape, &mut [f32], &mut Vec<f32>),
    mask: &mut [L],
    fill: L,
    plane: &mut MaskScratch<L>,
) {
    let field = match *p {
        DrawnParams::Elastic {
            alpha, sigma, seed, ..
        } if !dims.is_empty() && p.check(dims).is_ok() => {
            Some(warp::elastic_field(dims, alpha, sigma, seed))
        }
        _ => None,
    };
    p.apply_with_field(dims, img, scratch, field.as_deref());
    apply_params_with_field(p, (dims.h, dims.w), mask, fill, plane, field.as_deref());
}

/// Moves `mask` (`planes` of `h × w` labels back to back) as the geometric
/// op `p` moves an `h × w` image, in place; photometric ops leave it alone.
pub(crate) fn apply_params<L: Copy>(
    p: &DrawnParams,
    hw: (usize, usize),
    mask: &mut [L],
    fill: L,
    scratch: &mut MaskScratch<L>,
) {
    apply_params_with_field(p, hw, mask, fill, scratch, None);
}

/// [`apply_params`], an elastic warp reading `field` when given.
fn apply_params_with_field<L: Copy>(
    p: &DrawnParams,
    (h, w): (usize, usize),
    mask: &mut [L],
    fill: L,
    scratch: &mut MaskScratch<L>,
    field: Option<&[f32]>,
) {
    fn run<L: Copy, T: Scalar>(map: &[T], mask: &mut [L], fill: L, scratch: &mut Vec<L>) {
        for plane in mask.chunks_exact_mut(map.len()) {
            scratch.clear();
            scratch.extend_from_slice(plane);
            for (o, &k) in plane.iter_mut().zip(map) {
                *o = lookup(scratch, k, fill);
            }
        }
    }
    let MaskScratch {
        plane,
        src,
        dst,
        src64,
        dst64,
    } = scratch;
    if h * w < F32_EXACT {
        // The image pipeline's own precision: the same sample positions.
        if let Some(in_dst) = source_map_into::<f32>(p, h, w, (src, dst), field) {
            run(if in_dst { dst } else { src }, mask, fill, plane);
        }
    } else if let Some(in_dst) = source_map_into::<f64>(p, h, w, (src64, dst64), field) {
        run(if in_dst { dst64 } else { src64 }, mask, fill, plane);
    }
}

impl DrawnParams {
    /// Moves a segmentation mask as these parameters move an image of the
    /// mask's height and width: geometric ops resample it by nearest
    /// neighbour (pixels from outside the image take [`Mask::fill`]; a
    /// padded crop pads it in the image's padding mode), photometric ops
    /// leave it unchanged. Checks the parameters first ([`DrawnParams::check`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::image::{Mask, DrawnParams};
    ///
    /// let mut m = Mask::new(1, 3, vec![1, 2, 3])?;
    /// DrawnParams::HFlip { flip: true }.apply_mask(&mut m)?;
    /// assert_eq!(m.data(), [3, 2, 1]);
    /// DrawnParams::Brightness { factor: 2.0 }.apply_mask(&mut m)?;
    /// assert_eq!(m.data(), [3, 2, 1]);
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn apply_mask(&self, mask: &mut Mask) -> Result<()> {
        self.check(mask.dims)?;
        let (h, w, fill) = (mask.dims.h, mask.dims.w, mask.fill);
        apply_params(
            self,
            (h, w),
            &mut mask.data,
            fill,
            &mut MaskScratch::default(),
        );
        Ok(())
    }
}

/// Checks that a mask of `mask_len` labels fits images of `dims`: a whole
/// number of `H × W` planes.
pub(crate) fn check_mask_planes(dims: ImageShape, mask_len: usize) -> Result<usize> {
    let plane = dims.plane();
    if plane == 0 || !mask_len.is_multiple_of(plane) || mask_len == 0 {
        return Err(Error::Arg(ArgError::new(
            "mask",
            format!("{mask_len} labels"),
            "must be a whole, non-zero number of H × W planes of the image",
        )));
    }
    Ok(mask_len / plane)
}

/// Checks that the mask of a sample has the image's height and width.
pub(crate) fn check_same_plane(image: ImageShape, mask: ImageShape) -> Result<()> {
    check_len("mask plane (H·W)", image.plane(), mask.plane())?;
    if (image.h, image.w) != (mask.h, mask.w) {
        return Err(Error::Arg(ArgError::new(
            "mask",
            mask,
            "must have the image's height and width",
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{Affine, PadMode};

    #[test]
    fn a_padded_crop_moves_the_mask_and_fills_the_border() {
        let mut m = Mask::new(2, 3, vec![1, 2, 3, 4, 5, 6])
            .unwrap()
            .with_fill(9);
        let p = DrawnParams::Crop {
            top: 0,
            left: 2,
            pad: 1,
            mode: PadMode::Constant(0.3),
        };
        p.apply_mask(&mut m).unwrap();
        assert_eq!(m.data(), [9, 9, 9, 2, 3, 9]);
        let mut m = Mask::new(1, 3, vec![1, 2, 3]).unwrap();
        let p = DrawnParams::Crop {
            top: 1,
            left: 0,
            pad: 1,
            mode: PadMode::Reflect,
        };
        p.apply_mask(&mut m).unwrap();
        assert_eq!(m.data(), [2, 1, 2], "reflect padding, as the image");
    }

    #[test]
    fn a_quarter_turn_moves_every_plane_of_the_mask() {
        let dims = ImageShape::new(2, 2, 2);
        let mut m = Mask::with_channels(dims, vec![1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
        DrawnParams::Affine(Affine::rotation(90.0, 0.0))
            .apply_mask(&mut m)
            .unwrap();
        assert_eq!(m.data(), [2, 4, 1, 3, 6, 8, 5, 7]);
    }

    #[test]
    fn a_bad_window_is_a_typed_error_and_leaves_the_mask() {
        let mut m = Mask::new(2, 2, vec![1, 2, 3, 4]).unwrap();
        let p = DrawnParams::ResizedCrop {
            top: 1,
            left: 0,
            height: 2,
            width: 2,
        };
        assert!(matches!(
            p.apply_mask(&mut m),
            Err(Error::Arg(ArgError { .. }))
        ));
        assert_eq!(m.data(), [1, 2, 3, 4]);
    }
}
