//! JPEG quality loss: encode an image at a quality in `[1, 100]` and decode
//! it back (torchvision `v2.JPEG` / `functional.jpeg`, albumentations
//! `ImageCompression`), so a model sees the block and ringing artefacts of
//! compressed photos.
//!
//! The codec is pure Rust: `jpeg-encoder` (baseline JPEG with libjpeg's
//! standard quantization tables and quality scaling, the same tables
//! torchvision's libjpeg and PIL use; chroma subsampled 4:2:0, libjpeg's
//! default) and `zune-jpeg` (the decoder of the `image` crate). Both are
//! maintained, have no C dependencies, and pass their own conformance tests;
//! `jpeg-decoder` is in maintenance mode in favour of `zune-jpeg`.

use super::{DrawnParams, ImageAugment, ImageShape, OpSpec, check_len};
use crate::ArgError;
use crate::{Error, OpCtx, Result};
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
use rand::RngExt;
use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

/// The largest height or width a JPEG file can hold.
pub const JPEG_MAX_SIDE: usize = u16::MAX as usize;

fn check_quality(name: &'static str, quality: u8) -> Result<()> {
    if (1..=100).contains(&quality) {
        Ok(())
    } else {
        Err(Error::Arg(ArgError::new(
            name,
            quality,
            "must be a JPEG quality in [1, 100]",
        )))
    }
}

/// Whether an image of `dims` fits in a JPEG file.
fn encodable(dims: ImageShape) -> bool {
    dims.h <= JPEG_MAX_SIDE && dims.w <= JPEG_MAX_SIDE
}

/// Compresses one CHW image in place at `quality`, in f32 `[0, 1]`.
///
/// A 3-channel image is encoded as RGB (converted to YCbCr, chroma 4:2:0,
/// as torchvision and PIL do); any other channel count encodes each channel
/// as its own grayscale JPEG. Values are clamped to `[0, 1]` and rounded to
/// 8 bits first, as JPEG holds bytes, so the output is a multiple of 1/255.
/// An image with no pixels is left as it is.
///
/// Errors: [`Error::Arg`] for a quality outside `[1, 100]` or a
/// side longer than [`JPEG_MAX_SIDE`], [`Error::ShapeMismatch`] when `img`
/// is not `dims.len()` long.
///
/// # Examples
///
/// ```
/// use descent_augment::image::{ImageShape, jpeg};
///
/// let dims = ImageShape::new(3, 16, 16);
/// let mut img: Vec<f32> = (0..dims.len()).map(|i| (i % 16) as f32 / 15.0).collect();
/// let before = img.clone();
/// jpeg(dims, &mut img, 75)?;
/// let err = img.iter().zip(&before).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
/// assert!(err > 0.0 && err < 0.25);
/// assert!(jpeg(dims, &mut img, 0).is_err());
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn jpeg(dims: ImageShape, img: &mut [f32], quality: u8) -> Result<()> {
    check_len("image", dims.len(), img.len())?;
    check_quality("quality", quality)?;
    if !encodable(dims) {
        return Err(Error::Arg(ArgError::new(
            "dims",
            format!("{}x{}", dims.h, dims.w),
            "a JPEG side is at most 65535 pixels",
        )));
    }
    compress(dims, img, quality).map_err(|reason| Error::Codec { reason })
}

/// Encodes and decodes; the error is the codec's message.
fn compress(dims: ImageShape, img: &mut [f32], quality: u8) -> std::result::Result<(), String> {
    let (h, w) = (dims.h, dims.w);
    if h == 0 || w == 0 || dims.c == 0 {
        return Ok(());
    }
    let plane = h * w;
    let to_byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    if dims.c == 3 {
        let mut rgb = vec![0u8; 3 * plane];
        for (p, px) in rgb.chunks_exact_mut(3).enumerate() {
            for (ch, b) in px.iter_mut().enumerate() {
                *b = to_byte(img[ch * plane + p]);
            }
        }
        let out = round_trip(&rgb, (h, w), quality, true)?;
        for (p, px) in out.chunks_exact(3).enumerate() {
            for (ch, &b) in px.iter().enumerate() {
                img[ch * plane + p] = f32::from(b) / 255.0;
            }
        }
    } else {
        for channel in img.chunks_exact_mut(plane) {
            let luma: Vec<u8> = channel.iter().map(|&v| to_byte(v)).collect();
            let out = round_trip(&luma, (h, w), quality, false)?;
            for (v, &b) in channel.iter_mut().zip(&out) {
                *v = f32::from(b) / 255.0;
            }
        }
    }
    Ok(())
}

/// One JPEG encode and decode of interleaved 8-bit pixels.
fn round_trip(
    pixels: &[u8],
    (h, w): (usize, usize),
    quality: u8,
    rgb: bool,
) -> std::result::Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let mut encoder = Encoder::new(&mut bytes, quality);
    encoder.set_sampling_factor(SamplingFactor::F_2_2);
    let color = if rgb { ColorType::Rgb } else { ColorType::Luma };
    let side = |n: usize| u16::try_from(n).map_err(|_| format!("side {n} exceeds 65535"));
    encoder
        .encode(pixels, side(w)?, side(h)?, color)
        .map_err(|e| format!("jpeg-encoder: {e}"))?;
    let space = if rgb {
        ColorSpace::RGB
    } else {
        ColorSpace::Luma
    };
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(space)
        .set_max_width(JPEG_MAX_SIDE)
        .set_max_height(JPEG_MAX_SIDE);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(bytes.as_slice()), options);
    let out = decoder.decode().map_err(|e| format!("zune-jpeg: {e:?}"))?;
    if out.len() != pixels.len() {
        return Err(format!(
            "zune-jpeg decoded {} bytes for {} pixels",
            out.len(),
            pixels.len()
        ));
    }
    Ok(out)
}

/// Applies [`DrawnParams::Jpeg`]: [`jpeg`] for an image a JPEG can hold, which
/// [`DrawnParams::check`] and [`Jpeg`]'s draw ensure; others are left as they are.
pub(crate) fn apply(dims: ImageShape, img: &mut [f32], quality: u8) {
    if encodable(dims) && (1..=100).contains(&quality) {
        // the codec cannot fail on a valid image it wrote itself; if it
        // ever did, the image is left as it was rather than half-written
        let before = img.to_vec();
        if compress(dims, img, quality).is_err() {
            img.copy_from_slice(&before);
        }
    }
}

/// Compresses each image as a JPEG at a quality drawn uniformly from
/// `lo..=hi` (torchvision `v2.JPEG(quality=(lo, hi))`; albumentations
/// `ImageCompression(quality_range=(lo, hi), p=1)` — wrap it in
/// [`RandomApply`](super::RandomApply) for a probability). See [`jpeg`] for
/// what is encoded and how.
///
/// # Examples
///
/// ```
/// use descent_augment::image::{ImageAugment, ImageShape, Jpeg, DrawnParams};
/// use descent_augment::SampleKey;
///
/// let op = Jpeg::new(50, 90)?;
/// let dims = ImageShape::new(3, 8, 8);
/// match op.params(SampleKey::new(0, 0, 0), dims)[..] {
///     [DrawnParams::Jpeg { quality }] => assert!((50..=90).contains(&quality)),
///     ref other => panic!("{other:?}"),
/// }
/// assert!(Jpeg::new(0, 90).is_err() && Jpeg::new(90, 50).is_err());
/// # Ok::<(), descent_augment::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jpeg {
    lo: u8,
    hi: u8,
}

impl Jpeg {
    /// JPEG compression at a quality uniform in `lo..=hi`, both in `[1, 100]`.
    pub fn new(lo: u8, hi: u8) -> Result<Self> {
        check_quality("lo", lo)?;
        check_quality("hi", hi)?;
        if lo > hi {
            return Err(Error::Arg(ArgError::new(
                "quality",
                format!("({lo}, {hi})"),
                "must be a range with lo <= hi",
            )));
        }
        Ok(Jpeg { lo, hi })
    }
}

impl ImageAugment for Jpeg {
    fn spec(&self) -> Option<OpSpec> {
        Some(OpSpec::Jpeg {
            lo: self.lo,
            hi: self.hi,
        })
    }

    fn draw(&self, ctx: OpCtx, dims: ImageShape, emit: &mut dyn FnMut(DrawnParams)) {
        let quality = ctx.rng().random_range(self.lo..=self.hi);
        emit(if encodable(dims) {
            DrawnParams::Jpeg { quality }
        } else {
            DrawnParams::Identity
        })
    }
}

/// Checks a logged [`DrawnParams::Jpeg`] against `dims`.
pub(crate) fn check(dims: ImageShape, quality: u8) -> Result<()> {
    check_quality("quality", quality)?;
    if encodable(dims) {
        Ok(())
    } else {
        Err(Error::Arg(ArgError::new(
            "dims",
            format!("{}x{}", dims.h, dims.w),
            "a JPEG side is at most 65535 pixels",
        )))
    }
}

#[cfg(test)]
mod tests;
