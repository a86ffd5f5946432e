//! Synonyms from the real WordNet 3.0 files, when they are present: when
//! they are not, the test says so on stderr as `SKIPPED`, and fails under
//! `DESCENT_REQUIRE_DATA=1` (`descent_testkit::data`).

use descent_augment::text::{Lexicon, Pos, find_wordnet, synonym_replacement};
use descent_augment::{OpCtx, SampleKey};

#[test]
fn real_wordnet_finds_known_synonym_pairs() {
    let dir = match find_wordnet(None) {
        Ok(dir) => dir,
        Err(err) => {
            descent_testkit::data::absent("real_wordnet_finds_known_synonym_pairs", &err);
            return;
        }
    };
    let wn = Lexicon::wordnet(&dir).expect("the WordNet files parse");
    // 117,659 synsets in WordNet 3.0 (PROVENANCE.md).
    assert_eq!(wn.n_synsets(), 117_659, "read from {}", dir.display());
    for (a, b) in [
        ("movie", "film"),
        ("happy", "glad"),
        ("big", "large"),
        ("car", "automobile"),
        ("quick", "fast"),
    ] {
        assert!(wn.are_synonyms(a, b), "{a} -> {b} in {}", dir.display());
    }
    let words: Vec<String> = "the movie made me happy"
        .split(' ')
        .map(str::to_owned)
        .collect();
    let mut rng = OpCtx::root(SampleKey::new(0, 0, 0)).rng();
    let out = synonym_replacement(&words, 2, &wn, &mut rng);
    assert_eq!(out.len(), words.len());
    // a replacement is a synonym of the word's base form, re-inflected as
    // the word is ("made" may become "pretended")
    let related = |a: &str, b: &str| {
        Pos::ALL.iter().any(|&pos| {
            let bases = wn.morphy(b, pos);
            wn.morphy(a, pos)
                .iter()
                .any(|x| bases.iter().any(|y| wn.are_synonyms(x, y)))
        })
    };
    for (a, b) in words.iter().zip(&out) {
        assert!(a == b || related(a, b), "{a} -> {b}");
    }
    // the four exception lists, less forms that are not single lowercase words
    assert!(wn.n_exceptions() > 5_000, "{}", wn.n_exceptions());
    assert_eq!(wn.lemmatize("made", Pos::Verb), "make");
}
