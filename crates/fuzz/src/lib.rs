//! Fuzz targets for every parser and loader of descent, each a
//! `fn(&[u8])` that must never panic, whatever the bytes.
//!
//! The same targets run two ways:
//! - coverage-guided, under libFuzzer through cargo-fuzz: `fuzz/` at the
//!   repository root holds one `fuzz_target!` per entry of [`TARGETS`] and a
//!   seed corpus per target (`fuzz/corpus/<name>/`);
//! - without a nightly toolchain, through [`mutate::run`], a deterministic
//!   mutation loop over the same seed corpus (`cargo xtask fuzz --engine
//!   mutate`, which CI runs).
//!
//! A panic is a finding: it becomes a regression input in
//! `fuzz/regressions/<name>/`, which `tests/regressions.rs` replays.
//!
//! Training checkpoints get their target here once `descent-train` exists:
//! add `("checkpoint", targets::checkpoint)` to [`TARGETS`], a
//! `fuzz/fuzz_targets/checkpoint.rs` and seeds in `fuzz/corpus/checkpoint/`.

pub mod mutate;
pub mod targets;

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
