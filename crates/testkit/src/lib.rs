//! Dev-only helpers shared by descent's tests.
//!
//! - [`alloc`]: a per-thread counting global allocator (steady-state
//!   allocation tests).
//! - [`golden`]: loads the PyTorch reference files of `$DESCENT_GOLDEN_DIR`
//!   (default: the repository's `tests/golden/`) described in their
//!   `FORMAT.md`, and hands each parity test the cases it checks.
//! - [`data`]: what a real-data test does when its data set is absent
//!   (says so; fails under `DESCENT_REQUIRE_DATA=1`).
//! - [`Hyper`]: reads a case's `hyper` object by key and fails on a key no
//!   one read.
//! - [`torch`]: descent's optimizers and schedules built from a PyTorch
//!   class name and its `hyper` object.
//! - [`strategies`]: proptest strategies for matrices, including values kept
//!   away from kinks so finite differences are meaningful.
//! - [`panic_message`]: the message of an expected panic (no should-panic attributes here).
//! - [`exact_parallelism`], [`exact_thread_counts`]: thread counts that hold
//!   as asked on a busy test machine (the back-off turned off).
//! - [`assert_close`]: element-wise comparison with a relative tolerance and
//!   an absolute floor that names the first offending element.
//!
//! # Code map
//!
//! `golden.rs` (the directory: `$DESCENT_GOLDEN_DIR`, else the vendored
//! `tests/golden/` found from this crate's manifest) and `golden/routes.rs`
//! (`ROUTES`: which parity test checks each file kind and `fn` / `layer` /
//! `optimizer` / `scheduler` / `op` / `type` value; averaging.json by its
//! `type`, `averaged_model` and `update_bn` to `Harness::Averaging` and
//! `swalr` to the schedule test; optax's names to `Harness::Optax`);
//! `hyper.rs` (`Hyper`); `torch.rs` + `torch/{optim,schedule}.rs` (the
//! PyTorch-name builders shared by the optim, schedule and training parity
//! tests); `optax.rs` (the optax-name builders, for `parity_optax.rs`);
//! `compare.rs` (`assert_close`, `|got − want| ≤ rtol·|want| + atol`, the
//! absolute floor explicit per harness); `strategies.rs`, `data.rs`,
//! `alloc.rs`, `panics.rs`, `threads.rs`.
//!
//! It depends on `descent-optim` and `descent-schedule`, which dev-depend on
//! it: a cycle cargo allows for dev-dependencies, and their integration tests
//! link the same build.
//!
//! Invariant: a missing golden directory fails parity tests; they never pass
//! by reading nothing.
//! Invariant: a golden case of a kind, or with a `fn`, `layer`, `optimizer`,
//! `scheduler`, hyper key or hyper value no parity test reads, fails every
//! parity test; nothing is skipped.

pub mod alloc;
mod compare;
mod config;
pub mod data;
pub mod golden;
mod hyper;
pub mod optax;
mod panics;
pub mod strategies;
mod threads;
pub mod torch;

pub use compare::assert_close;
pub use hyper::Hyper;
pub use panics::{panic_message, payload_message};
pub use threads::{exact_parallelism, exact_thread_counts};

/// The README, whose example runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
