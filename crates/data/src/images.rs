//! PNG images (through the `png` crate) and the shared CIFAR-10 samples.

use crate::source::read_file;
use crate::{Error, ImageShape, InMemory, Location, Result, resolve};
use descent_core::Scalar;
use nalgebra::DMatrix;
use std::cell::Cell;
use std::io::{BufRead, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

/// Largest decoded image accepted, in bytes (a header may claim anything).
const MAX_DECODED_BYTES: usize = 256 << 20;

/// A decoded 8-bit image, planar: `data` is `C·H·W` row-major (channel
/// planes, then rows), the layout of a batch row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Channels (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA), height, width.
    pub dims: ImageShape,
    /// `dims.len()` bytes, 0..=255.
    pub data: Vec<u8>,
}

/// Decodes a PNG; palette, low bit depths and 16-bit samples are
/// normalized to 8-bit channels. `file` names it in errors, whose byte
/// offset is how far the decoder had read.
///
/// # Examples
///
/// ```
/// use descent_data::{parse_png, Error};
/// use std::path::Path;
///
/// let err = parse_png(b"GIF89a", Path::new("x.png")).unwrap_err();
/// assert!(matches!(err, Error::Malformed { .. }));
/// ```
pub fn parse_png(bytes: &[u8], file: &Path) -> Result<Image> {
    let reached = Cell::new(0u64);
    let fail = |e: &dyn std::fmt::Display| {
        Error::malformed(file, Location::Byte(reached.get()), format!("png: {e}"))
    };
    let mut decoder = png::Decoder::new(Tracked {
        inner: Cursor::new(bytes),
        reached: &reached,
    });
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(|e| fail(&e))?;
    let size = reader
        .output_buffer_size()
        .filter(|&n| n <= MAX_DECODED_BYTES)
        .ok_or_else(|| fail(&"image too large"))?;
    let mut buf = vec![0u8; size];
    let info = reader.next_frame(&mut buf).map_err(|e| fail(&e))?;
    let (w, h, c) = (
        info.width as usize,
        info.height as usize,
        info.color_type.samples(),
    );
    let mut data = vec![0u8; c * h * w];
    for y in 0..h {
        let row = &buf[y * info.line_size..][..w * c];
        for x in 0..w {
            for ch in 0..c {
                data[(ch * h + y) * w + x] = row[x * c + ch];
            }
        }
    }
    Ok(Image {
        dims: ImageShape::new(c, h, w),
        data,
    })
}

/// Reads and decodes a PNG file (see [`parse_png`]).
pub fn load_png(path: &Path) -> Result<Image> {
    parse_png(&read_file(path)?, path)
}

/// The 20 CIFAR-10 test images in folder `cifar10-samples` under the
/// data-directory rule, in file order: `3 × 32 × 32` raw values 0..=255,
/// labels (10 classes) from the names `cifar10_NN_L.png`. Real colour images
/// for augmentation and decoding checks, not a training set.
pub fn cifar10_samples<S: Scalar>(explicit: Option<&Path>) -> Result<InMemory<S>> {
    // The first test image, a cat, stands for the folder.
    let dir = resolve("cifar10-samples", &["cifar10_00_3.png"], explicit)?;
    let entries = std::fs::read_dir(&dir).map_err(|source| Error::Io {
        file: dir.clone(),
        source,
    })?;
    let mut files: Vec<(usize, usize, std::path::PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let (index, label) = cifar_name(&name)?;
            Some((index, label, e.path()))
        })
        .collect();
    files.sort();
    let dims = ImageShape::new(3, 32, 32);
    let mut pixels = Vec::with_capacity(files.len() * dims.len());
    for (_, _, path) in &files {
        let image = load_png(path)?;
        if image.dims != dims {
            return Err(Error::malformed(
                path,
                Location::Byte(16),
                format!("expected a 32x32 RGB image, found {:?}", image.dims),
            ));
        }
        pixels.extend_from_slice(&image.data);
    }
    let d = dims.len();
    let features = DMatrix::from_fn(files.len(), d, |i, j| {
        S::from_count(pixels[i * d + j] as usize)
    });
    let labels = files.iter().map(|f| f.1).collect();
    InMemory::classification(features, labels, 10)?.with_image(dims)
}

/// `(index, label)` from a name `cifar10_NN_L.png`.
fn cifar_name(name: &str) -> Option<(usize, usize)> {
    let stem = name.strip_prefix("cifar10_")?.strip_suffix(".png")?;
    let (index, label) = stem.split_once('_')?;
    let label: usize = label.parse().ok()?;
    (label < 10).then_some((index.parse().ok()?, label))
}

/// A reader that records the furthest position reached, for error offsets.
struct Tracked<'a, 'b> {
    inner: Cursor<&'a [u8]>,
    reached: &'b Cell<u64>,
}

impl Tracked<'_, '_> {
    fn note(&self) {
        self.reached
            .set(self.reached.get().max(self.inner.position()));
    }
}

impl Read for Tracked<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.note();
        Ok(n)
    }
}

impl BufRead for Tracked<'_, '_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt);
        self.note();
    }
}

impl Seek for Tracked<'_, '_> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let p = self.inner.seek(pos)?;
        self.note();
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A small RGB PNG with pixel (x, y) = (10x, 20y, 7).
    fn rgb_png(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().unwrap();
        let data: Vec<u8> = (0..h)
            .flat_map(|y| (0..w).flat_map(move |x| [10 * x as u8, 20 * y as u8, 7]))
            .collect();
        writer.write_image_data(&data).unwrap();
        writer.finish().unwrap();
        out
    }

    #[test]
    fn png_pixels_come_out_planar() {
        let img = parse_png(&rgb_png(3, 2), Path::new("t.png")).unwrap();
        assert_eq!(img.dims, ImageShape::new(3, 2, 3));
        let at = |c: usize, y: usize, x: usize| img.data[(c * 2 + y) * 3 + x];
        assert_eq!((at(0, 1, 2), at(1, 1, 2), at(2, 1, 2)), (20, 20, 7));
        assert_eq!(at(1, 0, 0), 0);
    }

    #[test]
    fn a_truncated_png_is_malformed_with_an_offset() {
        let png = rgb_png(4, 4);
        let err = parse_png(&png[..png.len() - 20], Path::new("t.png")).unwrap_err();
        assert!(
            matches!(err, Error::Malformed { at: Location::Byte(b), .. } if b > 0),
            "{err}"
        );
    }

    #[test]
    fn cifar_names_give_index_and_label() {
        assert_eq!(cifar_name("cifar10_07_6.png"), Some((7, 6)));
        assert_eq!(cifar_name("cifar10_07_x.png"), None);
        assert_eq!(cifar_name("PROVENANCE.md"), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_png(&bytes, Path::new("fuzz.png"));
        }

        #[test]
        fn cut_or_mutated_pngs_never_panic(cut in 0usize..200, pos in 0usize..200, byte: u8) {
            let png = rgb_png(5, 3);
            let _ = parse_png(&png[..cut.min(png.len())], Path::new("cut.png"));
            let mut m = png.clone();
            let pos = pos % m.len();
            m[pos] = byte;
            let _ = parse_png(&m, Path::new("mutated.png"));
        }
    }
}
