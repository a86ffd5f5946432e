//! `Lexicon`: synsets of single-word lemmas and the senses of each word.

use super::morphy::{ANY_POS, Exceptions, Pos};
use crate::{Error, Result};
use std::collections::HashMap;
use std::path::Path;

/// The embedded fallback lexicon (derived from WordNet 3.0; see `data/NOTICE.md`).
const EMBEDDED: &str = include_str!("../../data/lexicon.txt");
/// WordNet 3.0's exception lists, cut to the embedded lexicon's lemmas
/// (`data/exceptions.txt`, see `data/NOTICE.md`): `pos form base...` per line.
const EMBEDDED_EXCEPTIONS: &str = include_str!("../../data/exceptions.txt");

/// A synonym lexicon: synsets (sets of interchangeable words) and, for each
/// word, its synsets in sense order (most frequent first).
///
/// Only single-word, alphabetic, lowercase lemmas are kept, so replacing a
/// word by a synonym keeps the word count. Each synset knows its part of
/// speech, and the lexicon holds WordNet's exception lists, so inflected
/// words find their base forms ([`Lexicon::morphy`]).
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    pub(crate) words: Vec<String>,
    pub(crate) ids: HashMap<String, u32>,
    pub(crate) synsets: Vec<Vec<u32>>,
    /// The part-of-speech bits of each synset ([`ANY_POS`] if unknown).
    pub(crate) synset_pos: Vec<u8>,
    pub(crate) senses: HashMap<u32, Vec<u32>>,
    pub(crate) exceptions: Exceptions,
}

/// The part of speech a synset-list line starts with (`n:`, `v:`, `a:`,
/// `s:` or `r:`, WordNet's `ss_type`), if any.
fn pos_tag(token: &str) -> Option<u8> {
    Some(match token {
        "n:" => Pos::Noun.bit(),
        "v:" => Pos::Verb.bit(),
        "a:" | "s:" => Pos::Adj.bit(),
        "r:" => Pos::Adv.bit(),
        _ => return None,
    })
}

/// Whether a lemma is kept: lowercase ASCII letters only.
pub(crate) fn keep_lemma(lemma: &str) -> bool {
    !lemma.is_empty() && lemma.bytes().all(|b| b.is_ascii_lowercase())
}

impl Lexicon {
    /// The embedded lexicon: about 700 synsets covering 400 frequent words,
    /// with their parts of speech and the exception-list entries of their
    /// lemmas, so text augmentation works with nothing installed.
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
        let mut lex = Self::parse_synsets(EMBEDDED, Path::new("<embedded lexicon.txt>"))
            .expect("the embedded lexicon parses");
        let file = Path::new("<embedded exceptions.txt>");
        for pos in Pos::ALL {
            let tag = pos.file_name();
            let lines: String = EMBEDDED_EXCEPTIONS
                .lines()
                .filter_map(|l| l.strip_prefix(tag)?.strip_prefix(' '))
                .flat_map(|l| [l, "\n"])
                .collect();
            lex.exceptions
                .read(pos, &lines, file)
                .expect("the embedded exceptions parse");
        }
        lex
    }

    /// Adds one WordNet exception list (`noun.exc`, `verb.exc`, `adj.exc`
    /// or `adv.exc`: an inflected form and its base forms per line) for
    /// [`morphy`](Self::morphy). [`Lexicon::wordnet`] reads all four;
    /// `file` names the source in errors.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::text::{Lexicon, Pos};
    /// use std::path::Path;
    ///
    /// let mut lex = Lexicon::parse_synsets("v: go travel\n", Path::new("mine.txt"))?;
    /// lex.add_exceptions(Pos::Verb, "went go\n", Path::new("verb.exc"))?;
    /// assert_eq!(lex.morphy("went", Pos::Verb), ["go"]);
    /// assert!(lex.add_exceptions(Pos::Verb, "went\n", Path::new("verb.exc")).is_err());
    /// # Ok::<(), descent_augment::Error>(())
    /// ```
    pub fn add_exceptions(&mut self, pos: Pos, text: &str, file: &Path) -> Result<()> {
        self.exceptions.read(pos, text, file)
    }

    /// Number of (inflected form, base form) pairs in the exception lists.
    pub fn n_exceptions(&self) -> usize {
        self.exceptions.len()
    }

    /// Parses a synset list: one synset per line, its words separated by
    /// spaces, optionally after its part of speech (`n:`, `v:`, `a:`, `s:`
    /// or `r:`; without it the synset counts as every part of speech); `#`
    /// starts a comment line. `file` names the source in errors.
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
            let mut words = line.split_whitespace().peekable();
            let pos = words.peek().and_then(|t| pos_tag(t));
            if pos.is_some() {
                words.next();
            }
            for word in words {
                if !keep_lemma(word) {
                    return Err(Error::malformed(
                        file,
                        i + 1,
                        format!("`{word}` is not a lowercase word"),
                    ));
                }
                ids.push(lex.intern(word));
            }
            lex.push_synset(ids.clone(), pos.unwrap_or(ANY_POS));
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

    /// Adds a synset (word ids, duplicates removed) of part-of-speech bits
    /// `pos` and returns its index.
    pub(crate) fn push_synset(&mut self, mut ids: Vec<u32>, pos: u8) -> u32 {
        let mut seen = Vec::with_capacity(ids.len());
        ids.retain(|id| {
            !seen.contains(id) && {
                seen.push(*id);
                true
            }
        });
        self.synsets.push(ids);
        self.synset_pos.push(pos);
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
