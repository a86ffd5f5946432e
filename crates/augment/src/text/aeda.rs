//! AEDA (Karimi, Rossi & Prati 2021, "AEDA: An Easier Data Augmentation
//! Technique for Text Classification"): insert random punctuation marks
//! between the words, keeping every word and its order — following the
//! authors' reference code `aeda.py`.

use crate::ArgError;
use crate::{Error, Result};
use rand::Rng;
use rand::RngExt;
use rand::seq::index::sample;

/// The six marks AEDA inserts (the reference's `PUNCTUATIONS`).
pub const AEDA_PUNCTUATIONS: [&str; 6] = [".", ",", "!", "?", ";", ":"];

/// The AEDA hyperparameter; `Default` is the reference's (`PUNC_RATIO = 0.3`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AedaConfig {
    /// The insertion count of an `n`-word sentence is drawn uniformly from
    /// `1..=⌊punc_ratio·n + 1⌋` (capped at `n`). The paper describes this as
    /// "between 1 and one third of the sentence length"; its code uses 0.3.
    pub punc_ratio: f64,
}

impl Default for AedaConfig {
    fn default() -> Self {
        AedaConfig { punc_ratio: 0.3 }
    }
}

impl AedaConfig {
    /// Checks that `punc_ratio` is finite and in `[0, 1]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use descent_augment::text::AedaConfig;
    ///
    /// assert!(AedaConfig::default().validate().is_ok());
    /// assert!(AedaConfig { punc_ratio: -0.1 }.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        if (0.0..=1.0).contains(&self.punc_ratio) {
            Ok(())
        } else {
            Err(Error::Arg(ArgError::new(
                "punc_ratio",
                self.punc_ratio,
                "must be in [0, 1]",
            )))
        }
    }
}

/// Inserts punctuation before random words, as the reference's
/// `insert_punctuation_marks`: `q` uniform in `1..=⌊punc_ratio·n + 1⌋`
/// (at most `n`), then `q` distinct word positions, and before each a mark
/// drawn uniformly from [`AEDA_PUNCTUATIONS`]. The words keep their order;
/// the output has `n + q` tokens. An empty input stays empty. The same RNG
/// state gives the same output.
///
/// # Examples
///
/// ```
/// use descent_augment::text::{AEDA_PUNCTUATIONS, AedaConfig, insert_punctuation};
/// use descent_augment::{OpCtx, SampleKey};
///
/// let words: Vec<String> = "a truly great film".split(' ').map(String::from).collect();
/// let mut rng = OpCtx::root(SampleKey::new(0, 0, 0)).rng();
/// let out = insert_punctuation(&words, &AedaConfig::default(), &mut rng)?;
/// let kept: Vec<&String> = out.iter().filter(|t| !AEDA_PUNCTUATIONS.contains(&t.as_str())).collect();
/// assert_eq!(kept, words.iter().collect::<Vec<_>>());
/// assert!((5..=6).contains(&out.len())); // q in 1..=⌊0.3·4 + 1⌋ = 1..=2
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn insert_punctuation(
    words: &[String],
    config: &AedaConfig,
    rng: &mut impl Rng,
) -> Result<Vec<String>> {
    config.validate()?;
    let n = words.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    let hi = ((config.punc_ratio * n as f64 + 1.0) as usize).clamp(1, n);
    let q = rng.random_range(1..=hi);
    let mut before = vec![false; n];
    for j in sample(rng, n, q) {
        before[j] = true;
    }
    let mut out = Vec::with_capacity(n + q);
    for (word, mark) in words.iter().zip(before) {
        if mark {
            let p = AEDA_PUNCTUATIONS[rng.random_range(0..AEDA_PUNCTUATIONS.len())];
            out.push(p.to_owned());
        }
        out.push(word.clone());
    }
    Ok(out)
}

/// AEDA on one sentence: split on whitespace (case and punctuation kept,
/// as the reference splits on spaces), [`insert_punctuation`], joined with
/// single spaces.
///
/// For counter-based randomness, pass `OpCtx::root(SampleKey::new(seed, epoch, i)).rng()`.
///
/// # Examples
///
/// ```
/// use descent_augment::text::{AedaConfig, aeda};
/// use descent_augment::{OpCtx, SampleKey};
///
/// let rng = || OpCtx::root(SampleKey::new(7, 0, 0)).rng();
/// let a = aeda("A truly great film", &AedaConfig::default(), &mut rng())?;
/// assert_eq!(a, aeda("A truly great film", &AedaConfig::default(), &mut rng())?);
/// assert!(a.ends_with("film") && a.split(' ').count() > 4);
/// # Ok::<(), descent_augment::Error>(())
/// ```
pub fn aeda(sentence: &str, config: &AedaConfig, rng: &mut impl Rng) -> Result<String> {
    let words: Vec<String> = sentence.split_whitespace().map(str::to_owned).collect();
    Ok(insert_punctuation(&words, config, rng)?.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OpCtx, SampleKey};
    use proptest::prelude::*;

    fn words(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("w{i}")).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn keeps_every_word_in_order_and_inserts_one_to_the_bound(
            n in 0usize..40, seed in 0u64..10_000, ratio in 0.0f64..=1.0,
        ) {
            let words = words(n);
            let cfg = AedaConfig { punc_ratio: ratio };
            let mut rng = OpCtx::root(SampleKey::new(seed, 0, 0)).rng();
            let out = insert_punctuation(&words, &cfg, &mut rng).unwrap();
            let (marks, kept): (Vec<&String>, Vec<&String>) =
                out.iter().partition(|t| AEDA_PUNCTUATIONS.contains(&t.as_str()));
            prop_assert_eq!(kept, words.iter().collect::<Vec<_>>());
            let hi = ((ratio * n as f64 + 1.0) as usize).min(n);
            prop_assert!(n == 0 && marks.is_empty() || (1..=hi).contains(&marks.len()), "{} marks, n {}", marks.len(), n);
            // at most one mark before each word, never at the end
            for pair in out.windows(2) {
                prop_assert!(!(marks.contains(&&pair[0]) && marks.contains(&&pair[1])));
            }
            prop_assert!(out.last().is_none_or(|t| !AEDA_PUNCTUATIONS.contains(&t.as_str())));
            let mut again = OpCtx::root(SampleKey::new(seed, 0, 0)).rng();
            prop_assert_eq!(insert_punctuation(&words, &cfg, &mut again).unwrap(), out);
        }
    }

    #[test]
    fn counts_and_marks_are_uniform_over_seeds() {
        // 10 words, ratio 0.3: q uniform in 1..=4; six marks, each 1/6
        let words = words(10);
        let (mut q_hist, mut mark_hist) = ([0usize; 5], [0usize; 6]);
        let trials = 6000;
        for seed in 0..trials {
            let mut rng = OpCtx::root(SampleKey::new(seed, 0, 0)).rng();
            let out = insert_punctuation(&words, &AedaConfig::default(), &mut rng).unwrap();
            let marks: Vec<usize> = out
                .iter()
                .filter_map(|t| AEDA_PUNCTUATIONS.iter().position(|p| p == t))
                .collect();
            q_hist[marks.len()] += 1;
            for m in marks {
                mark_hist[m] += 1;
            }
        }
        assert_eq!(q_hist[0], 0);
        for (q, &count) in q_hist.iter().enumerate().skip(1) {
            let frac = count as f64 / trials as f64;
            assert!((frac - 0.25).abs() < 0.03, "q = {q}: {frac}");
        }
        let total: usize = mark_hist.iter().sum();
        for (m, &count) in mark_hist.iter().enumerate() {
            let frac = count as f64 / total as f64;
            assert!(
                (frac - 1.0 / 6.0).abs() < 0.02,
                "{}: {frac}",
                AEDA_PUNCTUATIONS[m]
            );
        }
    }

    #[test]
    fn a_bad_ratio_is_a_typed_error() {
        let mut rng = OpCtx::root(SampleKey::new(0, 0, 0)).rng();
        for r in [-0.5, 1.5, f64::NAN] {
            let err = aeda("a b c", &AedaConfig { punc_ratio: r }, &mut rng).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Arg(ArgError {
                        name: "punc_ratio",
                        ..
                    })
                ),
                "{err}"
            );
        }
        assert_eq!(aeda("  ", &AedaConfig::default(), &mut rng).unwrap(), "");
    }
}
