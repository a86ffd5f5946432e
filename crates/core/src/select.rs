//! Selecting parameters by tag or name pattern: optimizer groups and masks,
//! penalties and constraints (one type, so `descent-regularize` need not
//! take it from `descent-optim`).

use crate::{ParamMeta, Tags};

/// Picks parameters by their metadata: tags, or a name pattern where `*`
/// matches any run of characters (`*.bias`, `block1.*`).
///
/// # Examples
///
/// ```
/// use descent_core::{ParamMeta, Tags};
/// use descent_core::Selector;
///
/// let meta = |name: &str, tags| ParamMeta { name: name.into(), tags, shape: (1, 1) };
/// let no_decay = Selector::tags(Tags::BIAS | Tags::NORM).or(Selector::name("*.embed"));
/// assert!(no_decay.matches(&meta("fc.bias", Tags::BIAS)));
/// assert!(no_decay.matches(&meta("tok.embed", Tags::WEIGHT)));
/// assert!(!no_decay.matches(&meta("fc.weight", Tags::WEIGHT)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// Every parameter.
    All,
    /// Parameters with at least one of these tags.
    Tags(Tags),
    /// Parameters whose dotted name matches this pattern.
    Name(String),
    /// Parameters the inner selector does not pick.
    Not(Box<Selector>),
    /// Parameters any of these selectors picks.
    Any(Vec<Selector>),
    /// Matrices: parameters with two or more rows (PyTorch's tensors of two
    /// or more dimensions; a one-row parameter is the store's layout of a
    /// 1-d tensor). Muon's group, with the rest going to AdamW.
    Matrices,
}

impl Selector {
    /// Parameters with at least one of `tags`.
    pub fn tags(tags: Tags) -> Selector {
        Selector::Tags(tags)
    }

    /// Parameters whose name matches `pattern` (`*` is a wildcard).
    pub fn name(pattern: impl Into<String>) -> Selector {
        Selector::Name(pattern.into())
    }

    /// The complement.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Selector {
        Selector::Not(Box::new(self))
    }

    /// The union with `other`.
    pub fn or(self, other: Selector) -> Selector {
        match self {
            Selector::Any(mut v) => {
                v.push(other);
                Selector::Any(v)
            }
            s => Selector::Any(vec![s, other]),
        }
    }

    /// True when this selector picks the parameter described by `meta`.
    pub fn matches(&self, meta: &ParamMeta) -> bool {
        match self {
            Selector::All => true,
            Selector::Tags(t) => meta.tags.intersects(*t),
            Selector::Name(p) => glob(p.as_bytes(), meta.name.as_bytes()),
            Selector::Not(s) => !s.matches(meta),
            Selector::Any(v) => v.iter().any(|s| s.matches(meta)),
            Selector::Matrices => meta.shape.0 >= 2,
        }
    }
}

/// Wildcard match where `*` matches any run of bytes (iterative, linear backtracking).
fn glob(pat: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pat.len() && pat[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pat.len() && pat[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::glob;
    use proptest::prelude::*;

    #[test]
    fn glob_matches_prefixes_suffixes_and_infixes() {
        assert!(glob(b"*.bias", b"block1.fc.bias"));
        assert!(glob(b"block1.*", b"block1.fc.weight"));
        assert!(glob(b"*fc*", b"block1.fc.weight"));
        assert!(!glob(b"*.bias", b"fc.bias_scale"));
        assert!(glob(b"fc.weight", b"fc.weight") && !glob(b"fc.weight", b"fc.weights"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn a_star_between_any_split_matches(s in "[a-c.]{0,12}", cut in 0usize..13) {
            let cut = cut.min(s.len());
            let pat = format!("{}*{}", &s[..cut], &s[cut..]);
            prop_assert!(glob(pat.as_bytes(), s.as_bytes()));
            prop_assert!(glob(b"*", s.as_bytes()));
        }
    }
}
