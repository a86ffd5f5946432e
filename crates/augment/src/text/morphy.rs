//! WordNet morphology: the base forms of an inflected word, exactly as
//! WordNet's `morphy` (NLTK's `WordNetCorpusReader._morphy`): the `*.exc`
//! exception lists first, then the detachment rules of each part of speech,
//! applied once and then repeatedly until a form is a lemma of that part of
//! speech. And the way back: re-inflecting a synonym of the base form, so
//! "movies" is replaced by "films" and "ran" by "operated".
//!
//! Invariant: a word synonym replacement writes is in the input or traces to a
//! lexicon lemma through `morphy`: a re-inflected form is kept only if `morphy`
//! leads back to its synonym (proptest in `text/morphy/tests.rs`).

use super::Lexicon;
use crate::{Error, Result};
use std::collections::HashMap;
use std::path::Path;

/// A WordNet part of speech (adjective satellites count as adjectives, as
/// in NLTK's `morphy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pos {
    /// `n`, `noun.exc`, `index.noun`.
    Noun,
    /// `v`, `verb.exc`, `index.verb`.
    Verb,
    /// `a` (and `s`), `adj.exc`, `index.adj`.
    Adj,
    /// `r`, `adv.exc`, `index.adv`.
    Adv,
}

impl Pos {
    /// The four parts of speech in WordNet's file order.
    pub const ALL: [Pos; 4] = [Pos::Noun, Pos::Verb, Pos::Adj, Pos::Adv];

    /// The part of speech's name in WordNet's file names (`noun`, `verb`, `adj`, `adv`).
    pub fn file_name(self) -> &'static str {
        ["noun", "verb", "adj", "adv"][self as usize]
    }

    /// The bit of this part of speech in a synset's part-of-speech mask.
    pub(crate) fn bit(self) -> u8 {
        1 << self as u8
    }

    /// WordNet's detachment rules (`man 7 morphy`; NLTK's
    /// `MORPHOLOGICAL_SUBSTITUTIONS`), in their order: `(suffix, replacement)`.
    fn rules(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Pos::Noun => &[
                ("s", ""),
                ("ses", "s"),
                ("ves", "f"),
                ("xes", "x"),
                ("zes", "z"),
                ("ches", "ch"),
                ("shes", "sh"),
                ("men", "man"),
                ("ies", "y"),
            ],
            Pos::Verb => &[
                ("s", ""),
                ("ies", "y"),
                ("es", "e"),
                ("es", ""),
                ("ed", "e"),
                ("ed", ""),
                ("ing", "e"),
                ("ing", ""),
            ],
            Pos::Adj => &[("er", ""), ("est", ""), ("er", "e"), ("est", "e")],
            Pos::Adv => &[],
        }
    }
}

/// Every synset part-of-speech bit: a synset read without a part of speech.
pub(crate) const ANY_POS: u8 = 0b1111;

/// WordNet's exception lists: irregular inflected forms and their base
/// forms, per part of speech, in both directions.
#[derive(Debug, Clone, Default)]
pub(crate) struct Exceptions {
    /// form → base forms, per part of speech.
    bases: [HashMap<String, Vec<String>>; 4],
    /// base form → its irregular forms, per part of speech.
    forms: [HashMap<String, Vec<String>>; 4],
}

impl Exceptions {
    /// Reads one `*.exc` file: `form base [base...]` per line. Forms with
    /// characters other than lowercase letters (`ko's`, `joined_forces`)
    /// are skipped, as no single-word lemma can match them.
    pub(crate) fn read(&mut self, pos: Pos, text: &str, file: &Path) -> Result<()> {
        for (i, line) in text.lines().enumerate() {
            let mut f = line.split_whitespace();
            let Some(form) = f.next() else { continue };
            let bases: Vec<&str> = f.collect();
            if bases.is_empty() {
                return Err(Error::malformed(
                    file,
                    i + 1,
                    format!("`{form}` has no base form"),
                ));
            }
            if !super::lexicon::keep_lemma(form) {
                continue;
            }
            for base in bases.into_iter().filter(|b| super::lexicon::keep_lemma(b)) {
                let p = pos as usize;
                push_new(self.bases[p].entry(form.to_owned()).or_default(), base);
                push_new(self.forms[p].entry(base.to_owned()).or_default(), form);
            }
        }
        Ok(())
    }

    /// Number of (form, base) pairs kept.
    pub(crate) fn len(&self) -> usize {
        self.bases
            .iter()
            .flat_map(|m| m.values())
            .map(Vec::len)
            .sum()
    }
}

fn push_new(list: &mut Vec<String>, s: &str) {
    if !list.iter().any(|x| x == s) {
        list.push(s.to_owned());
    }
}

/// How an inflected form differs from its base form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inflection {
    /// Noun plural or verb third person singular (`-s`).
    S,
    /// Verb past tense or past participle (`-ed`, or an irregular form).
    Past,
    /// Verb present participle (`-ing`).
    Ing,
    /// Adjective or adverb comparative (`-er`).
    Er,
    /// Adjective or adverb superlative (`-est`).
    Est,
}

/// The inflection of `form` in `pos`, when it is not its own base form.
/// Verb forms from the exception lists that end neither in `-ing` nor in
/// `-s` are past forms (`ran`, `taken`).
fn inflection(form: &str, pos: Pos) -> Option<Inflection> {
    match pos {
        Pos::Noun => Some(Inflection::S),
        Pos::Verb if form.ends_with("ing") => Some(Inflection::Ing),
        Pos::Verb if form.ends_with('s') => Some(Inflection::S),
        Pos::Verb => Some(Inflection::Past),
        // `best`, `worst`, `most`; every other form (`better`, `worse`,
        // `less`) is a comparative
        Pos::Adj | Pos::Adv if form.ends_with("st") => Some(Inflection::Est),
        Pos::Adj | Pos::Adv => Some(Inflection::Er),
    }
}

fn is_vowel(b: u8) -> bool {
    matches!(b, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// Whether `w` ends in a consonant followed by `y` (`city`, not `day`).
fn consonant_y(w: &str) -> bool {
    let b = w.as_bytes();
    b.len() >= 2 && b[b.len() - 1] == b'y' && !is_vowel(b[b.len() - 2])
}

/// Vowel groups of `w` (`y` counts as a vowel after the first letter), less
/// a silent final `e` (`wide`, not `simple`).
fn syllables(w: &str) -> usize {
    let mut count = 0;
    let mut prev_vowel = false;
    for (i, &b) in w.as_bytes().iter().enumerate() {
        let v = is_vowel(b) || (b == b'y' && i > 0);
        if v && !prev_vowel {
            count += 1;
        }
        prev_vowel = v;
    }
    let b = w.as_bytes();
    let silent_e = b.len() >= 3
        && b[b.len() - 1] == b'e'
        && !is_vowel(b[b.len() - 2])
        && b[b.len() - 2] != b'l';
    if silent_e && count > 1 {
        count - 1
    } else {
        count
    }
}

/// The regular English spelling of `base` with inflection `how`, or `None`
/// where English uses another construction (`more beautiful`).
fn regular(base: &str, how: Inflection) -> Option<String> {
    let stem = |n: usize| &base[..base.len() - n];
    Some(match how {
        Inflection::S => {
            if ["s", "x", "z", "ch", "sh"]
                .iter()
                .any(|e| base.ends_with(e))
            {
                format!("{base}es")
            } else if consonant_y(base) {
                format!("{}ies", stem(1))
            } else {
                format!("{base}s")
            }
        }
        Inflection::Past => {
            if base.ends_with('e') {
                format!("{base}d")
            } else if consonant_y(base) {
                format!("{}ied", stem(1))
            } else {
                format!("{base}ed")
            }
        }
        Inflection::Ing => {
            if base.ends_with("ie") {
                format!("{}ying", stem(2))
            } else if base.ends_with('e') && !["ee", "oe", "ye"].iter().any(|e| base.ends_with(e)) {
                format!("{}ing", stem(1))
            } else {
                format!("{base}ing")
            }
        }
        Inflection::Er | Inflection::Est => {
            let suffix = if how == Inflection::Er { "er" } else { "est" };
            // participles compare with `more` (`more grown`, `more tired`)
            if ["ed", "ing", "wn"].iter().any(|e| base.ends_with(e)) {
                return None;
            }
            match syllables(base) {
                1 if base.ends_with('e') => format!("{base}{}", &suffix[1..]),
                1 => format!("{base}{suffix}"),
                2 if consonant_y(base) => format!("{}i{suffix}", stem(1)),
                _ => return None,
            }
        }
    })
}

impl Lexicon {
    /// Whether `form` is a lemma of `pos` (one of its synsets has that part
    /// of speech; a lexicon read without parts of speech accepts any).
    pub fn is_lemma(&self, form: &str, pos: Pos) -> bool {
        let Some(id) = self.ids.get(form) else {
            return false;
        };
        self.senses.get(id).is_some_and(|s| {
            s.iter()
                .any(|&s| self.synset_pos[s as usize] & pos.bit() != 0)
        })
    }

    /// The base forms of `form` as `pos`, exactly as WordNet's `morphy`
    /// (NLTK's `_morphy`): if `form` is in the exception list, `form` and
    /// its listed bases that are lemmas of `pos`; otherwise `form` and the
    /// detachment rules' results that are lemmas, or, if none is, the rules
    /// applied again and again until some result is a lemma. Empty when
    /// nothing is found. Forms are lowercase single words.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::text::{Lexicon, Pos};
    ///
    /// let lex = Lexicon::embedded();
    /// assert_eq!(lex.morphy("movies", Pos::Noun), ["movie"]);
    /// assert_eq!(lex.morphy("ran", Pos::Verb), ["run"]); // verb.exc
    /// assert_eq!(lex.morphy("children", Pos::Noun), ["child"]); // noun.exc
    /// assert!(lex.morphy("movies", Pos::Adv).is_empty());
    /// ```
    pub fn morphy(&self, form: &str, pos: Pos) -> Vec<String> {
        let filter = |forms: &[String]| -> Vec<String> {
            let mut out: Vec<String> = Vec::new();
            for f in forms {
                if self.is_lemma(f, pos) && !out.contains(f) {
                    out.push(f.clone());
                }
            }
            out
        };
        if let Some(bases) = self.exceptions.bases[pos as usize].get(form) {
            let mut forms = vec![form.to_owned()];
            forms.extend(bases.iter().cloned());
            return filter(&forms);
        }
        let apply = |forms: &[String]| -> Vec<String> {
            let mut out: Vec<String> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for f in forms {
                for (old, new) in pos.rules() {
                    if let Some(stem) = f.strip_suffix(old) {
                        let g = format!("{stem}{new}");
                        // deduplicated: the results are the same, and the
                        // search no longer grows exponentially ("sss…")
                        if seen.insert(g.clone()) {
                            out.push(g);
                        }
                    }
                }
            }
            out
        };
        let mut forms = apply(std::slice::from_ref(&form.to_owned()));
        let mut first = vec![form.to_owned()];
        first.extend(forms.iter().cloned());
        let results = filter(&first);
        if !results.is_empty() {
            return results;
        }
        while !forms.is_empty() {
            forms = apply(&forms);
            let results = filter(&forms);
            if !results.is_empty() {
                return results;
            }
        }
        Vec::new()
    }

    /// NLTK's `WordNetLemmatizer().lemmatize(word, pos)`: the shortest of
    /// [`morphy`](Self::morphy)'s base forms (the first on ties), or `word`
    /// itself when there is none.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::text::{Lexicon, Pos};
    ///
    /// let lex = Lexicon::embedded();
    /// assert_eq!(lex.lemmatize("children", Pos::Noun), "child");
    /// assert_eq!(lex.lemmatize("xyzzy", Pos::Noun), "xyzzy");
    /// ```
    pub fn lemmatize(&self, word: &str, pos: Pos) -> String {
        let lemmas = self.morphy(word, pos);
        let mut best: Option<&String> = None;
        for l in &lemmas {
            if best.is_none_or(|b| l.len() < b.len()) {
                best = Some(l);
            }
        }
        best.cloned().unwrap_or_else(|| word.to_owned())
    }

    /// Whether `word` is a lemma, or an inflection [`morphy`](Self::morphy)
    /// traces to a lemma, in any part of speech.
    pub fn knows(&self, word: &str) -> bool {
        Pos::ALL
            .iter()
            .any(|&pos| !self.morphy(word, pos).is_empty())
    }

    /// The synonyms of `base` among its synsets of part of speech `pos`.
    fn synonyms_as(&self, base: &str, pos: Pos) -> Vec<&str> {
        let Some(id) = self.ids.get(base) else {
            return Vec::new();
        };
        let mut out: Vec<&str> = Vec::new();
        let senses = self.senses.get(id).map_or(&[][..], Vec::as_slice);
        for &s in senses {
            if self.synset_pos[s as usize] & pos.bit() == 0 {
                continue;
            }
            for &w in &self.synsets[s as usize] {
                let syn = self.words[w as usize].as_str();
                if w != *id && !out.contains(&syn) {
                    out.push(syn);
                }
            }
        }
        out
    }

    /// `base` inflected as `how` in `pos`: its one irregular form of that
    /// kind from the exception list (none if it lists two, as `go` lists
    /// `went` and `gone`), else the regular spelling; kept only if
    /// [`morphy`](Self::morphy) leads back to `base`.
    fn inflect(&self, base: &str, pos: Pos, how: Inflection) -> Option<String> {
        let irregular: Vec<&String> = self.exceptions.forms[pos as usize]
            .get(base)
            .map(|forms| {
                forms
                    .iter()
                    .filter(|f| inflection(f, pos) == Some(how))
                    .collect()
            })
            .unwrap_or_default();
        // an adjective with irregular forms has no regular ones (`bad`:
        // `worse`, never `bader`); a verb may (`go`: `went`, and `going`)
        let has_irregular = self.exceptions.forms[pos as usize].contains_key(base);
        let form = match irregular.as_slice() {
            [one] => (*one).clone(),
            [] if pos == Pos::Verb || !has_irregular => regular(base, how)?,
            _ => return None,
        };
        let back = self.morphy(&form, pos);
        (form != base && back.iter().any(|b| b == base)).then_some(form)
    }

    /// The synonyms of `word` for replacement: first its own
    /// [`synonyms`](Self::synonyms) (when it is a lemma), then, for each
    /// part of speech and each other base form [`morphy`](Self::morphy)
    /// finds, that base's synonyms of that part of speech re-inflected as
    /// `word` is (see [`Lexicon::morphy`]). Re-inflection covers noun
    /// plurals, verb `-s`, `-ed` (past and participle, one form for regular
    /// verbs) and `-ing`, and `-er`/`-est` of adjectives of one syllable
    /// (or two ending in `-y`); irregular forms come from the exception
    /// lists. A synonym is left out when its form is ambiguous (`go`:
    /// `went` or `gone`), needs two words (`more beautiful`), or does not
    /// lead back to it through `morphy`. The exception lists do not say
    /// which of a verb's forms is usual, so a verb whose only listed past
    /// form is a rare one gets it (`melt`: `molten`, `work`: `wrought`), and
    /// a verb whose past is its base form gets the regular `-ed` (`readed`).
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::text::Lexicon;
    ///
    /// let lex = Lexicon::embedded();
    /// assert!(lex.synonyms("movies").is_empty()); // not a lemma
    /// assert!(lex.inflected_synonyms("movies").contains(&"films".to_string()));
    /// assert!(lex.inflected_synonyms("kids").contains(&"children".to_string()));
    /// ```
    pub fn inflected_synonyms(&self, word: &str) -> Vec<String> {
        let mut out: Vec<String> = self.synonyms(word).into_iter().map(str::to_owned).collect();
        for pos in Pos::ALL {
            for base in self.morphy(word, pos) {
                if base == word {
                    continue;
                }
                let Some(how) = inflection(word, pos) else {
                    continue;
                };
                for syn in self.synonyms_as(&base, pos) {
                    if let Some(form) = self.inflect(syn, pos, how)
                        && form != word
                        && !out.contains(&form)
                    {
                        out.push(form);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
