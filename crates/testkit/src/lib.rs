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
//! - [`assert_close`]: element-wise comparison with a relative tolerance and
//!   an absolute floor that names the first offending element.

pub mod alloc;
mod compare;
mod config;
pub mod data;
pub mod golden;
mod hyper;
pub mod optax;
mod panics;
pub mod strategies;
pub mod torch;

pub use compare::assert_close;
pub use hyper::Hyper;
pub use panics::{panic_message, payload_message};

/// The README, whose example runs as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
