//! Reading WordNet 3.0's database files (`index.*`, `data.*`, `man 5 wndb`),
//! plain or gzipped, into a [`Lexicon`].
//!
//! Written by hand: the crates.io readers (`wordnet` 0.1.2 unwraps on
//! malformed lines and needs uncompressed files; `wordnet-db` 0.1.3 returns
//! `anyhow` errors and memory-maps uncompressed files) cannot read the
//! gzipped copy or give typed errors; synonyms need only one streaming pass.

use super::Lexicon;
use super::lexicon::keep_lemma;
use crate::{Error, Result};
use flate2::read::GzDecoder;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// The environment variable naming WordNet's home (the files are in it or in its `dict/`).
pub const WNHOME_ENV: &str = "WNHOME";

const POS: [&str; 4] = ["noun", "verb", "adj", "adv"];

/// The directories WordNet is looked for in, in order: the explicit one
/// (`--wordnet DIR`), `$WNHOME` and `$WNHOME/dict`, `/usr/share/wordnet`,
/// then `../shared/datasets/wordnet-3.0` from the current directory and
/// from the workspace root.
///
/// # Examples
///
/// ```
/// use descent_augment::text::wordnet_dirs;
/// use std::path::Path;
///
/// let dirs = wordnet_dirs(Some(Path::new("/opt/wn")));
/// assert_eq!(dirs[0], Path::new("/opt/wn"));
/// ```
pub fn wordnet_dirs(explicit: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = explicit.map(Path::to_owned).into_iter().collect();
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
/// let err = find_wordnet(Some(Path::new("/nonexistent"))).map(|_| ());
/// // Found elsewhere, or a typed error listing where it looked.
/// assert!(err.is_ok() || err.unwrap_err().to_string().contains("/nonexistent"));
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
    mut r: Box<dyn BufRead>,
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
    /// Loads WordNet 3.0 from `dir` (`data.*` and `index.*`, each plain or
    /// gzipped); malformed files give [`Error::Malformed`] naming file and line.
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
        for pos in POS {
            let mut by_offset: HashMap<usize, u32> = HashMap::new();
            let (file, r) = open(dir, &format!("data.{pos}"))?;
            each_line(&file, r, |n, line| {
                let f: Vec<&str> = line.split(' ').collect();
                let offset = number(
                    field(&f, 0, &file, n, "synset offset")?,
                    10,
                    &file,
                    n,
                    "synset offset",
                )?;
                let w_cnt = number(
                    field(&f, 3, &file, n, "word count")?,
                    16,
                    &file,
                    n,
                    "word count",
                )?;
                let mut ids = Vec::with_capacity(w_cnt);
                for k in 0..w_cnt {
                    let word = field(&f, 4 + 2 * k, &file, n, "word")?;
                    let word = word.split('(').next().unwrap_or(word).to_ascii_lowercase();
                    if keep_lemma(&word) {
                        ids.push(lex.intern(&word));
                    }
                }
                by_offset.insert(offset, lex.push_synset(ids));
                Ok(())
            })?;
            let (file, r) = open(dir, &format!("index.{pos}"))?;
            each_line(&file, r, |n, line| {
                let f: Vec<&str> = line.split_whitespace().collect();
                let lemma = field(&f, 0, &file, n, "lemma")?;
                let synset_cnt = number(
                    field(&f, 2, &file, n, "synset_cnt")?,
                    10,
                    &file,
                    n,
                    "synset_cnt",
                )?;
                let p_cnt = number(field(&f, 3, &file, n, "p_cnt")?, 10, &file, n, "p_cnt")?;
                let first = 4 + p_cnt + 2;
                if f.len() != first + synset_cnt {
                    return Err(Error::malformed(
                        &file,
                        n,
                        format!("expected {} fields, found {}", first + synset_cnt, f.len()),
                    ));
                }
                if !keep_lemma(lemma) {
                    return Ok(());
                }
                for off in &f[first..] {
                    let off = number(off, 10, &file, n, "synset offset")?;
                    let s = *by_offset.get(&off).ok_or_else(|| {
                        Error::malformed(
                            &file,
                            n,
                            format!("synset offset {off} is not in data.{pos}"),
                        )
                    })?;
                    lex.add_sense(lemma, s);
                }
                Ok(())
            })?;
        }
        Ok(lex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_db(dir: &Path, index_noun: &str) {
        std::fs::create_dir_all(dir).unwrap();
        let data = "  licence line\n00000010 03 n 02 film 0 movie 0 000 | a gloss\n";
        for pos in POS {
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

    #[test]
    fn a_missing_directory_is_a_typed_error() {
        let err = Lexicon::wordnet(Path::new("/nonexistent/wordnet")).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
    }
}
