//! IDX files (MNIST, Fashion-MNIST), gzipped or raw.
//!
//! Layout, all integers big-endian: a magic number `0x0000TTNN` (`TT` the
//! element type, `08` = unsigned byte; `NN` the number of dimensions), one
//! `u32` per dimension, then the elements row-major. Images are `0x00000803`
//! (count, rows, cols), labels `0x00000801` (count). The header's count is
//! authoritative: exactly that many records are read, and bytes after them
//! are ignored (the shared Fashion-MNIST training files hold 20,000 records).

use crate::source::{GZIP_MAGIC, open, read_up_to};
use crate::{Error, ImageShape, InMemory, Location, Result, resolve};
use descent_core::Scalar;
use flate2::read::GzDecoder;
use nalgebra::DMatrix;
use std::io::{BufReader, Read, Seek, SeekFrom};
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

/// Deflate's largest expansion: 1032 output bytes per input byte (RFC 1951
/// codes at best 258 bytes of a match in 2 bits). A gzip stream of `n` bytes
/// cannot hold more than `n` times this, whatever its header says.
const DEFLATE_MAX_RATIO: u64 = 1032;

/// Parses an IDX file whose magic must be `magic` ([`IDX_IMAGES_MAGIC`] or
/// [`IDX_LABELS_MAGIC`]); gzip is detected by its magic bytes. Byte offsets
/// in errors count decompressed bytes.
///
/// The header is read first and bounds everything after it: at most the
/// bytes it promises are decompressed (a stream inflating past them is never
/// inflated), and a promise the input cannot keep (more than the raw bytes,
/// or more than deflate's 1032:1 ratio allows) is [`Error::Truncated`] before
/// anything is allocated for the data.
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
    parse_idx_prefix(bytes, file, magic, None)
}

/// [`parse_idx`] reading only the first `limit` records (all when `None` or
/// when the file holds fewer): the rest is neither decompressed nor checked.
/// `dims[0]` of the result is the number of records read.
///
/// # Examples
///
/// ```
/// use descent_data::{parse_idx_prefix, IDX_LABELS_MAGIC};
/// use std::path::Path;
///
/// // The header promises 1000 labels but only two arrive: the prefix of two is fine.
/// let bytes = [0, 0, 8, 1, 0, 0, 3, 0xe8, 7, 2];
/// let first = parse_idx_prefix(&bytes, Path::new("labels.idx"), IDX_LABELS_MAGIC, Some(2))?;
/// assert_eq!((first.dims[0], first.data.as_slice()), (2, &[7, 2][..]));
/// # Ok::<(), descent_data::Error>(())
/// ```
pub fn parse_idx_prefix(
    bytes: &[u8],
    file: &Path,
    magic: u32,
    limit: Option<usize>,
) -> Result<IdxArray> {
    let available = if bytes.starts_with(&GZIP_MAGIC) {
        (bytes.len() as u64).saturating_mul(DEFLATE_MAX_RATIO)
    } else {
        bytes.len() as u64
    };
    read_idx(&mut open(bytes), file, magic, limit, available)
}

/// Reads an IDX array from `reader` (already decompressing), which can yield
/// at most `available` bytes.
fn read_idx(
    reader: &mut dyn Read,
    file: &Path,
    magic: u32,
    limit: Option<usize>,
    available: u64,
) -> Result<IdxArray> {
    let mut head = Vec::with_capacity(16);
    read_up_to(reader, 4, &mut head, file, 0)?;
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
    read_up_to(reader, 4 * n_dims as u64, &mut head, file, 4)?;
    if head.len() < header_len {
        return Err(Error::truncated(
            file,
            Location::Byte(head.len() as u64),
            format!("an IDX header of {header_len} bytes ({n_dims} dimensions)"),
        ));
    }
    let mut dims: Vec<usize> = head[4..]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    if let Some(limit) = limit {
        dims[0] = dims[0].min(limit);
    }
    let need = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .ok_or_else(|| {
            Error::malformed(
                file,
                Location::Byte(4),
                format!("dimensions {dims:?} are too large"),
            )
        })?;
    let what = || format!("{need} data bytes for dimensions {dims:?}");
    if need > available.saturating_sub(header_len as u64) {
        // The input cannot hold what the header promises: fail before
        // allocating or inflating anything for it.
        return Err(Error::truncated(
            file,
            Location::Byte(available.max(header_len as u64)),
            what(),
        ));
    }
    let mut data = Vec::new();
    read_up_to(reader, need, &mut data, file, header_len as u64)?;
    if (data.len() as u64) < need {
        return Err(Error::truncated(
            file,
            Location::Byte((header_len + data.len()) as u64),
            what(),
        ));
    }
    Ok(IdxArray { dims, data })
}

/// Builds an image-classification dataset from an IDX image file and its
/// IDX label file (already read); labels must lie in `0..n_classes` and the
/// two counts must agree. Features are the raw bytes 0..=255 as `S`.
///
/// # Examples
///
/// ```
/// use descent_data::{parse_idx_pair, Dataset};
/// use std::path::Path;
///
/// let images = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 10, 20];
/// let labels = [0, 0, 8, 1, 0, 0, 0, 2, 3, 4];
/// let set = parse_idx_pair::<f32>((&images, Path::new("img")), (&labels, Path::new("lbl")), 10)?;
/// assert_eq!(set.len(), 2);
/// # Ok::<(), descent_data::Error>(())
/// ```
pub fn parse_idx_pair<S: Scalar>(
    images: (&[u8], &Path),
    labels: (&[u8], &Path),
    n_classes: usize,
) -> Result<InMemory<S>> {
    parse_idx_pair_prefix(images, labels, n_classes, None)
}

/// [`parse_idx_pair`] of the first `limit` samples only (all when `None`):
/// neither file is decompressed past them.
///
/// # Examples
///
/// ```
/// use descent_data::{parse_idx_pair_prefix, Dataset};
/// use std::path::Path;
///
/// let images = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 10, 20];
/// let labels = [0, 0, 8, 1, 0, 0, 0, 2, 3, 4];
/// let one = parse_idx_pair_prefix::<f32>((&images, Path::new("img")), (&labels, Path::new("lbl")), 10, Some(1))?;
/// assert_eq!(one.len(), 1);
/// # Ok::<(), descent_data::Error>(())
/// ```
pub fn parse_idx_pair_prefix<S: Scalar>(
    images: (&[u8], &Path),
    labels: (&[u8], &Path),
    n_classes: usize,
    limit: Option<usize>,
) -> Result<InMemory<S>> {
    let img = parse_idx_prefix(images.0, images.1, IDX_IMAGES_MAGIC, limit)?;
    let lbl = parse_idx_prefix(labels.0, labels.1, IDX_LABELS_MAGIC, limit)?;
    build_pair(img, lbl, images.1, labels.1, n_classes)
}

fn build_pair<S: Scalar>(
    img: IdxArray,
    lbl: IdxArray,
    images: &Path,
    labels: &Path,
    n_classes: usize,
) -> Result<InMemory<S>> {
    let (n, rows, cols) = (img.dims[0], img.dims[1], img.dims[2]);
    if lbl.dims[0] != n {
        return Err(Error::CountMismatch {
            file: labels.to_owned(),
            at: Location::Byte(4),
            what: format!("labels for the images of {}", images.display()),
            expected: n,
            found: lbl.dims[0],
        });
    }
    if let Some(i) = lbl.data.iter().position(|&l| l as usize >= n_classes) {
        return Err(Error::LabelOutOfRange {
            file: labels.to_owned(),
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
    load_idx_pair_prefix(images, labels, n_classes, None)
}

/// Reads the first `limit` samples (all when `None`) of an IDX image file and
/// its label file, streaming: the files are read and decompressed only as far
/// as those samples reach.
pub fn load_idx_pair_prefix<S: Scalar>(
    images: &Path,
    labels: &Path,
    n_classes: usize,
    limit: Option<usize>,
) -> Result<InMemory<S>> {
    let img = load_idx(images, IDX_IMAGES_MAGIC, limit)?;
    let lbl = load_idx(labels, IDX_LABELS_MAGIC, limit)?;
    build_pair(img, lbl, images, labels, n_classes)
}

/// Streams one IDX file from disk (see [`parse_idx_prefix`]).
fn load_idx(path: &Path, magic: u32, limit: Option<usize>) -> Result<IdxArray> {
    let io = |source| Error::Io {
        file: path.to_owned(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    let mut first = [0u8; 2];
    let n = f.read(&mut first).map_err(io)?;
    f.seek(SeekFrom::Start(0)).map_err(io)?;
    let buffered = BufReader::with_capacity(1 << 16, f);
    if n == 2 && first == GZIP_MAGIC {
        let mut reader = GzDecoder::new(buffered);
        read_idx(
            &mut reader,
            path,
            magic,
            limit,
            len.saturating_mul(DEFLATE_MAX_RATIO),
        )
    } else {
        read_idx(&mut { buffered }, path, magic, limit, len)
    }
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
/// 10,000 test `1 × 28 × 28` images, raw values 0..=255. An explicit
/// directory is authoritative (see [`resolve`](crate::resolve)): it may be
/// the data root or the `mnist` folder itself.
pub fn mnist<S: Scalar>(split: Split, explicit: Option<&Path>) -> Result<InMemory<S>> {
    load_mnist_like("mnist", split, explicit, None)
}

/// The first `n` samples of [`mnist`], reading and decompressing only them.
pub fn mnist_prefix<S: Scalar>(
    split: Split,
    explicit: Option<&Path>,
    n: usize,
) -> Result<InMemory<S>> {
    load_mnist_like("mnist", split, explicit, Some(n))
}

/// Fashion-MNIST from folder `fashion-mnist` under the data-directory rule
/// (the shared copy holds 20,000 train images, the Debian package 60,000).
pub fn fashion_mnist<S: Scalar>(split: Split, explicit: Option<&Path>) -> Result<InMemory<S>> {
    load_mnist_like("fashion-mnist", split, explicit, None)
}

/// The first `n` samples of [`fashion_mnist`], reading and decompressing only them.
pub fn fashion_mnist_prefix<S: Scalar>(
    split: Split,
    explicit: Option<&Path>,
    n: usize,
) -> Result<InMemory<S>> {
    load_mnist_like("fashion-mnist", split, explicit, Some(n))
}

fn load_mnist_like<S: Scalar>(
    set: &str,
    split: Split,
    explicit: Option<&Path>,
    limit: Option<usize>,
) -> Result<InMemory<S>> {
    let prefix = match split {
        Split::Train => "train",
        Split::Test => "t10k",
    };
    let (images, labels) = (
        format!("{prefix}-images-idx3-ubyte"),
        format!("{prefix}-labels-idx1-ubyte"),
    );
    let dir = resolve(set, &[&images, &labels], explicit)?;
    let images = find_gz_or_raw(&dir, &images);
    let labels = find_gz_or_raw(&dir, &labels);
    load_idx_pair_prefix(&images, &labels, 10, limit)
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

    #[test]
    fn a_gzip_bomb_is_an_error_before_any_allocation() {
        // A header promising 4e9 × 2 × 2 = 16 GB, followed by a small gzip
        // stream: the promise is refused from the compressed size alone.
        let mut head = vec![0, 0, 8, 3];
        for d in [4_000_000_000u32, 2, 2] {
            head.extend_from_slice(&d.to_be_bytes());
        }
        let mut raw = head.clone();
        raw.extend_from_slice(&[0u8; 4096]);
        let bomb = gzip(&raw);
        let err = parse_idx(&bomb, Path::new("bomb.gz"), IDX_IMAGES_MAGIC).unwrap_err();
        assert!(matches!(err, Error::Truncated { .. }), "{err}");
        assert!(err.to_string().contains("16000000000 data bytes"), "{err}");
        // the same promise in a raw file
        let err = parse_idx(&raw, Path::new("bomb"), IDX_IMAGES_MAGIC).unwrap_err();
        assert!(matches!(err, Error::Truncated { .. }), "{err}");
    }

    #[test]
    fn decompression_stops_at_what_the_header_promises() {
        // 4 MiB of zeros follow a header promising 8 labels; only the
        // header and the 8 bytes are ever inflated, so the stream's tail
        // (here cut, so reading it would be an error) is never reached.
        let mut whole = labels(&[0; 8]);
        whole.extend(std::iter::repeat_n(0u8, 1 << 22));
        let gz = gzip(&whole);
        let cut = &gz[..gz.len() - 8];
        let got = parse_idx(cut, Path::new("l.gz"), IDX_LABELS_MAGIC).unwrap();
        assert_eq!(got.data, [0; 8]);
        assert!(got.data.capacity() < 1 << 20, "{}", got.data.capacity());
    }

    #[test]
    fn a_prefix_reads_only_its_records() {
        let (img, lbl) = (images(5, 2, 3), labels(&[1, 2, 3, 4, 5]));
        let all = pair(&img, &lbl).unwrap();
        let first = parse_idx_pair_prefix::<f32>(
            (&gzip(&img), Path::new("img")),
            (&lbl, Path::new("lbl")),
            10,
            Some(2),
        )
        .unwrap();
        assert_eq!(first.len(), 2);
        assert_eq!(first.class_labels().unwrap(), &[1, 2]);
        assert_eq!(first.features().rows(0, 2), all.features().rows(0, 2));
        // the records after the prefix are never read: a file cut right
        // after them, or corrupt beyond them, still gives the prefix
        let cut = 16 + 2 * 6;
        let mut bad = img[..cut].to_vec();
        bad.extend_from_slice(&[0xff; 3]);
        let first_again = parse_idx_pair_prefix::<f32>(
            (&bad, Path::new("img")),
            (&lbl[..10], Path::new("lbl")),
            10,
            Some(2),
        )
        .unwrap();
        assert_eq!(first_again, first);
        // a limit above the count reads everything
        let more = parse_idx_pair_prefix::<f32>(
            (&img, Path::new("img")),
            (&lbl, Path::new("lbl")),
            10,
            Some(99),
        )
        .unwrap();
        assert_eq!(more, all);
    }

    #[test]
    fn loading_a_prefix_from_disk_streams_and_an_explicit_dir_is_authoritative() {
        let tmp = std::env::temp_dir().join(format!("descent-idx-{}", std::process::id()));
        let set = tmp.join("mnist");
        std::fs::create_dir_all(&set).unwrap();
        let mut img = images(4, 28, 28);
        let lbl = labels(&[3, 1, 4, 1]);
        // garbage after the second image's worth of a truncated stream
        img.truncate(16 + 2 * 784);
        std::fs::write(set.join("t10k-images-idx3-ubyte.gz"), gzip(&img)).unwrap();
        std::fs::write(set.join("t10k-labels-idx1-ubyte"), &lbl).unwrap();
        for dir in [&tmp, &set] {
            let two = mnist_prefix::<f32>(Split::Test, Some(dir), 2).unwrap();
            assert_eq!(two.class_labels().unwrap(), &[3, 1]);
            // the whole file is cut short: a typed error
            let err = mnist::<f32>(Split::Test, Some(dir)).unwrap_err();
            assert!(matches!(err, Error::Truncated { .. }), "{err}");
        }
        // the train files are absent: an error naming them, with no fall-back
        let err = mnist::<f32>(Split::Train, Some(&tmp)).unwrap_err();
        assert!(matches!(err, Error::NotInDataDir { .. }), "{err}");
        assert!(err.to_string().contains("train-images-idx3-ubyte"), "{err}");
        let err = fashion_mnist::<f32>(Split::Test, Some(&tmp)).unwrap_err();
        assert!(matches!(err, Error::NotInDataDir { .. }), "{err}");
        std::fs::remove_dir_all(&tmp).unwrap();
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
