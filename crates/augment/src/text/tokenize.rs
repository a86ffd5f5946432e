//! A small tokenizer: lowercase, words as alphanumeric runs, every other
//! non-space character its own token.

/// Splits `text` into lowercase tokens; punctuation is kept apart.
///
/// # Examples
///
/// ```
/// use descent_augment::text::tokenize;
///
/// assert_eq!(tokenize("Hello, World!"), ["hello", ",", "world", "!"]);
/// ```
pub fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    for ch in text.chars() {
        if ch.is_alphanumeric() {
            word.extend(ch.to_lowercase());
            continue;
        }
        if !word.is_empty() {
            tokens.push(std::mem::take(&mut word));
        }
        if !ch.is_whitespace() {
            tokens.push(ch.to_lowercase().collect());
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

/// Joins tokens with single spaces.
///
/// # Examples
///
/// ```
/// use descent_augment::text::detokenize;
///
/// assert_eq!(detokenize(&["a".to_string(), "film".to_string()]), "a film");
/// ```
pub fn detokenize(tokens: &[String]) -> String {
    tokens.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuation_is_kept_apart_and_case_folded() {
        assert_eq!(
            tokenize("  It's a GREAT film...  "),
            ["it", "'", "s", "a", "great", "film", ".", ".", "."]
        );
        assert!(tokenize(" \t\n").is_empty());
    }
}
