//! The UCI optical digits (8×8, 1797 samples), embedded in the crate.
//!
//! `data/digits.csv.gz` is scikit-learn's copy of the UCI test split, CC BY
//! 4.0 (Alpaydin & Kaynak 1998); `data/NOTICE.md` carries the licence and
//! provenance. Each line holds 64 pixel counts 0..=16 (8×8, row-major) and
//! the label 0..=9.

use crate::source::{decompress_all, lines, read_file};
use crate::{Error, ImageShape, InMemory, Location, Result, resolve};
use descent_core::Scalar;
use nalgebra::DMatrix;
use std::path::Path;

/// The gzipped CSV, as shipped by scikit-learn 1.9.1.
const DIGITS_CSV_GZ: &[u8] = include_bytes!("../data/digits.csv.gz");
/// Pixels per image.
const N_PIXELS: usize = 64;
/// Largest pixel value (a count of on-pixels in a 4×4 block).
const MAX_PIXEL: i64 = 16;

/// The embedded digits: 1797 samples of `1 × 8 × 8` raw pixel counts
/// 0..=16, labels 0..=9. Needs no files; use [`InMemory::scaled`] with
/// `1.0 / 16.0` for values in `[0, 1]`.
///
/// # Examples
///
/// ```
/// use descent_data::{digits, Dataset};
///
/// let data = digits::<f32>()?;
/// assert_eq!(data.len(), 1797);
/// assert_eq!(data.schema().n_classes(), Some(10));
/// # Ok::<(), descent_data::Error>(())
/// ```
pub fn digits<S: Scalar>() -> Result<InMemory<S>> {
    parse_digits(DIGITS_CSV_GZ, Path::new("<embedded>/digits.csv.gz"))
}

/// The digits from `digits/digits.csv.gz` under the data-directory rule
/// (see [`resolve`]), for checking the embedded copy against a shared one.
pub fn digits_from_dir<S: Scalar>(explicit: Option<&Path>) -> Result<InMemory<S>> {
    let file = resolve("digits", &["digits.csv.gz"], explicit)?.join("digits.csv.gz");
    parse_digits(&read_file(&file)?, &file)
}

/// Parses the digits CSV (gzipped or plain); `file` names it in errors.
pub fn parse_digits<S: Scalar>(bytes: &[u8], file: &Path) -> Result<InMemory<S>> {
    let text = decompress_all(bytes, file, 64 << 20)?;
    let mut pixels: Vec<u8> = Vec::new();
    let mut labels = Vec::new();
    for (line_no, line) in lines(&text) {
        let at = Location::Line(line_no);
        let mut n_fields = 0;
        for field in line.split(|&b| b == b',') {
            n_fields += 1;
            let value = parse_int(field).ok_or_else(|| {
                Error::malformed(
                    file,
                    at,
                    format!("`{}` is not an integer", String::from_utf8_lossy(field)),
                )
            })?;
            if n_fields <= N_PIXELS {
                if !(0..=MAX_PIXEL).contains(&value) {
                    return Err(Error::malformed(
                        file,
                        at,
                        format!("pixel {value} in column {n_fields} is outside 0..=16"),
                    ));
                }
                pixels.push(value as u8);
            } else if n_fields == N_PIXELS + 1 {
                if !(0..10).contains(&value) {
                    return Err(Error::LabelOutOfRange {
                        file: file.to_owned(),
                        at,
                        label: value,
                        n_classes: 10,
                    });
                }
                labels.push(value as usize);
            }
        }
        if n_fields != N_PIXELS + 1 {
            return Err(Error::CountMismatch {
                file: file.to_owned(),
                at,
                what: "comma-separated fields".into(),
                expected: N_PIXELS + 1,
                found: n_fields,
            });
        }
    }
    let n = labels.len();
    let features = DMatrix::from_fn(n, N_PIXELS, |i, j| {
        S::from_count(pixels[i * N_PIXELS + j] as usize)
    });
    InMemory::classification(features, labels, 10)?.with_image(ImageShape::new(1, 8, 8))
}

/// A decimal integer with optional surrounding spaces, or `None`.
fn parse_int(field: &[u8]) -> Option<i64> {
    std::str::from_utf8(field).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dataset;
    use crate::source::gzip;
    use proptest::prelude::*;

    fn line(label: &str) -> String {
        let mut fields = vec!["0"; 64];
        fields[3] = "16";
        fields.push(label);
        fields.join(",")
    }

    #[test]
    fn the_embedded_digits_have_sklearns_sizes_and_histogram() {
        let data = digits::<f64>().unwrap();
        assert_eq!(data.len(), 1797);
        assert_eq!(data.schema().image, Some(ImageShape::new(1, 8, 8)));
        let mut hist = [0usize; 10];
        for &l in data.class_labels().unwrap() {
            hist[l] += 1;
        }
        assert_eq!(hist, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
        // sklearn: digits.images[0][0] == [0, 0, 5, 13, 9, 1, 0, 0], target[0] == 0.
        let row0: Vec<f64> = data.features().row(0).iter().take(8).copied().collect();
        assert_eq!(row0, [0.0, 0.0, 5.0, 13.0, 9.0, 1.0, 0.0, 0.0]);
        assert_eq!(data.features().max(), 16.0);
        assert_eq!(data.scaled(1.0 / 16.0).features().max(), 1.0);
    }

    #[test]
    fn plain_and_gzipped_csv_parse_alike() {
        let text = format!("{}\r\n{}\n", line("3"), line("9"));
        let plain = parse_digits::<f32>(text.as_bytes(), Path::new("d.csv")).unwrap();
        let gz = parse_digits::<f32>(&gzip(text.as_bytes()), Path::new("d.csv.gz")).unwrap();
        assert_eq!(plain, gz);
        assert_eq!(plain.class_labels(), Some(&[3, 9][..]));
        assert_eq!(plain.features()[(1, 3)], 16.0);
    }

    #[test]
    fn a_label_out_of_range_names_the_line() {
        let text = format!("{}\n{}\n", line("3"), line("10"));
        let err = parse_digits::<f32>(text.as_bytes(), Path::new("d.csv")).unwrap_err();
        assert!(matches!(
            err,
            Error::LabelOutOfRange {
                at: Location::Line(2),
                label: 10,
                ..
            }
        ));
        assert!(
            err.to_string().starts_with("d.csv: label 10 at line 2"),
            "{err}"
        );
    }

    #[test]
    fn a_short_line_is_a_count_mismatch() {
        let text = format!("{}\n1,2,3\n", line("3"));
        let err = parse_digits::<f32>(text.as_bytes(), Path::new("d.csv")).unwrap_err();
        assert!(matches!(
            err,
            Error::CountMismatch {
                at: Location::Line(2),
                expected: 65,
                found: 3,
                ..
            }
        ));
    }

    #[test]
    fn a_bad_pixel_is_malformed() {
        let text = line("1").replacen("16", "17", 1);
        let err = parse_digits::<f32>(text.as_bytes(), Path::new("d.csv")).unwrap_err();
        assert!(matches!(
            err,
            Error::Malformed {
                at: Location::Line(1),
                ..
            }
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_digits::<f32>(&bytes, Path::new("fuzz.csv"));
            let _ = parse_digits::<f32>(&gzip(&bytes), Path::new("fuzz.csv.gz"));
        }

        #[test]
        fn truncated_or_mutated_embedded_file_never_panics(
            cut in 0usize..DIGITS_CSV_GZ.len(), pos in 0usize..4000, byte: u8,
        ) {
            let _ = parse_digits::<f32>(&DIGITS_CSV_GZ[..cut], Path::new("cut.gz"));
            let mut text = decompress_all(DIGITS_CSV_GZ, Path::new("x"), 1 << 20).unwrap();
            text.truncate(4000);
            text[pos] = byte;
            let _ = parse_digits::<f32>(&text, Path::new("mutated.csv"));
        }
    }
}
