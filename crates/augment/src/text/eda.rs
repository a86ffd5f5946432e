//! EDA (Wei & Zou 2019): synonym replacement, random insertion, random swap
//! and random deletion, following the reference implementation `eda.py`.

use super::{Lexicon, tokenize};
use crate::ArgError;
use crate::error::check_prob;
use crate::{Error, Result};
use rand::seq::SliceRandom;
use rand::{Rng, RngExt};
use std::sync::LazyLock;

/// The stop-word list of the EDA reference implementation (never replaced),
/// in its order: `data/eda_stop_words.txt`, then the empty string the
/// reference list ends with.
pub static EDA_STOP_WORDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/eda_stop_words.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .chain(std::iter::once(""))
        .collect()
});

/// The EDA hyperparameters; `Default` is the paper's (0.1 each, 9 augmented sentences).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EdaConfig {
    /// Fraction of words replaced by synonyms.
    pub alpha_sr: f64,
    /// Fraction of words inserted.
    pub alpha_ri: f64,
    /// Fraction of words swapped.
    pub alpha_rs: f64,
    /// Probability of deleting each word.
    pub p_rd: f64,
    /// Augmented sentences per input.
    pub num_aug: usize,
}

impl Default for EdaConfig {
    fn default() -> Self {
        EdaConfig {
            alpha_sr: 0.1,
            alpha_ri: 0.1,
            alpha_rs: 0.1,
            p_rd: 0.1,
            num_aug: 9,
        }
    }
}

impl EdaConfig {
    /// Checks every parameter.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::text::EdaConfig;
    ///
    /// assert!(EdaConfig::default().validate().is_ok());
    /// assert!(EdaConfig { p_rd: 1.5, ..Default::default() }.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        check_prob("alpha_sr", self.alpha_sr)?;
        check_prob("alpha_ri", self.alpha_ri)?;
        check_prob("alpha_rs", self.alpha_rs)?;
        check_prob("p_rd", self.p_rd)?;
        if self.num_aug == 0 {
            return Err(Error::Arg(ArgError::new(
                "num_aug",
                0,
                "must be at least 1",
            )));
        }
        Ok(())
    }
}

/// Replaces up to `n` distinct non-stop words (every occurrence) by a random
/// lexicon synonym, re-inflected as the word is
/// ([`Lexicon::inflected_synonyms`]: "movies" becomes "films").
pub fn synonym_replacement(
    words: &[String],
    n: usize,
    lexicon: &Lexicon,
    rng: &mut impl Rng,
) -> Vec<String> {
    let mut out = words.to_vec();
    let mut candidates: Vec<&String> = Vec::new();
    for w in words {
        if !EDA_STOP_WORDS.contains(&w.as_str()) && !candidates.contains(&w) {
            candidates.push(w);
        }
    }
    candidates.shuffle(rng);
    let mut replaced = 0;
    for word in candidates {
        let synonyms = lexicon.inflected_synonyms(word);
        if synonyms.is_empty() {
            continue;
        }
        let synonym = &synonyms[rng.random_range(0..synonyms.len())];
        for o in out.iter_mut().filter(|o| *o == word) {
            o.clone_from(synonym);
        }
        replaced += 1;
        if replaced >= n {
            break;
        }
    }
    out
}

/// Inserts, `n` times, a synonym of a random word (re-inflected as the word
/// is, see [`Lexicon::inflected_synonyms`]) at a random position (up to 10
/// tries to find a word with synonyms, as the reference).
pub fn random_insertion(
    words: &[String],
    n: usize,
    lexicon: &Lexicon,
    rng: &mut impl Rng,
) -> Vec<String> {
    let mut out = words.to_vec();
    for _ in 0..n {
        for _ in 0..10 {
            if out.is_empty() {
                break;
            }
            let word = &out[rng.random_range(0..out.len())];
            let synonyms = lexicon.inflected_synonyms(word);
            if let Some(s) = synonyms.get(if synonyms.is_empty() {
                0
            } else {
                rng.random_range(0..synonyms.len())
            }) {
                let s = s.clone();
                let at = rng.random_range(0..=out.len());
                out.insert(at, s);
                break;
            }
        }
    }
    out
}

/// Swaps two random words, `n` times (up to 3 redraws when both are the same).
pub fn random_swap(words: &[String], n: usize, rng: &mut impl Rng) -> Vec<String> {
    let mut out = words.to_vec();
    if out.len() < 2 {
        return out;
    }
    for _ in 0..n {
        let a = rng.random_range(0..out.len());
        let mut b = a;
        for _ in 0..4 {
            b = rng.random_range(0..out.len());
            if b != a {
                break;
            }
        }
        out.swap(a, b);
    }
    out
}

/// Deletes each word with probability `p`, never emptying the sentence
/// (a random word is kept if all were deleted); `p` outside [0, 1] (or NaN)
/// is [`Error::Arg`].
///
/// # Examples
///
/// ```
/// use descent_augment::text::random_deletion;
/// use descent_augment::{Error, OpCtx, SampleKey};
///
/// let words: Vec<String> = ["a", "good", "movie"].map(String::from).to_vec();
/// let mut rng = OpCtx::root(SampleKey::new(0, 0, 0)).rng();
/// assert_eq!(random_deletion(&words, 0.0, &mut rng)?, words);
/// assert!(matches!(random_deletion(&words, 1.5, &mut rng), Err(Error::Arg(_))));
/// # Ok::<(), Error>(())
/// ```
pub fn random_deletion(words: &[String], p: f64, rng: &mut impl Rng) -> Result<Vec<String>> {
    check_prob("p", p)?;
    if words.len() <= 1 {
        return Ok(words.to_vec());
    }
    let out: Vec<String> = words
        .iter()
        .filter(|_| !rng.random_bool(p))
        .cloned()
        .collect();
    Ok(if out.is_empty() {
        vec![words[rng.random_range(0..words.len())].clone()]
    } else {
        out
    })
}

/// EDA on one sentence: `num_aug` augmented sentences (a quarter from each
/// operation, shuffled) followed by the original, as the reference `eda()`.
/// Sentences are tokenized and reduced to their alphabetic words first, as
/// the reference's `get_only_chars`.
///
/// For counter-based randomness, pass `OpCtx::root(SampleKey::new(seed, epoch, i)).rng()`.
///
/// # Examples
///
/// ```
/// use descent_augment::text::{eda, EdaConfig, Lexicon};
/// use descent_augment::{OpCtx, SampleKey};
///
/// let lex = Lexicon::embedded();
/// let mut rng = OpCtx::root(SampleKey::new(0, 0, 0)).rng();
/// let out = eda("I watched a great movie with a happy friend", &lex, &EdaConfig::default(), &mut rng)?;
/// assert_eq!(out.len(), 10);
/// assert_eq!(out[9], "i watched a great movie with a happy friend");
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn eda(
    sentence: &str,
    lexicon: &Lexicon,
    config: &EdaConfig,
    rng: &mut impl Rng,
) -> Result<Vec<String>> {
    config.validate()?;
    let words: Vec<String> = tokenize(sentence)
        .into_iter()
        .filter(|t| t.chars().all(|c| c.is_ascii_lowercase()))
        .collect();
    let n_words = words.len();
    let per_technique = config.num_aug / 4 + 1;
    let count = |alpha: f64| ((alpha * n_words as f64) as usize).max(1);
    let mut out: Vec<Vec<String>> = Vec::new();
    if config.alpha_sr > 0.0 {
        for _ in 0..per_technique {
            out.push(synonym_replacement(
                &words,
                count(config.alpha_sr),
                lexicon,
                rng,
            ));
        }
    }
    if config.alpha_ri > 0.0 {
        for _ in 0..per_technique {
            out.push(random_insertion(
                &words,
                count(config.alpha_ri),
                lexicon,
                rng,
            ));
        }
    }
    if config.alpha_rs > 0.0 {
        for _ in 0..per_technique {
            out.push(random_swap(&words, count(config.alpha_rs), rng));
        }
    }
    if config.p_rd > 0.0 {
        for _ in 0..per_technique {
            out.push(random_deletion(&words, config.p_rd, rng)?);
        }
    }
    out.shuffle(rng);
    out.truncate(config.num_aug);
    let mut sentences: Vec<String> = out.iter().map(|w| w.join(" ")).collect();
    sentences.push(words.join(" "));
    Ok(sentences)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Pos;
    use crate::{OpCtx, SampleKey};
    use proptest::prelude::*;

    /// The data file reads back as the reference list: 128 entries, in its
    /// order, ending with the empty string, no duplicates.
    #[test]
    fn stop_words_read_back_as_the_reference_list() {
        let words = &*EDA_STOP_WORDS;
        assert_eq!(words.len(), 128);
        assert_eq!(&words[..4], ["i", "me", "my", "myself"]);
        assert_eq!(&words[125..], ["should", "now", ""]);
        let unique: std::collections::BTreeSet<_> = words.iter().collect();
        assert_eq!(unique.len(), words.len());
    }

    /// Whether `b` is a synonym of `a` up to inflection: the two are
    /// synonyms, or base forms of theirs in one part of speech are.
    fn related(lex: &Lexicon, a: &str, b: &str) -> bool {
        lex.are_synonyms(a, b)
            || Pos::ALL.iter().any(|&pos| {
                let bases = lex.morphy(b, pos);
                lex.morphy(a, pos)
                    .iter()
                    .any(|x| bases.iter().any(|y| lex.are_synonyms(x, y)))
            })
    }

    fn sentence() -> Vec<String> {
        "the happy child watched a movie in the big house and the movie was good"
            .split(' ')
            .map(str::to_owned)
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn synonym_replacement_uses_only_lexicon_synonyms_and_keeps_the_count(seed in 0u64..10_000, n in 1usize..6) {
            let lex = Lexicon::embedded();
            let words = sentence();
            let mut rng = OpCtx::root(SampleKey::new(seed, 0, 0)).rng();
            let out = synonym_replacement(&words, n, &lex, &mut rng);
            prop_assert_eq!(out.len(), words.len());
            let mut changed = Vec::new();
            for (a, b) in words.iter().zip(&out) {
                if a != b {
                    prop_assert!(related(&lex, a, b), "{} -> {}", a, b);
                    prop_assert!(!EDA_STOP_WORDS.contains(&a.as_str()));
                    if !changed.contains(a) { changed.push(a.clone()); }
                }
            }
            prop_assert!(!changed.is_empty() && changed.len() <= n);
        }

        #[test]
        fn deletion_keeps_at_least_one_word(seed in 0u64..10_000, p in 0.0f64..=1.0, len in 0usize..8) {
            let words: Vec<String> = sentence().into_iter().take(len).collect();
            let mut rng = OpCtx::root(SampleKey::new(seed, 0, 0)).rng();
            let out = random_deletion(&words, p, &mut rng).unwrap();
            prop_assert!(out.len() >= words.len().min(1));
            prop_assert!(out.iter().all(|w| words.contains(w)));
        }

        #[test]
        fn swap_and_insertion_keep_and_add_words(seed in 0u64..10_000, n in 1usize..4) {
            let lex = Lexicon::embedded();
            let words = sentence();
            let mut rng = OpCtx::root(SampleKey::new(seed, 0, 0)).rng();
            let mut swapped = random_swap(&words, n, &mut rng);
            swapped.sort();
            let mut sorted = words.clone();
            sorted.sort();
            prop_assert_eq!(swapped, sorted);
            // as in the EDA reference, a round inserts nothing when 10 draws
            // find no word with a synonym; the originals keep their order
            let inserted = random_insertion(&words, n, &lex, &mut rng);
            prop_assert!(inserted.len() >= words.len() && inserted.len() <= words.len() + n);
            let mut rest = inserted.iter();
            for w in &words {
                prop_assert!(rest.any(|x| x == w), "original order lost");
            }
            // each new word is a synonym of a word already there (the
            // reference draws from the growing sentence, inserted words too)
            for x in inserted.iter().filter(|x| !words.contains(x)) {
                prop_assert!(inserted.iter().any(|w| w != x && related(&lex, w, x)), "{} is no synonym", x);
            }
        }
    }

    #[test]
    fn deletion_with_p_outside_the_unit_interval_is_a_typed_error() {
        let mut rng = OpCtx::root(SampleKey::new(0, 0, 0)).rng();
        for p in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
            for len in [0, 1, 5] {
                let words: Vec<String> = sentence().into_iter().take(len).collect();
                let err = random_deletion(&words, p, &mut rng).unwrap_err();
                assert!(
                    matches!(err, Error::Arg(ArgError { name: "p", .. })),
                    "{err}"
                );
            }
        }
    }

    #[test]
    fn eda_returns_num_aug_sentences_and_the_original() {
        let lex = Lexicon::embedded();
        let config = EdaConfig {
            num_aug: 4,
            ..Default::default()
        };
        let mut rng = OpCtx::root(SampleKey::new(3, 0, 0)).rng();
        let out = eda("The movie, was GOOD!", &lex, &config, &mut rng).unwrap();
        assert_eq!(out.len(), 5);
        assert_eq!(out[4], "the movie was good");
        assert!(matches!(
            eda(
                "x",
                &lex,
                &EdaConfig {
                    num_aug: 0,
                    ..config
                },
                &mut rng
            ),
            Err(Error::Arg(ArgError {
                name: "num_aug",
                ..
            }))
        ));
    }
}
