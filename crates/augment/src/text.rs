//! Text augmentation: a tokenizer, a synonym [`Lexicon`] (WordNet 3.0 or
//! the embedded fallback) and the EDA operations (Wei & Zou 2019).

mod eda;
mod lexicon;
mod tokenize;
mod wordnet;

pub use eda::{
    EDA_STOP_WORDS, EdaConfig, eda, random_deletion, random_insertion, random_swap,
    synonym_replacement,
};
pub use lexicon::Lexicon;
pub use tokenize::{detokenize, tokenize};
pub use wordnet::{WNHOME_ENV, find_wordnet, wordnet_dirs};
