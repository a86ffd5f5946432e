//! The table of targets, by name.

use crate::targets;

/// A fuzz target: parses or loads `data`, returning normally whatever it is.
pub type Target = fn(&[u8]);

/// Every target, by name (the name of its corpus folder and cargo-fuzz binary).
pub const TARGETS: &[(&str, Target)] = &[
    ("idx", targets::idx),
    ("digits_csv", targets::digits_csv),
    ("sentiment_json", targets::sentiment_json),
    ("sentiment_tsv", targets::sentiment_tsv),
    ("wordnet", targets::wordnet),
    ("png", targets::png),
    ("safetensors", targets::safetensors),
    ("optimizer_state", targets::optimizer_state),
    ("schedule_state", targets::schedule_state),
    ("hpo_journal", targets::hpo_journal),
    ("checkpoint", targets::checkpoint),
];

/// The target called `name`.
///
/// # Examples
///
/// ```
/// let idx = descent_fuzz::target("idx").unwrap();
/// idx(b"\x00\x00\x08\x01\x00\x00\x00\x01\x07");
/// assert!(descent_fuzz::target("nope").is_none());
/// ```
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|&(_, t)| t)
}
