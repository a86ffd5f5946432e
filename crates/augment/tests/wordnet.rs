//! Synonyms from the real WordNet 3.0 files, when they are present: when
//! they are not, the test says so on stderr as `SKIPPED`, and fails under
//! `DESCENT_REQUIRE_DATA=1` (`descent_testkit::data`).

use descent_augment::text::{Lexicon, find_wordnet, synonym_replacement};
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
    for (a, b) in words.iter().zip(&out) {
        assert!(a == b || wn.are_synonyms(a, b), "{a} -> {b}");
    }
}
