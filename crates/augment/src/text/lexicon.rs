//! `Lexicon`: synsets of single-word lemmas and the senses of each word.

use crate::{Error, Result};
use std::collections::HashMap;
use std::path::Path;

/// The embedded fallback lexicon (derived from WordNet 3.0; see `data/NOTICE.md`).
const EMBEDDED: &str = include_str!("../../data/lexicon.txt");

/// A synonym lexicon: synsets (sets of interchangeable words) and, for each
/// word, its synsets in sense order (most frequent first).
///
/// Only single-word, alphabetic, lowercase lemmas are kept, so replacing a
/// word by a synonym keeps the word count.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    words: Vec<String>,
    ids: HashMap<String, u32>,
    synsets: Vec<Vec<u32>>,
    senses: HashMap<u32, Vec<u32>>,
}

/// Whether a lemma is kept: lowercase ASCII letters only.
pub(crate) fn keep_lemma(lemma: &str) -> bool {
    !lemma.is_empty() && lemma.bytes().all(|b| b.is_ascii_lowercase())
}

impl Lexicon {
    /// The embedded lexicon: about 700 synsets covering 400 frequent words,
    /// so text augmentation works with nothing installed.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::text::Lexicon;
    ///
    /// let lex = Lexicon::embedded();
    /// assert!(lex.synonyms("movie").contains(&"film"));
    /// ```
    pub fn embedded() -> Self {
        Self::parse_synsets(EMBEDDED, Path::new("<embedded lexicon.txt>"))
            .expect("the embedded lexicon parses")
    }

    /// Parses a synset list: one synset per line, its words separated by
    /// spaces; `#` starts a comment line. `file` names the source in errors.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::text::Lexicon;
    /// use std::path::Path;
    ///
    /// let lex = Lexicon::parse_synsets("# mine\nglad happy\n", Path::new("mine.txt"))?;
    /// assert_eq!(lex.synonyms("happy"), ["glad"]);
    /// assert!(Lexicon::parse_synsets("Glad happy\n", Path::new("bad.txt")).is_err());
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn parse_synsets(text: &str, file: &Path) -> Result<Self> {
        let mut lex = Lexicon::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut ids = Vec::new();
            for word in line.split_whitespace() {
                if !keep_lemma(word) {
                    return Err(Error::malformed(
                        file,
                        i + 1,
                        format!("`{word}` is not a lowercase word"),
                    ));
                }
                ids.push(lex.intern(word));
            }
            lex.push_synset(ids.clone());
            let s = lex.synsets.len() as u32 - 1;
            for id in ids {
                lex.senses.entry(id).or_default().push(s);
            }
        }
        Ok(lex)
    }

    /// The id of `word`, added if new.
    pub(crate) fn intern(&mut self, word: &str) -> u32 {
        if let Some(&id) = self.ids.get(word) {
            return id;
        }
        let id = self.words.len() as u32;
        self.words.push(word.to_owned());
        self.ids.insert(word.to_owned(), id);
        id
    }

    /// Adds a synset (word ids, duplicates removed) and returns its index.
    pub(crate) fn push_synset(&mut self, mut ids: Vec<u32>) -> u32 {
        let mut seen = Vec::with_capacity(ids.len());
        ids.retain(|id| {
            !seen.contains(id) && {
                seen.push(*id);
                true
            }
        });
        self.synsets.push(ids);
        self.synsets.len() as u32 - 1
    }

    /// Records that `word`'s next sense is synset `synset`.
    pub(crate) fn add_sense(&mut self, word: &str, synset: u32) {
        let id = self.intern(word);
        self.senses.entry(id).or_default().push(synset);
    }

    /// The synonyms of `word` (lowercase), in sense order, without `word`
    /// itself or repeats; empty for unknown words.
    pub fn synonyms(&self, word: &str) -> Vec<&str> {
        let Some(id) = self.ids.get(word) else {
            return Vec::new();
        };
        let mut out: Vec<&str> = Vec::new();
        for &s in self.senses.get(id).map_or(&[][..], Vec::as_slice) {
            for &w in &self.synsets[s as usize] {
                let syn = self.words[w as usize].as_str();
                if w != *id && !out.contains(&syn) {
                    out.push(syn);
                }
            }
        }
        out
    }

    /// Whether `a` and `b` share a synset.
    pub fn are_synonyms(&self, a: &str, b: &str) -> bool {
        a != b && self.synonyms(a).contains(&b)
    }

    /// Number of words that have at least one sense.
    pub fn len(&self) -> usize {
        self.senses.len()
    }

    /// Whether the lexicon knows no word.
    pub fn is_empty(&self) -> bool {
        self.senses.is_empty()
    }

    /// Number of synsets.
    pub fn n_synsets(&self) -> usize {
        self.synsets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_lexicon_knows_common_pairs() {
        let lex = Lexicon::embedded();
        assert!(lex.len() > 300, "{} words", lex.len());
        assert!(lex.are_synonyms("movie", "film"));
        assert!(lex.are_synonyms("happy", "glad"));
        assert!(!lex.synonyms("movie").contains(&"movie"));
        assert!(lex.synonyms("zzzz").is_empty());
    }

    #[test]
    fn a_malformed_line_names_the_file_and_line() {
        let err =
            Lexicon::parse_synsets("# c\nok fine\nbad_word x\n", Path::new("lex.txt")).unwrap_err();
        assert!(
            matches!(&err, Error::Malformed { line: 3, file, .. } if file == Path::new("lex.txt")),
            "{err}"
        );
        assert!(
            err.to_string().starts_with("lex.txt: malformed at line 3"),
            "{err}"
        );
    }
}
