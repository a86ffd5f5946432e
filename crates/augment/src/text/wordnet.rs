//! Reading WordNet 3.0's database files (`index.*`, `data.*`, `man 5 wndb`),
//! plain or gzipped, into a [`Lexicon`].
//!
//! Written by hand: the crates.io readers (`wordnet` 0.1.2 unwraps on
//! malformed lines and needs uncompressed files; `wordnet-db` 0.1.3 returns
//! `anyhow` errors and memory-maps uncompressed files) cannot read the
//! gzipped copy or give typed errors; synonyms need only one streaming pass.

use super::Lexicon;
use super::lexicon::keep_lemma;
use super::morphy::Pos;
use crate::{Error, Result};
use flate2::read::GzDecoder;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// The environment variable naming WordNet's home (the files are in it or in its `dict/`).
pub const WNHOME_ENV: &str = "WNHOME";

/// The directories WordNet is looked for in, in order. An explicit one
/// (`--wordnet DIR`) is authoritative: only it, its `dict/` and its
/// `wordnet-3.0/` (a data root) are looked in. Otherwise `$WNHOME` and
/// `$WNHOME/dict`, `/usr/share/wordnet`, then
/// `../shared/datasets/wordnet-3.0` from the current directory and from the
/// workspace root.
///
/// # Examples
///
/// ```
/// use descent_augment::text::wordnet_dirs;
/// use std::path::Path;
///
/// let dirs = wordnet_dirs(Some(Path::new("/opt/wn")));
/// assert_eq!(dirs, [Path::new("/opt/wn"), Path::new("/opt/wn/dict"), Path::new("/opt/wn/wordnet-3.0")]);
/// ```
pub fn wordnet_dirs(explicit: Option<&Path>) -> Vec<PathBuf> {
    if let Some(dir) = explicit {
        return vec![dir.to_owned(), dir.join("dict"), dir.join("wordnet-3.0")];
    }
    let mut dirs = Vec::new();
    if let Some(home) = std::env::var_os(WNHOME_ENV).filter(|v| !v.is_empty()) {
        dirs.push(PathBuf::from(&home));
        dirs.push(PathBuf::from(home).join("dict"));
    }
    dirs.push(PathBuf::from("/usr/share/wordnet"));
    if let Ok(cwd) = std::env::current_dir() {
        dirs.push(cwd.join("../shared/datasets/wordnet-3.0"));
    }
    // This crate lives at <workspace>/crates/augment.
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets/wordnet-3.0"));
    dirs
}

/// The first of [`wordnet_dirs`] holding `index.noun` (plain or gzipped).
///
/// # Examples
///
/// ```
/// use descent_augment::text::find_wordnet;
/// use std::path::Path;
///
/// // An explicit directory without WordNet is an error, never a fall-back.
/// let err = find_wordnet(Some(Path::new("/nonexistent"))).unwrap_err();
/// assert!(err.to_string().contains("/nonexistent/dict"));
/// ```
pub fn find_wordnet(explicit: Option<&Path>) -> Result<PathBuf> {
    let dirs = wordnet_dirs(explicit);
    dirs.iter()
        .find(|d| d.join("index.noun").is_file() || d.join("index.noun.gz").is_file())
        .cloned()
        .ok_or(Error::MissingWordNet { looked: dirs })
}

/// Opens `dir/name`, or `dir/name.gz` through gzip.
fn open(dir: &Path, name: &str) -> Result<(PathBuf, Box<dyn BufRead>)> {
    let plain = dir.join(name);
    let gz = dir.join(format!("{name}.gz"));
    let (file, gzipped) = if plain.is_file() {
        (plain, false)
    } else {
        (gz, true)
    };
    let f = std::fs::File::open(&file).map_err(|source| Error::Io {
        file: file.clone(),
        source,
    })?;
    let reader: Box<dyn Read> = if gzipped {
        Box::new(GzDecoder::new(f))
    } else {
        Box::new(f)
    };
    Ok((file, Box::new(BufReader::with_capacity(1 << 16, reader))))
}

/// Calls `f(line_number, line)` for every record line (licence lines, which
/// start with two spaces, are skipped).
fn each_line(
    file: &Path,
    mut r: Box<dyn BufRead + '_>,
    mut f: impl FnMut(usize, &str) -> Result<()>,
) -> Result<()> {
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        buf.clear();
        n += 1;
        match r.read_until(b'\n', &mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(source) => {
                return Err(Error::Io {
                    file: file.to_owned(),
                    source,
                });
            }
        }
        let line = std::str::from_utf8(&buf).map_err(|_| Error::malformed(file, n, "not UTF-8"))?;
        if line.starts_with("  ") || line.trim().is_empty() {
            continue;
        }
        f(n, line.trim_end())?;
    }
}

fn field<'a>(
    fields: &[&'a str],
    i: usize,
    file: &Path,
    line: usize,
    what: &str,
) -> Result<&'a str> {
    fields
        .get(i)
        .copied()
        .ok_or_else(|| Error::malformed(file, line, format!("missing {what}")))
}

fn number(s: &str, radix: u32, file: &Path, line: usize, what: &str) -> Result<usize> {
    usize::from_str_radix(s, radix)
        .map_err(|_| Error::malformed(file, line, format!("bad {what} `{s}`")))
}

impl Lexicon {
    /// Loads WordNet 3.0 from `dir` (`data.*`, `index.*` and the exception
    /// lists `*.exc`, each plain or gzipped); malformed files give
    /// [`Error::Malformed`] naming file and line, missing ones [`Error::Io`].
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::text::{find_wordnet, Lexicon};
    ///
    /// if let Ok(dir) = find_wordnet(None) {
    ///     let wn = Lexicon::wordnet(&dir)?;
    ///     assert!(wn.are_synonyms("movie", "film"));
    /// }
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn wordnet(dir: &Path) -> Result<Self> {
        let mut lex = Lexicon::default();
        for pos in Pos::ALL {
            let name = pos.file_name();
            let data = open(dir, &format!("data.{name}"))?;
            let index = open(dir, &format!("index.{name}"))?;
            lex.read_wordnet_pos(data, index)?;
        }
        for pos in Pos::ALL {
            let (file, mut r) = open(dir, &format!("{}.exc", pos.file_name()))?;
            let mut text = String::new();
            r.read_to_string(&mut text).map_err(|source| Error::Io {
                file: file.clone(),
                source,
            })?;
            lex.add_exceptions(pos, &text, &file)?;
        }
        Ok(lex)
    }

    /// Parses one part of speech of WordNet from bytes already in memory: a
    /// `data.*` file and its `index.*` file (each plain or gzipped), named
    /// `data_file` and `index_file` in errors; each synset's part of speech
    /// is its `ss_type` field. [`Lexicon::wordnet`] reads the four parts of
    /// speech this way from disk, and their exception lists
    /// ([`Lexicon::add_exceptions`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::text::Lexicon;
    /// use descent_augment::Error;
    /// use std::path::Path;
    ///
    /// let data = b"00000010 03 n 02 film 0 movie 0 000 | a gloss\n";
    /// let index = b"film n 1 0 1 0 00000010\nmovie n 1 0 1 0 00000010\n";
    /// let (d, i) = (Path::new("data.noun"), Path::new("index.noun"));
    /// let lex = Lexicon::parse_wordnet(data, d, index, i)?;
    /// assert!(lex.are_synonyms("movie", "film"));
    /// let err = Lexicon::parse_wordnet(b"00000010 03 n ff film 0\n", d, index, i).unwrap_err();
    /// assert!(matches!(err, Error::Malformed { line: 1, .. }));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn parse_wordnet(
        data: &[u8],
        data_file: &Path,
        index: &[u8],
        index_file: &Path,
    ) -> Result<Self> {
        let reader = |bytes| -> Box<dyn BufRead + '_> {
            if bytes_are_gzip(bytes) {
                Box::new(BufReader::new(GzDecoder::new(bytes)))
            } else {
                Box::new(bytes)
            }
        };
        let mut lex = Lexicon::default();
        lex.read_wordnet_pos(
            (data_file.to_owned(), reader(data)),
            (index_file.to_owned(), reader(index)),
        )?;
        Ok(lex)
    }

    /// Reads one part of speech: its `data.*` synsets, then its `index.*` senses.
    fn read_wordnet_pos(
        &mut self,
        (data_file, data): (PathBuf, Box<dyn BufRead + '_>),
        (index_file, index): (PathBuf, Box<dyn BufRead + '_>),
    ) -> Result<()> {
        let mut by_offset: HashMap<usize, u32> = HashMap::new();
        each_line(&data_file, data, |n, line| {
            let (offset, ids, pos) = data_line(self, line, &data_file, n)?;
            by_offset.insert(offset, self.push_synset(ids, pos));
            Ok(())
        })?;
        each_line(&index_file, index, |n, line| {
            index_line(self, &by_offset, line, &index_file, n)
        })
    }
}

fn bytes_are_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// One `data.*` record: its synset offset, the ids of its kept words and
/// its part-of-speech bit.
fn data_line(
    lex: &mut Lexicon,
    line: &str,
    file: &Path,
    n: usize,
) -> Result<(usize, Vec<u32>, u8)> {
    let f: Vec<&str> = line.split(' ').collect();
    let pos = match field(&f, 2, file, n, "ss_type")? {
        "n" => Pos::Noun,
        "v" => Pos::Verb,
        "a" | "s" => Pos::Adj,
        "r" => Pos::Adv,
        other => return Err(Error::malformed(file, n, format!("bad ss_type `{other}`"))),
    };
    let offset = number(
        field(&f, 0, file, n, "synset offset")?,
        10,
        file,
        n,
        "synset offset",
    )?;
    let w_cnt = number(
        field(&f, 3, file, n, "word count")?,
        16,
        file,
        n,
        "word count",
    )?;
    // Each word takes two fields (lemma, lex_id) after the first four.
    let on_line = f.len().saturating_sub(4) / 2;
    if w_cnt > on_line {
        return Err(Error::malformed(
            file,
            n,
            format!("word count {w_cnt} but at most {on_line} words on the line"),
        ));
    }
    let mut ids = Vec::with_capacity(w_cnt);
    for k in 0..w_cnt {
        let word = f[4 + 2 * k];
        let word = word.split('(').next().unwrap_or(word).to_ascii_lowercase();
        if keep_lemma(&word) {
            ids.push(lex.intern(&word));
        }
    }
    Ok((offset, ids, pos.bit()))
}

/// One `index.*` record: adds the lemma's senses to `lex`.
fn index_line(
    lex: &mut Lexicon,
    by_offset: &HashMap<usize, u32>,
    line: &str,
    file: &Path,
    n: usize,
) -> Result<()> {
    let f: Vec<&str> = line.split_whitespace().collect();
    let lemma = field(&f, 0, file, n, "lemma")?;
    let synset_cnt = number(
        field(&f, 2, file, n, "synset_cnt")?,
        10,
        file,
        n,
        "synset_cnt",
    )?;
    let p_cnt = number(field(&f, 3, file, n, "p_cnt")?, 10, file, n, "p_cnt")?;
    // lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...
    let expected = 6usize
        .checked_add(p_cnt)
        .and_then(|first| first.checked_add(synset_cnt));
    if expected != Some(f.len()) {
        let expected =
            expected.map_or_else(|| "more than usize::MAX".to_owned(), |e| e.to_string());
        return Err(Error::malformed(
            file,
            n,
            format!("expected {expected} fields, found {}", f.len()),
        ));
    }
    if !keep_lemma(lemma) {
        return Ok(());
    }
    for off in &f[6 + p_cnt..] {
        let off = number(off, 10, file, n, "synset offset")?;
        let s = *by_offset.get(&off).ok_or_else(|| {
            let data = file
                .file_name()
                .map(|s| s.to_string_lossy().replacen("index", "data", 1))
                .unwrap_or_default();
            Error::malformed(file, n, format!("synset offset {off} is not in {data}"))
        })?;
        lex.add_sense(lemma, s);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_db(dir: &Path, index_noun: &str) {
        std::fs::create_dir_all(dir).unwrap();
        let data = "  licence line\n00000010 03 n 02 film 0 movie 0 000 | a gloss\n";
        for pos in Pos::ALL.map(Pos::file_name) {
            std::fs::write(dir.join(format!("{pos}.exc")), "").unwrap();
            std::fs::write(
                dir.join(format!("data.{pos}")),
                if pos == "noun" { data } else { "" },
            )
            .unwrap();
            std::fs::write(
                dir.join(format!("index.{pos}")),
                if pos == "noun" { index_noun } else { "" },
            )
            .unwrap();
        }
    }

    #[test]
    fn a_tiny_database_reads_and_a_broken_one_names_file_and_line() {
        let dir = std::env::temp_dir().join(format!("descent-augment-wn-{}", std::process::id()));
        write_db(
            &dir,
            "film n 1 0 1 0 00000010  \nmovie n 1 0 1 0 00000010  \n",
        );
        let lex = Lexicon::wordnet(&dir).unwrap();
        assert_eq!(lex.synonyms("movie"), ["film"]);
        write_db(
            &dir,
            "film n 1 0 1 0 00000010  \nmovie n 2 0 1 0 00000010\n",
        );
        let err = Lexicon::wordnet(&dir).unwrap_err();
        assert!(
            matches!(&err, Error::Malformed { line: 2, file, .. } if file.ends_with("index.noun")),
            "{err}"
        );
        write_db(&dir, "film n 1 0 1 0 00000099\n");
        let err = Lexicon::wordnet(&dir).unwrap_err();
        assert!(
            err.to_string().contains("line 1: synset offset 99"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn parse(data: &str, index: &str) -> Result<Lexicon> {
        Lexicon::parse_wordnet(
            data.as_bytes(),
            Path::new("data.noun"),
            index.as_bytes(),
            Path::new("index.noun"),
        )
    }

    #[test]
    fn a_huge_word_count_is_malformed_not_an_allocation() {
        for count in ["ffffffffffffffff", "ffffffff", "05"] {
            let err = parse(
                &format!("00000010 03 n {count} film 0 movie 0 000 | x\n"),
                "",
            )
            .unwrap_err();
            assert!(
                matches!(&err, Error::Malformed { line: 1, file, .. } if file.ends_with("data.noun")),
                "{err}"
            );
        }
    }

    #[test]
    fn a_huge_pointer_count_is_malformed_not_an_overflow() {
        let data = "00000010 03 n 01 film 0 000 | x\n";
        let max = usize::MAX;
        for p_cnt in [max, max - 5, max - 6, 7] {
            let err = parse(data, &format!("film n 1 {p_cnt} 1 0 00000010\n")).unwrap_err();
            assert!(
                matches!(&err, Error::Malformed { line: 1, file, .. } if file.ends_with("index.noun")),
                "{err}"
            );
        }
        let err = parse(data, &format!("film n {max} 0 1 0 00000010\n")).unwrap_err();
        assert!(matches!(err, Error::Malformed { line: 1, .. }), "{err}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_lines_never_panic(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            index in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
        ) {
            let (d, i) = (Path::new("data.noun"), Path::new("index.noun"));
            let _ = Lexicon::parse_wordnet(&data, d, &index, i);
        }

        #[test]
        fn mutated_valid_lines_never_panic(
            pos in 0usize..80, byte in proptest::prelude::any::<u8>(), which: bool, cut in 0usize..80,
        ) {
            let mut data = b"00000010 03 n 02 film 0 movie 0 000 | a gloss\n".to_vec();
            let mut index = b"film n 1 0 1 0 00000010\nmovie n 1 0 1 0 00000010\n".to_vec();
            let target = if which { &mut data } else { &mut index };
            let at = pos % target.len();
            target[at] = byte;
            target.truncate(cut.max(1));
            let (d, i) = (Path::new("data.noun"), Path::new("index.noun"));
            let _ = Lexicon::parse_wordnet(&data, d, &index, i);
        }
    }

    #[test]
    fn a_missing_directory_is_a_typed_error() {
        let err = Lexicon::wordnet(Path::new("/nonexistent/wordnet")).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
    }
}
