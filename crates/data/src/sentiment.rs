//! The UCI Sentiment Labelled Sentences (Kotzias et al. 2015, CC BY 4.0):
//! JSON arrays of `{text, class}` and the UCI tab-separated form.

use crate::source::{decompress_all, lines, read_file};
use crate::{Error, Location, Result, resolve};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use std::fmt;
use std::path::Path;

/// Labelled sentences: `labels[i]` is 1 (positive) or 0 (negative) for
/// `texts[i]`, which is kept exactly as in the file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sentences {
    /// The sentences.
    pub texts: Vec<String>,
    /// 0 = negative, 1 = positive.
    pub labels: Vec<usize>,
}

impl Sentences {
    /// Number of sentences.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
}

/// The three sources of the shared JSON files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentimentSource {
    /// IMDB movie reviews (`imdb.json`).
    Imdb,
    /// Yelp restaurant reviews (`yelp.json`).
    Yelp,
    /// Amazon cell-phone reviews (`amazon.json`).
    Amazon,
}

impl SentimentSource {
    /// All three, in file-name order.
    pub const ALL: [SentimentSource; 3] = [Self::Amazon, Self::Imdb, Self::Yelp];

    /// The JSON file's name.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Imdb => "imdb.json",
            Self::Yelp => "yelp.json",
            Self::Amazon => "amazon.json",
        }
    }
}

/// The sentences of `source` from folder `sentiment-labelled-sentences`
/// under the data-directory rule: 1000 per source, 500 of each class.
pub fn sentiment(source: SentimentSource, explicit: Option<&Path>) -> Result<Sentences> {
    let name = source.file_name();
    let file = resolve("sentiment-labelled-sentences", &[name], explicit)?.join(name);
    parse_sentiment_json(&read_file(&file)?, &file)
}

/// The UCI tab-separated `amazon_cells_labelled.txt` from folder
/// `sentiment-labelled-sentences` under the data-directory rule.
pub fn sentiment_amazon_tsv(explicit: Option<&Path>) -> Result<Sentences> {
    let name = "amazon_cells_labelled.txt";
    let file = resolve("sentiment-labelled-sentences", &[name], explicit)?.join(name);
    parse_sentiment_tsv(&read_file(&file)?, &file)
}

/// Parses a JSON array of `{"text": string, "class": 0 | 1}` (gzipped or
/// plain). A final `{"text": "", "class": null}` sentinel is skipped; a null
/// class anywhere else is an error.
///
/// # Examples
///
/// ```
/// use descent_data::parse_sentiment_json;
/// use std::path::Path;
///
/// let json = br#"[{"text":"Great.","class":1},{"text":"Bad.","class":0},{"text":"","class":null}]"#;
/// let s = parse_sentiment_json(json, Path::new("x.json"))?;
/// assert_eq!(s.labels, [1, 0]);
/// let err = parse_sentiment_json(br#"[{"text":"?","class":2}]"#, Path::new("x.json")).unwrap_err();
/// assert!(err.to_string().contains("line 1 column"));
/// # Ok::<(), descent_data::Error>(())
/// ```
pub fn parse_sentiment_json(bytes: &[u8], file: &Path) -> Result<Sentences> {
    let text = decompress_all(bytes, file, 256 << 20)?;
    serde_json::from_slice::<JsonSentences>(&text)
        .map(|s| s.0)
        .map_err(|e| {
            Error::malformed(
                file,
                Location::LineColumn {
                    line: e.line(),
                    column: e.column(),
                },
                e.to_string(),
            )
        })
}

/// Parses the UCI form: one `sentence<TAB>label` per line, label 0 or 1.
///
/// # Examples
///
/// ```
/// use descent_data::parse_sentiment_tsv;
/// use std::path::Path;
///
/// let s = parse_sentiment_tsv(b"Good case.\t1\nNo.\t0\n", Path::new("x.txt"))?;
/// assert_eq!(s.texts[1], "No.");
/// # Ok::<(), descent_data::Error>(())
/// ```
pub fn parse_sentiment_tsv(bytes: &[u8], file: &Path) -> Result<Sentences> {
    let text = decompress_all(bytes, file, 256 << 20)?;
    let text = std::str::from_utf8(&text).map_err(|e| {
        Error::malformed(
            file,
            Location::Byte(e.valid_up_to() as u64),
            "invalid UTF-8",
        )
    })?;
    let mut out = Sentences::default();
    for (line_no, line) in lines(text.as_bytes()) {
        let at = Location::Line(line_no);
        // `lines` splits at ASCII bytes only, so each line is still UTF-8.
        let line = std::str::from_utf8(line).expect("split at ASCII bytes");
        let (sentence, label) = line
            .rsplit_once('\t')
            .ok_or_else(|| Error::malformed(file, at, "expected `sentence<TAB>label`"))?;
        let label: i64 = label.trim().parse().map_err(|_| {
            Error::malformed(file, at, format!("label `{label}` is not an integer"))
        })?;
        if !(0..2).contains(&label) {
            return Err(Error::LabelOutOfRange {
                file: file.to_owned(),
                at,
                label,
                n_classes: 2,
            });
        }
        out.texts.push(sentence.to_owned());
        out.labels.push(label as usize);
    }
    Ok(out)
}

/// One JSON record; `class` is checked while parsing, so that serde_json
/// reports the position of a bad one.
#[derive(Deserialize)]
struct Entry {
    text: String,
    #[serde(deserialize_with = "class")]
    class: Option<usize>,
}

fn class<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    match Option::<i64>::deserialize(d)? {
        None => Ok(None),
        Some(c @ 0..=1) => Ok(Some(c as usize)),
        Some(c) => Err(de::Error::custom(format_args!("class {c} is not 0 or 1"))),
    }
}

struct JsonSentences(Sentences);

impl<'de> Deserialize<'de> for JsonSentences {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(EntriesVisitor)
    }
}

struct EntriesVisitor;

impl<'de> Visitor<'de> for EntriesVisitor {
    type Value = JsonSentences;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of {\"text\": string, \"class\": 0 | 1}")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Sentences::default();
        while let Some(entry) = seq.next_element::<Entry>()? {
            match entry.class {
                Some(class) => {
                    out.texts.push(entry.text);
                    out.labels.push(class);
                }
                None if !entry.text.is_empty() => {
                    return Err(de::Error::custom("a sentence has a null class"));
                }
                None => {
                    if seq.next_element::<IgnoredAny>()?.is_some() {
                        return Err(de::Error::custom(
                            "the empty entry with a null class must be the last one",
                        ));
                    }
                    break;
                }
            }
        }
        Ok(JsonSentences(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const JSON: &[u8] = br#"[{"text":"A very slow movie.  ","class":0},
{"text":"Loved it \u2014 truly.","class":1},{"text":"","class":null}]"#;

    #[test]
    fn json_skips_the_trailing_sentinel_and_keeps_texts_exactly() {
        let s = parse_sentiment_json(JSON, Path::new("x.json")).unwrap();
        assert_eq!(s.labels, [0, 1]);
        assert_eq!(s.texts[0], "A very slow movie.  ");
        assert_eq!(s.texts[1], "Loved it — truly.");
    }

    #[test]
    fn a_sentinel_before_the_end_is_an_error_with_a_position() {
        let json = br#"[{"text":"","class":null},
{"text":"x","class":1}]"#;
        let err = parse_sentiment_json(json, Path::new("x.json")).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Malformed {
                    at: Location::LineColumn { line: 2, .. },
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_bad_class_is_an_error_with_a_position() {
        let json = b"[\n{\"text\":\"x\",\"class\":1},\n{\"text\":\"y\",\"class\":7}]";
        let err = parse_sentiment_json(json, Path::new("x.json")).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Malformed {
                    at: Location::LineColumn { line: 3, .. },
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("class 7"), "{err}");
    }

    #[test]
    fn tsv_reports_the_line_of_a_bad_label() {
        let err = parse_sentiment_tsv(b"ok\t1\nbad\t2\n", Path::new("t.txt")).unwrap_err();
        assert!(
            matches!(
                err,
                Error::LabelOutOfRange {
                    at: Location::Line(2),
                    label: 2,
                    ..
                }
            ),
            "{err}"
        );
        let err = parse_sentiment_tsv(b"ok\t1\nno tab\n", Path::new("t.txt")).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Malformed {
                    at: Location::Line(2),
                    ..
                }
            ),
            "{err}"
        );
        let err = parse_sentiment_tsv(b"ok\t1\n\xff\t0\n", Path::new("t.txt")).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Malformed {
                    at: Location::Byte(5),
                    ..
                }
            ),
            "{err}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_sentiment_json(&bytes, Path::new("fuzz.json"));
            let _ = parse_sentiment_tsv(&bytes, Path::new("fuzz.txt"));
        }

        #[test]
        fn cut_or_mutated_json_never_panics(cut in 0usize..JSON.len(), pos in 0usize..JSON.len(), byte: u8) {
            let _ = parse_sentiment_json(&JSON[..cut], Path::new("cut.json"));
            let mut m = JSON.to_vec();
            m[pos] = byte;
            let _ = parse_sentiment_json(&m, Path::new("mutated.json"));
        }
    }
}
