//! Reading files: whole-file reads, gzip detection and bounded decompression.
//!
//! Invariant: an IDX header bounds decompression: at most the bytes it
//! promises are inflated, and a promise the input cannot hold (more than the
//! raw bytes, or than deflate's 1032:1 allows) is `Truncated` before anything
//! is allocated for it; the `*_prefix` loaders read only the first n records.

use crate::{Error, Location, Result};
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::Path;

/// The two bytes every gzip stream starts with.
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads a whole file, naming it in the error.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        file: path.to_owned(),
        source,
    })
}

/// A reader over `bytes`, decompressing when they start with the gzip magic.
pub(crate) fn open(bytes: &[u8]) -> Box<dyn Read + '_> {
    if bytes.starts_with(&GZIP_MAGIC) {
        Box::new(GzDecoder::new(bytes))
    } else {
        Box::new(bytes)
    }
}

/// Reads up to `want` bytes from `reader` into `out` (appending), stopping
/// early only at the end of the stream. `offset` is the stream position of
/// `out`'s first byte, for error messages. Reserves memory as data arrives,
/// so a header that promises gigabytes cannot make us allocate them.
pub(crate) fn read_up_to(
    reader: &mut dyn Read,
    want: u64,
    out: &mut Vec<u8>,
    file: &Path,
    offset: u64,
) -> Result<()> {
    out.reserve(want.min(1 << 24) as usize);
    let start = out.len();
    reader
        .take(want)
        .read_to_end(out)
        .map_err(|e| decode_error(file, offset + (out.len() - start) as u64, e))?;
    Ok(())
}

/// The whole (decompressed) content of `bytes`, at most `limit` bytes.
pub(crate) fn decompress_all(bytes: &[u8], file: &Path, limit: u64) -> Result<Vec<u8>> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(bytes.to_vec());
    }
    let mut out = Vec::new();
    read_up_to(&mut GzDecoder::new(bytes), limit + 1, &mut out, file, 0)?;
    if out.len() as u64 > limit {
        return Err(Error::malformed(
            file,
            Location::Byte(limit),
            format!("decompresses to more than {limit} bytes"),
        ));
    }
    Ok(out)
}

/// A decompression failure at `offset` of the decompressed stream.
fn decode_error(file: &Path, offset: u64, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        Error::truncated(file, Location::Byte(offset), "the rest of the gzip stream")
    } else {
        Error::malformed(file, Location::Byte(offset), format!("gzip: {e}"))
    }
}

/// Splits text into `(1-based line number, line)` without line terminators
/// (`\n` or `\r\n`); a final empty line is not yielded.
pub(crate) fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let empty = bytes.is_empty();
    body.split(|&b| b == b'\n')
        .filter(move |_| !empty)
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .enumerate()
        .map(|(i, l)| (i + 1, l))
}

/// Gzips `bytes` (test helper).
#[cfg(test)]
pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_detected_by_its_magic() {
        let file = Path::new("x");
        assert_eq!(
            decompress_all(&gzip(b"hello"), file, 100).unwrap(),
            b"hello"
        );
        assert_eq!(decompress_all(b"hello", file, 100).unwrap(), b"hello");
    }

    #[test]
    fn a_cut_gzip_stream_is_a_typed_error() {
        let gz = gzip(&[7u8; 1000]);
        let err = decompress_all(&gz[..gz.len() / 2], Path::new("x.gz"), 1 << 20).unwrap_err();
        assert!(
            matches!(err, Error::Truncated { .. } | Error::Malformed { .. }),
            "{err}"
        );
    }

    #[test]
    fn decompression_is_bounded() {
        let err = decompress_all(&gzip(&[0u8; 5000]), Path::new("bomb.gz"), 100).unwrap_err();
        assert!(matches!(
            err,
            Error::Malformed {
                at: Location::Byte(100),
                ..
            }
        ));
    }

    #[test]
    fn lines_are_numbered_from_one_without_terminators() {
        let got: Vec<_> = lines(b"a\r\nb\n\nc\n").collect();
        assert_eq!(got, vec![(1, &b"a"[..]), (2, b"b"), (3, b""), (4, b"c")]);
        assert_eq!(lines(b"").count(), 0);
        assert_eq!(lines(b"x").count(), 1);
    }
}
