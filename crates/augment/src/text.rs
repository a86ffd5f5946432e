//! Text augmentation: a tokenizer, a synonym [`Lexicon`] (WordNet 3.0 or
//! the embedded fallback) and the EDA operations (Wei & Zou 2019).
//! [`Lexicon::morphy`] finds the base forms of inflected words as WordNet's
//! `morphy` does, so synonym replacement re-inflects ("movies" → "films");
//! [`aeda`] inserts punctuation (Karimi et al. 2021).

mod aeda;
mod eda;
mod lexicon;
mod morphy;
mod tokenize;
mod wordnet;

pub use aeda::{AEDA_PUNCTUATIONS, AedaConfig, aeda, insert_punctuation};
pub use eda::{
    EDA_STOP_WORDS, EdaConfig, eda, random_deletion, random_insertion, random_swap,
    synonym_replacement,
};
pub use lexicon::Lexicon;
pub use morphy::Pos;
pub use tokenize::{detokenize, tokenize};
pub use wordnet::{WNHOME_ENV, find_wordnet, wordnet_dirs};
