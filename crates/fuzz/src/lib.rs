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
//! Training checkpoints are the `checkpoint` target: a descent-train
//! checkpoint loaded into a small trainer (its seed is a real checkpoint
//! taken mid-accumulation).
//!
//! # Code map
//!
//! `targets.rs` holds one `fn(&[u8])` per parser and loader (IDX, digits CSV,
//! sentiment JSON and TSV, WordNet, PNG, safetensors model state, optimizer
//! and schedule state JSON, the HPO journal through `JournalStorage::open` and
//! `load`, training checkpoints); `registry.rs` lists them by name in
//! [`TARGETS`]; `mutate.rs` is the mutation engine. `fuzz/` at the repository
//! root is its own workspace, outside the main one; `fuzz/corpus/<target>/`
//! holds the committed seeds and `fuzz/regressions/<target>/` the inputs that
//! once crashed, which `tests/regressions.rs` replays with the seeds and a
//! short mutation pass.
//!
//! Invariant: no target panics on any input; a crash found becomes a file in
//! `fuzz/regressions/` and a fix.

pub mod mutate;
mod registry;
pub mod targets;

pub use registry::{TARGETS, Target, target};
