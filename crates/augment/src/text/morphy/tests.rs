use super::*;
use crate::text::{find_wordnet, synonym_replacement};
use crate::{OpCtx, SampleKey};
use proptest::prelude::*;
use std::sync::OnceLock;

/// The full WordNet 3.0 when a copy is found (`../shared/datasets`, `$WNHOME`,
/// `/usr/share/wordnet`); the tests that need it say so when it is absent.
fn wordnet() -> Option<&'static Lexicon> {
    static WN: OnceLock<Option<Lexicon>> = OnceLock::new();
    WN.get_or_init(|| {
        let dir = find_wordnet(None).ok()?;
        Some(Lexicon::wordnet(&dir).expect("the WordNet copy found reads"))
    })
    .as_ref()
}

#[test]
fn regular_spelling_rules() {
    let cases = [
        ("city", Inflection::S, Some("cities")),
        ("day", Inflection::S, Some("days")),
        ("box", Inflection::S, Some("boxes")),
        ("church", Inflection::S, Some("churches")),
        ("film", Inflection::S, Some("films")),
        ("try", Inflection::Past, Some("tried")),
        ("play", Inflection::Past, Some("played")),
        ("operate", Inflection::Past, Some("operated")),
        ("halt", Inflection::Past, Some("halted")),
        ("make", Inflection::Ing, Some("making")),
        ("die", Inflection::Ing, Some("dying")),
        ("see", Inflection::Ing, Some("seeing")),
        ("go", Inflection::Ing, Some("going")),
        ("fast", Inflection::Er, Some("faster")),
        ("wide", Inflection::Est, Some("widest")),
        ("happy", Inflection::Er, Some("happier")),
        ("large", Inflection::Er, Some("larger")),
        ("beautiful", Inflection::Er, None),
        ("simple", Inflection::Er, None),
        ("grown", Inflection::Er, None),
    ];
    for (base, how, want) in cases {
        assert_eq!(regular(base, how).as_deref(), want, "{base} {how:?}");
    }
}

#[test]
fn embedded_lexicon_traces_inflections_to_lemmas() {
    let lex = Lexicon::embedded();
    assert!(lex.n_exceptions() > 200, "{}", lex.n_exceptions());
    assert_eq!(lex.morphy("movies", Pos::Noun), ["movie"]);
    assert_eq!(lex.morphy("movie", Pos::Noun), ["movie"]);
    assert_eq!(lex.morphy("children", Pos::Noun), ["child"]);
    assert_eq!(lex.morphy("ran", Pos::Verb), ["run"]);
    assert_eq!(lex.morphy("went", Pos::Verb), ["go"]);
    assert!(lex.morphy("movies", Pos::Verb).is_empty());
    assert!(lex.knows("movies") && lex.knows("ran") && !lex.knows("xyzzies"));
}

#[test]
fn inflected_words_find_re_inflected_synonyms_in_the_embedded_lexicon() {
    let lex = Lexicon::embedded();
    let films = lex.inflected_synonyms("movies");
    assert!(films.contains(&"films".to_owned()), "{films:?}");
    assert!(films.iter().all(|w| w.ends_with('s')), "{films:?}");
    let kids = lex.inflected_synonyms("kids");
    assert!(kids.contains(&"children".to_owned()), "{kids:?}");
    // a lemma keeps its own synonyms first, in sense order
    let movie: Vec<String> = lex
        .synonyms("movie")
        .into_iter()
        .map(String::from)
        .collect();
    assert!(lex.inflected_synonyms("movie").starts_with(&movie));
    // `ran`: run's verb synonyms in the past; `go` (went or gone?) is left out
    let ran = lex.inflected_synonyms("ran");
    assert!(!ran.is_empty());
    for w in &ran {
        assert!(
            lex.morphy(w, Pos::Verb)
                .iter()
                .any(|b| lex.are_synonyms(b, "run")),
            "{w}"
        );
        assert!(
            !["go", "went", "gone", "goed"].contains(&w.as_str()),
            "{ran:?}"
        );
    }
}

#[test]
fn a_long_run_of_suffixes_is_searched_in_polynomial_time() {
    // every round of the noun rules strips `s` or `es`: without
    // deduplication the candidates would double per round
    let lex = Lexicon::embedded();
    let word = "ses".repeat(60);
    // the rules strip it down until some prefix is a lemma, as NLTK would
    let found = lex.morphy(&word, Pos::Noun);
    assert!(
        found.iter().all(|b| lex.is_lemma(b, Pos::Noun)),
        "{found:?}"
    );
    lex.inflected_synonyms(&word);
}

#[test]
fn a_malformed_exception_line_names_file_and_line() {
    let mut lex = Lexicon::embedded();
    let err = lex
        .add_exceptions(Pos::Noun, "geese goose\nmice\n", Path::new("noun.exc"))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Malformed { line: 2, file, .. } if file == Path::new("noun.exc")),
        "{err}"
    );
}

/// NLTK's documented `WordNetLemmatizer` and `morphy` results on WordNet 3.0.
#[test]
fn morphy_and_lemmatize_match_nltk_on_wordnet() {
    let Some(wn) = wordnet() else {
        descent_testkit::data::absent(
            "morphy_and_lemmatize_match_nltk_on_wordnet",
            &"WordNet 3.0 not found",
        );
        return;
    };
    let lemmas = [
        ("dogs", Pos::Noun, "dog"),
        ("churches", Pos::Noun, "church"),
        ("aardwolves", Pos::Noun, "aardwolf"),
        ("abaci", Pos::Noun, "abacus"),
        ("hardrock", Pos::Noun, "hardrock"),
        ("geese", Pos::Noun, "goose"),
        ("better", Pos::Adj, "good"),
        ("running", Pos::Verb, "run"),
        ("fought", Pos::Verb, "fight"),
        ("stopped", Pos::Verb, "stop"),
        ("movies", Pos::Noun, "movie"),
    ];
    for (word, pos, want) in lemmas {
        assert_eq!(wn.lemmatize(word, pos), want, "{word} {pos:?}");
    }
    assert_eq!(wn.morphy("better", Pos::Adj), ["better", "good", "well"]);
    assert_eq!(wn.morphy("books", Pos::Verb), ["book"]);
    assert_eq!(wn.morphy("book", Pos::Noun), ["book"]);
    assert!(wn.morphy("hardrock", Pos::Noun).is_empty());
}

#[test]
fn wordnet_re_inflects_nouns_and_verbs() {
    let Some(wn) = wordnet() else {
        descent_testkit::data::absent(
            "wordnet_re_inflects_nouns_and_verbs",
            &"WordNet 3.0 not found",
        );
        return;
    };
    let has = |word: &str, syn: &str| wn.inflected_synonyms(word).iter().any(|w| w == syn);
    assert!(has("movies", "films"));
    assert!(has("ran", "operated"));
    assert!(has("stopped", "halted"));
    assert!(has("stopping", "halting"));
    assert!(has("stops", "halts"));
    assert!(has("children", "kids"));
    assert!(has("bigger", "larger"));
    assert!(!has("bigger", "bader") && !has("bigger", "growner"));
    let ran = wn.inflected_synonyms("ran");
    assert!(
        !ran.iter()
            .any(|w| ["went", "gone", "goed", "go"].contains(&w.as_str())),
        "{ran:?}"
    );
}

fn words() -> impl Strategy<Value = Vec<String>> {
    let vocab = [
        "the", "children", "watched", "movies", "and", "ran", "home", "kids", "stopped", "playing",
        "happier", "cities", "went", "quickly", "films", "bigger", "xyzzy", "showed",
    ];
    proptest::collection::vec(proptest::sample::select(vocab.to_vec()), 1..12)
        .prop_map(|v| v.into_iter().map(String::from).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn every_replaced_word_is_in_the_lexicon_or_the_input(words in words(), seed in 0u64..10_000, n in 1usize..6) {
        let embedded = Lexicon::embedded();
        let mut lexicons = vec![&embedded];
        lexicons.extend(wordnet());
        for lex in lexicons {
            let mut rng = OpCtx::root(SampleKey::new(seed, 0, 0)).rng();
            let out = synonym_replacement(&words, n, lex, &mut rng);
            prop_assert_eq!(out.len(), words.len());
            for w in &out {
                prop_assert!(words.contains(w) || lex.knows(w), "{} from {:?}", w, words);
            }
        }
    }
}
