//! IDX files (MNIST, Fashion-MNIST), gzipped or raw.
//!
//! Layout, all integers big-endian: a magic number `0x0000TTNN` (`TT` the
//! element type, `08` = unsigned byte; `NN` the number of dimensions), one
//! `u32` per dimension, then the elements row-major. Images are `0x00000803`
//! (count, rows, cols), labels `0x00000801` (count). The header's count is
//! authoritative: exactly that many records are read, and bytes after them
//! are ignored (the shared Fashion-MNIST training files hold 20,000 records).

use crate::source::{open, read_file, read_up_to};
use crate::{Error, ImageShape, InMemory, Location, Result, resolve};
use descent_core::Scalar;
use nalgebra::DMatrix;
use std::path::{Path, PathBuf};

/// Magic number of an IDX file of unsigned-byte images (3 dimensions).
pub const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned-byte labels (1 dimension).
pub const IDX_LABELS_MAGIC: u32 = 0x0000_0801;

/// An IDX array of unsigned bytes: its dimensions and row-major elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// The dimensions, the record count first.
    pub dims: Vec<usize>,
    /// The `dims.iter().product()` elements.
    pub data: Vec<u8>,
}

/// Parses an IDX file whose magic must be `magic` ([`IDX_IMAGES_MAGIC`] or
/// [`IDX_LABELS_MAGIC`]); gzip is detected by its magic bytes. Byte offsets
/// in errors count decompressed bytes.
///
/// # Examples
///
/// ```
/// use descent_data::{parse_idx, IDX_LABELS_MAGIC};
/// use std::path::Path;
///
/// let bytes = [0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1];
/// let labels = parse_idx(&bytes, Path::new("labels.idx"), IDX_LABELS_MAGIC)?;
/// assert_eq!(labels.data, [7, 2, 1]);
/// let err = parse_idx(&bytes[..9], Path::new("labels.idx"), IDX_LABELS_MAGIC).unwrap_err();
/// assert!(err.to_string().contains("truncated at byte 9"));
/// # Ok::<(), descent_data::Error>(())
/// ```
pub fn parse_idx(bytes: &[u8], file: &Path, magic: u32) -> Result<IdxArray> {
    let mut reader = open(bytes);
    let mut head = Vec::with_capacity(16);
    read_up_to(&mut reader, 4, &mut head, file, 0)?;
    if head.len() < 4 {
        return Err(Error::truncated(
            file,
            Location::Byte(head.len() as u64),
            "a 4-byte IDX magic number",
        ));
    }
    let found = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    if found != magic {
        return Err(Error::BadMagic {
            file: file.to_owned(),
            expected: format!("{magic:#010x}"),
            found,
        });
    }
    let n_dims = (magic & 0xff) as usize;
    let header_len = 4 + 4 * n_dims;
    read_up_to(&mut reader, 4 * n_dims as u64, &mut head, file, 4)?;
    if head.len() < header_len {
        return Err(Error::truncated(
            file,
            Location::Byte(head.len() as u64),
            format!("an IDX header of {header_len} bytes ({n_dims} dimensions)"),
        ));
    }
    let dims: Vec<usize> = head[4..]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let need = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= u32::MAX as usize * 4)
        .ok_or_else(|| {
            Error::malformed(
                file,
                Location::Byte(4),
                format!("dimensions {dims:?} are too large"),
            )
        })?;
    let mut data = Vec::new();
    read_up_to(&mut reader, need as u64, &mut data, file, header_len as u64)?;
    if data.len() < need {
        return Err(Error::truncated(
            file,
            Location::Byte((header_len + data.len()) as u64),
            format!("{need} data bytes for dimensions {dims:?}"),
        ));
    }
    Ok(IdxArray { dims, data })
}

/// Builds an image-classification dataset from an IDX image file and its
/// IDX label file (already read); labels must lie in `0..n_classes` and the
/// two counts must agree. Features are the raw bytes 0..=255 as `S`.
pub fn parse_idx_pair<S: Scalar>(
    images: (&[u8], &Path),
    labels: (&[u8], &Path),
    n_classes: usize,
) -> Result<InMemory<S>> {
    let img = parse_idx(images.0, images.1, IDX_IMAGES_MAGIC)?;
    let lbl = parse_idx(labels.0, labels.1, IDX_LABELS_MAGIC)?;
    let (n, rows, cols) = (img.dims[0], img.dims[1], img.dims[2]);
    if lbl.dims[0] != n {
        return Err(Error::CountMismatch {
            file: labels.1.to_owned(),
            at: Location::Byte(4),
            what: format!("labels for the images of {}", images.1.display()),
            expected: n,
            found: lbl.dims[0],
        });
    }
    if let Some(i) = lbl.data.iter().position(|&l| l as usize >= n_classes) {
        return Err(Error::LabelOutOfRange {
            file: labels.1.to_owned(),
            at: Location::Byte(8 + i as u64),
            label: i64::from(lbl.data[i]),
            n_classes,
        });
    }
    let d = rows * cols;
    let features = DMatrix::from_fn(n, d, |i, j| S::from_count(img.data[i * d + j] as usize));
    let labels = lbl.data.iter().map(|&l| l as usize).collect();
    InMemory::classification(features, labels, n_classes)?
        .with_image(ImageShape::new(1, rows, cols))
}

/// Reads an IDX image file and its label file (see [`parse_idx_pair`]).
pub fn load_idx_pair<S: Scalar>(
    images: &Path,
    labels: &Path,
    n_classes: usize,
) -> Result<InMemory<S>> {
    let (img, lbl) = (read_file(images)?, read_file(labels)?);
    parse_idx_pair((&img, images), (&lbl, labels), n_classes)
}

/// Which part of a dataset that ships a fixed train/test split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The training files (`train-*`).
    Train,
    /// The test files (`t10k-*`).
    Test,
}

/// MNIST from folder `mnist` under the data-directory rule: 60,000 train or
/// 10,000 test `1 × 28 × 28` images, raw values 0..=255.
pub fn mnist<S: Scalar>(split: Split, explicit: Option<&Path>) -> Result<InMemory<S>> {
    load_mnist_like("mnist", split, explicit)
}

/// Fashion-MNIST from folder `fashion-mnist` under the data-directory rule
/// (the shared copy holds 20,000 train images, the Debian package 60,000).
pub fn fashion_mnist<S: Scalar>(split: Split, explicit: Option<&Path>) -> Result<InMemory<S>> {
    load_mnist_like("fashion-mnist", split, explicit)
}

fn load_mnist_like<S: Scalar>(
    set: &str,
    split: Split,
    explicit: Option<&Path>,
) -> Result<InMemory<S>> {
    let dir = resolve(set, explicit)?;
    let prefix = match split {
        Split::Train => "train",
        Split::Test => "t10k",
    };
    let images = find_gz_or_raw(&dir, &format!("{prefix}-images-idx3-ubyte"));
    let labels = find_gz_or_raw(&dir, &format!("{prefix}-labels-idx1-ubyte"));
    load_idx_pair(&images, &labels, 10)
}

/// `dir/name.gz` if it exists, else `dir/name`.
fn find_gz_or_raw(dir: &Path, name: &str) -> PathBuf {
    let gz = dir.join(format!("{name}.gz"));
    if gz.exists() { gz } else { dir.join(name) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dataset;
    use crate::source::gzip;
    use proptest::prelude::*;

    fn images(n: u32, rows: u32, cols: u32) -> Vec<u8> {
        let mut b = vec![0, 0, 8, 3];
        for d in [n, rows, cols] {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b.extend((0..n * rows * cols).map(|i| (i % 251) as u8));
        b
    }

    fn labels(ls: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 0, 8, 1];
        b.extend_from_slice(&(ls.len() as u32).to_be_bytes());
        b.extend_from_slice(ls);
        b
    }

    fn pair(img: &[u8], lbl: &[u8]) -> Result<InMemory<f32>> {
        parse_idx_pair((img, Path::new("img")), (lbl, Path::new("lbl")), 10)
    }

    #[test]
    fn raw_and_gzipped_files_parse_alike() {
        let (img, lbl) = (images(3, 2, 2), labels(&[1, 9, 0]));
        let raw = pair(&img, &lbl).unwrap();
        let gz = pair(&gzip(&img), &gzip(&lbl)).unwrap();
        assert_eq!(raw, gz);
        assert_eq!(raw.schema().image, Some(ImageShape::new(1, 2, 2)));
        assert_eq!(raw.features()[(2, 3)], 11.0);
    }

    #[test]
    fn the_header_count_is_authoritative() {
        let mut img = images(2, 2, 2);
        img.extend_from_slice(&[9; 4]); // a third image the header does not count
        assert_eq!(pair(&img, &labels(&[1, 2])).unwrap().len(), 2);
    }

    #[test]
    fn a_wrong_magic_is_reported() {
        let lbl = labels(&[1]);
        let err = parse_idx(&lbl, Path::new("lbl"), IDX_IMAGES_MAGIC).unwrap_err();
        assert!(matches!(err, Error::BadMagic { found: 0x801, .. }), "{err}");
    }

    #[test]
    fn truncation_names_the_byte_offset() {
        let img = images(2, 2, 2);
        let err = parse_idx(&img[..20], Path::new("img"), IDX_IMAGES_MAGIC).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Truncated {
                    at: Location::Byte(20),
                    ..
                }
            ),
            "{err}"
        );
        let err = parse_idx(&img[..10], Path::new("img"), IDX_IMAGES_MAGIC).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Truncated {
                    at: Location::Byte(10),
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_count_mismatch_between_images_and_labels_is_reported() {
        let err = pair(&images(3, 1, 1), &labels(&[1, 2])).unwrap_err();
        assert!(
            matches!(
                err,
                Error::CountMismatch {
                    expected: 3,
                    found: 2,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_label_out_of_range_names_its_byte() {
        let err = pair(&images(3, 1, 1), &labels(&[1, 2, 10])).unwrap_err();
        assert!(
            matches!(
                err,
                Error::LabelOutOfRange {
                    at: Location::Byte(10),
                    label: 10,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_huge_header_does_not_allocate_its_promise() {
        let mut img = vec![0, 0, 8, 3];
        for d in [u32::MAX, 28, 28] {
            img.extend_from_slice(&d.to_be_bytes());
        }
        assert!(matches!(
            parse_idx(&img, Path::new("img"), IDX_IMAGES_MAGIC),
            Err(Error::Malformed { .. } | Error::Truncated { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_idx(&bytes, Path::new("fuzz"), IDX_IMAGES_MAGIC);
            let _ = parse_idx(&bytes, Path::new("fuzz"), IDX_LABELS_MAGIC);
            let _ = pair(&bytes, &bytes);
            let _ = pair(&gzip(&bytes), &labels(&bytes));
        }

        #[test]
        fn cut_or_mutated_valid_files_never_panic(
            cut in 0usize..60, pos in 0usize..60, byte: u8, gz: bool,
        ) {
            let (mut img, lbl) = (images(3, 4, 4), labels(&[1, 2, 3]));
            img[pos] = byte;
            let img = if gz { gzip(&img) } else { img };
            let cut = cut.min(img.len());
            let _ = pair(&img[..cut], &lbl);
            let _ = pair(&img, &lbl[..cut.min(lbl.len())]);
        }
    }
}
